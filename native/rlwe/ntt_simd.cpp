#include "ntt_simd.h"

#include <cstdlib>

#include "ifma_products.h"
#include "ntt_lanes.h"

#ifdef HEFTY_SIMD_X86
// The NTT schedule's templates compile for AVX-512 F+DQ in this file (only they: the region closes at once).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq")
#endif
#include "ntt_schedule.h"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace hefty::rlwe::simd {

#ifdef HEFTY_SIMD_X86

bool available() {
  static const bool ok = std::getenv("HEFTY_NO_SIMD") == nullptr && __builtin_cpu_supports("avx512f") &&
                         __builtin_cpu_supports("avx512dq");
  return ok;
}

namespace {
// The 64-bit Shoup multiplication as the schedule's policy.
struct Mul64 {
  __m512i q;
  HEFTY_AVX512 __m512i operator()(__m512i x, __m512i w, __m512i w_shoup) const { return shoup_lazy(x, w, w_shoup, q); }
};
}  // namespace

HEFTY_AVX512 void forward(u64* a, std::size_t n, const ShoupMul* roots, u64 q) {
  forward_ntt(a, n, roots, q, Mul64{broadcast(q)});
}

HEFTY_AVX512 void inverse(u64* a, std::size_t n, const ShoupMul* inv_roots, u64 q, const ShoupMul& inv_n,
                          const ShoupMul& inv_n_last) {
  inverse_ntt(a, n, inv_roots, q, inv_n, inv_n_last, Mul64{broadcast(q)});
}

HEFTY_AVX512 void round_drop_prepare(const u64* last_shifted, u64* scratch, std::size_t n, const Mod& m, u64 half,
                                     bool reduce) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(m.q));
  const __m512i vhalf = _mm512_set1_epi64(static_cast<long long>(half));
  const __m512i ratio = _mm512_set1_epi64(static_cast<long long>(m.ratio_hi));
  for (std::size_t j = 0; j < n; j += 8) {
    __m512i x = _mm512_loadu_si512(last_shifted + j);
    if (reduce) x = reduce_once(_mm512_sub_epi64(x, _mm512_mullo_epi64(mul_hi(x, ratio), vq)), vq);
    // (x - half) mod q = x + q - half, reduced once.
    _mm512_storeu_si512(scratch + j, reduce_once(_mm512_sub_epi64(_mm512_add_epi64(x, vq), vhalf), vq));
  }
}

HEFTY_AVX512 void round_drop_finish(const u64* in, const u64* scratch, const u64* base, u64* out, std::size_t n, u64 q,
                                    const ShoupMul& inv) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i w = _mm512_set1_epi64(static_cast<long long>(inv.w));
  const __m512i ws = _mm512_set1_epi64(static_cast<long long>(inv.w_shoup));
  for (std::size_t j = 0; j < n; j += 8) {
    const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(in + j), vq), _mm512_loadu_si512(scratch + j));
    __m512i r = reduce_once(shoup_lazy(d, w, ws, vq), vq);
    if (base != nullptr) r = reduce_once(_mm512_add_epi64(r, _mm512_loadu_si512(base + j)), vq);
    _mm512_storeu_si512(out + j, r);
  }
}

namespace {

// Lane-wise Mod::reduce_product(a * b) for residues a, b: Barrett with mu = floor(2^(2k) / q).
struct ProductReducer {
  __m512i q, mu;
  __m128i shift_t_lo, shift_t_hi, shift_e_lo, shift_e_hi;

  HEFTY_AVX512 explicit ProductReducer(const Mod& m)
      : q(_mm512_set1_epi64(static_cast<long long>(m.q))),
        mu(_mm512_set1_epi64(static_cast<long long>(m.mu))),
        shift_t_lo(_mm_set_epi64x(0, m.bits - 1)),
        shift_t_hi(_mm_set_epi64x(0, 65 - m.bits)),
        shift_e_lo(_mm_set_epi64x(0, m.bits + 1)),
        shift_e_hi(_mm_set_epi64x(0, 63 - m.bits)) {}

  HEFTY_AVX512 __m512i operator()(__m512i a, __m512i b) const {
    const __m512i lo = _mm512_mullo_epi64(a, b);
    const __m512i hi = mul_hi(a, b);
    const __m512i t = _mm512_or_si512(_mm512_srl_epi64(lo, shift_t_lo), _mm512_sll_epi64(hi, shift_t_hi));
    const __m512i e_lo = _mm512_mullo_epi64(t, mu);
    const __m512i e_hi = mul_hi(t, mu);
    const __m512i estimate = _mm512_or_si512(_mm512_srl_epi64(e_lo, shift_e_lo), _mm512_sll_epi64(e_hi, shift_e_hi));
    const __m512i r = _mm512_sub_epi64(lo, _mm512_mullo_epi64(estimate, q));
    return reduce_once(reduce_once(r, q), q);
  }

