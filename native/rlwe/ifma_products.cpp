#include "ifma_products.h"

#include "ntt_ifma.h"
#include "ntt_lanes.h"

namespace hefty::rlwe::ifma {

namespace {
// Products of residues below 2^50 are below 2^100, so their high 52-bit halves are below 2^48: fifteen of
// them plus the carries out of the low halves stay below 2^52, an IFMA input again.
constexpr std::size_t kMaxTerms = 15;
}  // namespace

bool products_fit(u64 q, std::size_t terms) { return q < kPrimeBound && terms <= kMaxTerms && available(); }

#ifdef HEFTY_SIMD_X86

#define HEFTY_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

using simd::reduce_once;

namespace {

// Reduces hi * 2^52 + lo (lo < 2^64, hi + lo / 2^52 < 2^52) to [0, q): both halves by Shoup multiplications
// with 52-bit quotients (hi by 2^52 mod q, the low 52 bits by 1), each in [0, 2q), then the sum once more.
struct SplitReducer {
  __m512i q, two_q, neg_q, mask, radix, radix_shoup, one_shoup;

  HEFTY_IFMA explicit SplitReducer(u64 modulus)
      : q(_mm512_set1_epi64(static_cast<long long>(modulus))),
        two_q(_mm512_set1_epi64(static_cast<long long>(2 * modulus))),
        neg_q(_mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - modulus))),
        mask(_mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - 1))) {
    const u64 r = (u64{1} << 52) % modulus;
    radix = _mm512_set1_epi64(static_cast<long long>(r));
    radix_shoup = _mm512_set1_epi64(static_cast<long long>(shoup52(r, modulus).w_shoup));
    one_shoup = _mm512_set1_epi64(static_cast<long long>(shoup52(1, modulus).w_shoup));
  }

  HEFTY_IFMA __m512i shoup(__m512i x, __m512i w, __m512i w_shoup) const {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i quotient = _mm512_madd52hi_epu64(zero, x, w_shoup);
    return _mm512_and_si512(_mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x, w), quotient, neg_q), mask);
  }

  HEFTY_IFMA __m512i operator()(__m512i hi, __m512i lo) const {
    hi = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
    lo = _mm512_and_si512(lo, mask);
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i sum = _mm512_add_epi64(shoup(hi, radix, radix_shoup), shoup(lo, one, one_shoup));
    return reduce_once(reduce_once(sum, two_q), q);
  }
};

HEFTY_IFMA inline __m512i lo52(__m512i acc, __m512i a, __m512i b) { return _mm512_madd52lo_epu64(acc, a, b); }
HEFTY_IFMA inline __m512i hi52(__m512i acc, __m512i a, __m512i b) { return _mm512_madd52hi_epu64(acc, a, b); }

}  // namespace

HEFTY_IFMA void multiply_rows(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m) {
  const SplitReducer reduce(m.q);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i);
    const __m512i y = _mm512_loadu_si512(b + i);
    _mm512_storeu_si512(out + i, reduce(hi52(zero, x, y), lo52(zero, x, y)));
  }
}

HEFTY_IFMA void multiply_add_rows(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m) {
  const SplitReducer reduce(m.q);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i);
    const __m512i y = _mm512_loadu_si512(b + i);
    // c < 2^50 joins the low half: below 2^53, which the reducer's carry step takes.
    _mm512_storeu_si512(out + i, reduce(hi52(zero, x, y), lo52(_mm512_loadu_si512(c + i), x, y)));
  }
}

HEFTY_IFMA void tensor_rows(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2,
                            std::size_t n, const Mod& m) {
  const SplitReducer reduce(m.q);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x0 = _mm512_loadu_si512(a0 + i);
    const __m512i x1 = _mm512_loadu_si512(a1 + i);
    const __m512i y0 = _mm512_loadu_si512(b0 + i);
    const __m512i y1 = _mm512_loadu_si512(b1 + i);
    _mm512_storeu_si512(c0 + i, reduce(hi52(zero, x0, y0), lo52(zero, x0, y0)));
    const __m512i cross_hi = hi52(hi52(zero, x0, y1), x1, y0);
    const __m512i cross_lo = lo52(lo52(zero, x0, y1), x1, y0);
    _mm512_storeu_si512(c1 + i, reduce(cross_hi, cross_lo));
    _mm512_storeu_si512(c2 + i, reduce(hi52(zero, x1, y1), lo52(zero, x1, y1)));
  }
}

HEFTY_IFMA void key_products(const u64* const* x, const u64* const* key0, const u64* const* key1, std::size_t count,
                             u64* out0, u64* out1, std::size_t n, const Mod& m) {
  const SplitReducer reduce(m.q);
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i hi0 = _mm512_setzero_si512(), lo0 = hi0, hi1 = hi0, lo1 = hi0;
    for (std::size_t j = 0; j < count; j++) {
      // The key streams from memory (15 MB at N=16384), one row per term: many streams at once, which the
      // hardware prefetcher alone does not keep up with.
      _mm_prefetch(reinterpret_cast<const char*>(key0[j] + i + 128), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(key1[j] + i + 128), _MM_HINT_T0);
      const __m512i v = _mm512_loadu_si512(x[j] + i);
      const __m512i k0 = _mm512_loadu_si512(key0[j] + i);
      const __m512i k1 = _mm512_loadu_si512(key1[j] + i);
      hi0 = hi52(hi0, v, k0);
      lo0 = lo52(lo0, v, k0);
      hi1 = hi52(hi1, v, k1);
      lo1 = lo52(lo1, v, k1);
    }
    _mm512_storeu_si512(out0 + i, reduce(hi0, lo0));
    _mm512_storeu_si512(out1 + i, reduce(hi1, lo1));
  }
}

#else

void multiply_rows(const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void multiply_add_rows(const u64*, const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void tensor_rows(const u64*, const u64*, const u64*, const u64*, u64*, u64*, u64*, std::size_t, const Mod&) {}
void key_products(const u64* const*, const u64* const*, const u64* const*, std::size_t, u64*, u64*, std::size_t,
                  const Mod&) {}

#endif

}  // namespace hefty::rlwe::ifma
