#include "ifma_products.h"

#include "ntt_ifma.h"
#include "ntt_lanes.h"

namespace hefty::rlwe::ifma {

namespace {
// Products of residues below 2^50 are below 2^100, so their high 52-bit halves are below 2^48: fifteen of
// them plus the carries out of the low halves stay below 2^52, an IFMA input again.
constexpr std::size_t kMaxTerms = 15;
// Wide products: residues below 2^61 split into 52-bit low and 9-bit high limbs. Each term adds under 3 * 2^52 to
// the middle limb's 64-bit lanes, so 1024 terms stay far from overflow (L is at most 63 in SEAL's parameters).
constexpr u64 kWidePrimeBound = u64{1} << 61;
constexpr std::size_t kMaxWideTerms = 1024;
}  // namespace

bool products_fit(u64 q, std::size_t terms) { return q < kPrimeBound && terms <= kMaxTerms && available(); }

bool wide_products_fit(u64 q, std::size_t terms) { return q < kWidePrimeBound && terms <= kMaxWideTerms && available(); }

#ifdef HEFTY_SIMD_X86

#define HEFTY_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

using simd::reduce_once;
using simd::shoup_lazy;

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

// Reduces L0 + 2^52 L1 + 2^104 L2 (any 64-bit limbs) to [0, q) for q < 2^61: 64-bit Shoup multiplications of
// the limbs by 1, 2^52 and 2^104 mod q, each in [0, 2q), then their sum (below 6q < 2^64) three times.
struct WideReducer {
  __m512i q, two_q, four_q, one_w, one_s, radix_w, radix_s, radix2_w, radix2_s;

  HEFTY_IFMA explicit WideReducer(const Mod& m)
      : q(_mm512_set1_epi64(static_cast<long long>(m.q))),
        two_q(_mm512_set1_epi64(static_cast<long long>(2 * m.q))),
        four_q(_mm512_set1_epi64(static_cast<long long>(4 * m.q))) {
    const u64 r = m.reduce(u64{1} << 52);
    const ShoupMul one(1, m.q), radix(r, m.q), radix2(m.mul(r, r), m.q);
    one_w = _mm512_set1_epi64(1);
    one_s = _mm512_set1_epi64(static_cast<long long>(one.w_shoup));
    radix_w = _mm512_set1_epi64(static_cast<long long>(radix.w));
    radix_s = _mm512_set1_epi64(static_cast<long long>(radix.w_shoup));
    radix2_w = _mm512_set1_epi64(static_cast<long long>(radix2.w));
    radix2_s = _mm512_set1_epi64(static_cast<long long>(radix2.w_shoup));
  }

  HEFTY_IFMA __m512i operator()(__m512i l0, __m512i l1, __m512i l2) const {
    const __m512i sum = _mm512_add_epi64(
        _mm512_add_epi64(shoup_lazy(l0, one_w, one_s, q), shoup_lazy(l1, radix_w, radix_s, q)),
        shoup_lazy(l2, radix2_w, radix2_s, q));
    return reduce_once(reduce_once(reduce_once(sum, four_q), two_q), q);
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

HEFTY_IFMA void reduce_row(const u64* x, u64* out, std::size_t n, const Mod& m) {
  const SplitReducer reduce(m.q);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += 8) _mm512_storeu_si512(out + i, reduce(zero, _mm512_loadu_si512(x + i)));
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

HEFTY_IFMA void key_products_wide(const u64* const* x, const u64* const* key0, const u64* const* key1,
                                  std::size_t count, u64* out0, u64* out1, std::size_t n, const Mod& m) {
  // Σ x·k = L0 + 2^52 L1 + 2^104 L2 with x = x_lo + 2^52 x_hi, k = k_lo + 2^52 k_hi (lo < 2^52, hi < 2^9):
  // L0 += lo(x_lo k_lo); L1 += hi(x_lo k_lo) + lo(x_lo k_hi) + lo(x_hi k_lo); L2 += hi(x_lo k_hi) + hi(x_hi k_lo)
  // + x_hi k_hi (below 2^18, exact in the low half).
  const WideReducer reduce(m);
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
    for (std::size_t j = 0; j < count; j++) {
      _mm_prefetch(reinterpret_cast<const char*>(key0[j] + i + 128), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(key1[j] + i + 128), _MM_HINT_T0);
      const __m512i v = _mm512_loadu_si512(x[j] + i);
      const __m512i v_hi = _mm512_srli_epi64(v, 52);
      const __m512i k0 = _mm512_loadu_si512(key0[j] + i);
      const __m512i k1 = _mm512_loadu_si512(key1[j] + i);
      const __m512i k0_hi = _mm512_srli_epi64(k0, 52);
      const __m512i k1_hi = _mm512_srli_epi64(k1, 52);
      // IFMA reads bits 0..51 of its inputs, so v, k0 and k1 serve as their own low limbs.
      a0 = lo52(a0, v, k0);
      a1 = lo52(lo52(hi52(a1, v, k0), v, k0_hi), v_hi, k0);
      a2 = lo52(hi52(hi52(a2, v, k0_hi), v_hi, k0), v_hi, k0_hi);
      b0 = lo52(b0, v, k1);
      b1 = lo52(lo52(hi52(b1, v, k1), v, k1_hi), v_hi, k1);
      b2 = lo52(hi52(hi52(b2, v, k1_hi), v_hi, k1), v_hi, k1_hi);
    }
    _mm512_storeu_si512(out0 + i, reduce(a0, a1, a2));
    _mm512_storeu_si512(out1 + i, reduce(b0, b1, b2));
  }
}

#else

void multiply_rows(const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void reduce_row(const u64*, u64*, std::size_t, const Mod&) {}
void multiply_add_rows(const u64*, const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void tensor_rows(const u64*, const u64*, const u64*, const u64*, u64*, u64*, u64*, std::size_t, const Mod&) {}
void key_products(const u64* const*, const u64* const*, const u64* const*, std::size_t, u64*, u64*, std::size_t,
                  const Mod&) {}
void key_products_wide(const u64* const*, const u64* const*, const u64* const*, std::size_t, u64*, u64*, std::size_t,
                       const Mod&) {}

#endif

}  // namespace hefty::rlwe::ifma