  // (a1 b1 + a2 b2) mod q: the 128-bit sum (< 2q^2) is reduced once. The same Barrett estimate is then at
  // most 3 short, so the remainder is below 4q.
  HEFTY_AVX512 __m512i sum_of_two(__m512i a1, __m512i b1, __m512i a2, __m512i b2) const {
    const __m512i lo1 = _mm512_mullo_epi64(a1, b1);
    const __m512i lo2 = _mm512_mullo_epi64(a2, b2);
    const __m512i lo = _mm512_add_epi64(lo1, lo2);
    const __mmask8 carry = _mm512_cmplt_epu64_mask(lo, lo1);
    const __m512i hi_sum = _mm512_add_epi64(mul_hi(a1, b1), mul_hi(a2, b2));
    const __m512i hi = _mm512_mask_add_epi64(hi_sum, carry, hi_sum, _mm512_set1_epi64(1));
    const __m512i t = _mm512_or_si512(_mm512_srl_epi64(lo, shift_t_lo), _mm512_sll_epi64(hi, shift_t_hi));
    const __m512i e_lo = _mm512_mullo_epi64(t, mu);
    const __m512i e_hi = mul_hi(t, mu);
    const __m512i estimate = _mm512_or_si512(_mm512_srl_epi64(e_lo, shift_e_lo), _mm512_sll_epi64(e_hi, shift_e_hi));
    const __m512i r = _mm512_sub_epi64(lo, _mm512_mullo_epi64(estimate, q));
    return reduce_once(reduce_once(r, _mm512_add_epi64(q, q)), q);
  }
};

}  // namespace

HEFTY_AVX512 void multiply_rows(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m) {
  if (ifma::products_fit(m.q)) return ifma::multiply_rows(a, b, out, n, m);
  const ProductReducer reduce(m);
  for (std::size_t i = 0; i < n; i += 8) {
    _mm512_storeu_si512(out + i, reduce(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i)));
  }
}

HEFTY_AVX512 void multiply_add_rows(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m) {
  if (ifma::products_fit(m.q)) return ifma::multiply_add_rows(a, b, c, out, n, m);
  const ProductReducer reduce(m);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i product = reduce(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    _mm512_storeu_si512(out + i, reduce_once(_mm512_add_epi64(product, _mm512_loadu_si512(c + i)), reduce.q));
  }
}

HEFTY_AVX512 void add_rows(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i vq = broadcast(q);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i sum = _mm512_add_epi64(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    _mm512_storeu_si512(out + i, reduce_once(sum, vq));
  }
}

HEFTY_AVX512 void sub_rows(const u64* a, const u64* b, u64* out, std::size_t n, u64 q) {
  const __m512i vq = broadcast(q);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i difference =
        _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(a + i), vq), _mm512_loadu_si512(b + i));
    _mm512_storeu_si512(out + i, reduce_once(difference, vq));
  }
}

HEFTY_AVX512 void negate_rows(const u64* a, u64* out, std::size_t n, u64 q) {
  const __m512i vq = broadcast(q);
  for (std::size_t i = 0; i < n; i += 8) {
    // q - x, reduced once: 0 stays 0.
    _mm512_storeu_si512(out + i, reduce_once(_mm512_sub_epi64(vq, _mm512_loadu_si512(a + i)), vq));
  }
}

HEFTY_AVX512 void tensor_rows(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2,
                              std::size_t n, const Mod& m) {
  if (ifma::products_fit(m.q, 2)) return ifma::tensor_rows(a0, a1, b0, b1, c0, c1, c2, n, m);
  const ProductReducer reduce(m);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x0 = _mm512_loadu_si512(a0 + i);
    const __m512i x1 = _mm512_loadu_si512(a1 + i);
    const __m512i y0 = _mm512_loadu_si512(b0 + i);
    const __m512i y1 = _mm512_loadu_si512(b1 + i);
    _mm512_storeu_si512(c0 + i, reduce(x0, y0));
    _mm512_storeu_si512(c1 + i, reduce_once(_mm512_add_epi64(reduce(x0, y1), reduce(x1, y0)), reduce.q));
    _mm512_storeu_si512(c2 + i, reduce(x1, y1));
  }
}

HEFTY_AVX512 void key_products(const u64* const* x, const u64* const* key0, const u64* const* key1, std::size_t count,
                               u64* out0, u64* out1, std::size_t n, const Mod& m) {
  if (ifma::products_fit(m.q, count)) return ifma::key_products(x, key0, key1, count, out0, out1, n, m);
  if (ifma::wide_products_fit(m.q, count)) return ifma::key_products_wide(x, key0, key1, count, out0, out1, n, m);
  const ProductReducer reduce(m);
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i acc0 = _mm512_setzero_si512();
    __m512i acc1 = _mm512_setzero_si512();
    std::size_t j = 0;
    for (; j + 1 < count; j += 2) {
      // Prefetch the key rows (see ifma_products.cpp).
      for (std::size_t t = j; t < j + 2; t++) {
        _mm_prefetch(reinterpret_cast<const char*>(key0[t] + i + 128), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(key1[t] + i + 128), _MM_HINT_T0);
      }
      const __m512i v1 = _mm512_loadu_si512(x[j] + i);
      const __m512i v2 = _mm512_loadu_si512(x[j + 1] + i);
      const __m512i p0 = reduce.sum_of_two(v1, _mm512_loadu_si512(key0[j] + i), v2, _mm512_loadu_si512(key0[j + 1] + i));
      const __m512i p1 = reduce.sum_of_two(v1, _mm512_loadu_si512(key1[j] + i), v2, _mm512_loadu_si512(key1[j + 1] + i));
      acc0 = reduce_once(_mm512_add_epi64(acc0, p0), reduce.q);
      acc1 = reduce_once(_mm512_add_epi64(acc1, p1), reduce.q);
    }
    if (j < count) {
      const __m512i v = _mm512_loadu_si512(x[j] + i);
      acc0 = reduce_once(_mm512_add_epi64(acc0, reduce(v, _mm512_loadu_si512(key0[j] + i))), reduce.q);
      acc1 = reduce_once(_mm512_add_epi64(acc1, reduce(v, _mm512_loadu_si512(key1[j] + i))), reduce.q);
    }
    _mm512_storeu_si512(out0 + i, acc0);
    _mm512_storeu_si512(out1 + i, acc1);
  }
}

HEFTY_AVX512 void reduce_row(const u64* src, u64* dst, std::size_t n, const Mod& m) {
  if (ifma::products_fit(m.q)) return ifma::reduce_row(src, dst, n, m);
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(m.q));
  const __m512i ratio = _mm512_set1_epi64(static_cast<long long>(m.ratio_hi));
  for (std::size_t j = 0; j < n; j += 8) {
    const __m512i x = _mm512_loadu_si512(src + j);
    _mm512_storeu_si512(dst + j, reduce_once(_mm512_sub_epi64(x, _mm512_mullo_epi64(mul_hi(x, ratio), vq)), vq));
  }
}

HEFTY_AVX512 void reduce_signed_magnitudes(const u64* magnitude, const double* sign_source, u64* dst, std::size_t n,
                                           const Mod& m) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(m.q));
  const __m512i ratio = _mm512_set1_epi64(static_cast<long long>(m.ratio_hi));
  for (std::size_t j = 0; j < n; j += 8) {
    const __m512i x = _mm512_loadu_si512(magnitude + j);
    const __m512i r = reduce_once(_mm512_sub_epi64(x, _mm512_mullo_epi64(mul_hi(x, ratio), vq)), vq);
    const __mmask8 negative = _mm512_movepi64_mask(_mm512_castpd_si512(_mm512_loadu_pd(sign_source + j)));
    _mm512_storeu_si512(dst + j, _mm512_mask_blend_epi64(negative, r, reduce_once(_mm512_sub_epi64(vq, r), vq)));
  }
}

HEFTY_AVX512 void permute_row(const u64* src, const std::uint32_t* table, u64* dst, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + i));
    _mm512_storeu_si512(dst + i, _mm512_i32gather_epi64(index, reinterpret_cast<const long long*>(src), 8));
  }
}

#else

bool available() { return false; }
void reduce_row(const u64*, u64*, std::size_t, const Mod&) {}
void reduce_signed_magnitudes(const u64*, const double*, u64*, std::size_t, const Mod&) {}
void permute_row(const u64*, const std::uint32_t*, u64*, std::size_t) {}
void key_products(const u64* const*, const u64* const*, const u64* const*, std::size_t, u64*, u64*, std::size_t,
                  const Mod&) {}
void multiply_rows(const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void tensor_rows(const u64*, const u64*, const u64*, const u64*, u64*, u64*, u64*, std::size_t, const Mod&) {}
void multiply_add_rows(const u64*, const u64*, const u64*, u64*, std::size_t, const Mod&) {}
void add_rows(const u64*, const u64*, u64*, std::size_t, u64) {}
void sub_rows(const u64*, const u64*, u64*, std::size_t, u64) {}
void negate_rows(const u64*, u64*, std::size_t, u64) {}
void round_drop_prepare(const u64*, u64*, std::size_t, const Mod&, u64, bool) {}
void round_drop_finish(const u64*, const u64*, const u64*, u64*, std::size_t, u64, const ShoupMul&) {}
void forward(u64*, std::size_t, const ShoupMul*, u64) {}
void inverse(u64*, std::size_t, const ShoupMul*, u64, const ShoupMul&, const ShoupMul&) {}

#endif

}  // namespace hefty::rlwe::simd
