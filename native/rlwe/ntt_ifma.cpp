#include "ntt_ifma.h"

#include <cstdlib>

#include "ntt_lanes.h"
#include "ntt_simd.h"

#ifdef HEFTY_SIMD_X86
// The NTT schedule's templates compile for AVX-512 F+DQ+IFMA in this file (only they: the region closes at once).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512ifma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512ifma")
#endif
#include "ntt_schedule.h"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace hefty::rlwe::ifma {

ShoupMul shoup52(u64 w, u64 q) {
  ShoupMul r;
  r.w = w;
  r.w_shoup = static_cast<u64>((static_cast<u128>(w) << 52) / q);
  return r;
}

#ifdef HEFTY_SIMD_X86

#define HEFTY_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

namespace {

// Shoup multiplication by w for x < 2^52: quotient = high half of x * w_shoup (one IFMA), then
// x * w - quotient * q, which is the true value in [0, 2q), from the low 64-bit products: on Zen 4 the NTTs ran
// 8% faster so than with the low halves as two more IFMAs. Exact for any x < 2^52, which is what lets the
// forward NTT run lazily on small primes.
struct Mul52 {
  __m512i q, one, one_shoup;
  HEFTY_IFMA explicit Mul52(u64 modulus)
      : q(_mm512_set1_epi64(static_cast<long long>(modulus))),
        one(_mm512_set1_epi64(1)),
        one_shoup(_mm512_set1_epi64(static_cast<long long>(shoup52(1, modulus).w_shoup))) {}
  HEFTY_IFMA __m512i operator()(__m512i x, __m512i w, __m512i w_shoup) const {
    const __m512i quotient = _mm512_madd52hi_epu64(_mm512_setzero_si512(), x, w_shoup);
    return _mm512_sub_epi64(_mm512_mullo_epi64(x, w), _mm512_mullo_epi64(quotient, q));
  }
  // x mod q in [0, q) for x < 2^52: a Shoup multiplication by 1, then one subtraction.
  HEFTY_IFMA __m512i canonical(__m512i x) const { return simd::reduce_once((*this)(x, one, one_shoup), q); }
};

// Whether the lazy forward NTT fits: values reach (4 + 2 log2 n) q (inputs below 4q, +2q per stage), which
// the multiplier must take (< 2^52). Random inputs stay far below that bound, so the tests cannot probe it.
bool lazy_fits(std::size_t n, u64 q) {
  u64 stages = 0;
  while ((std::size_t{1} << stages) < n) stages++;
  return (4 + 2 * stages) * q < (u64{1} << 52);
}

}  // namespace

bool available() {
  static const bool ok =
      simd::available() && std::getenv("HEFTY_NO_IFMA") == nullptr && __builtin_cpu_supports("avx512ifma");
  return ok;
}

HEFTY_IFMA void forward(u64* a, std::size_t n, const ShoupMul* roots, u64 q) {
  if (lazy_fits(n, q)) return simd::forward_ntt<true>(a, n, roots, q, Mul52(q));
  simd::forward_ntt<false>(a, n, roots, q, Mul52(q));
}

HEFTY_IFMA void inverse(u64* a, std::size_t n, const ShoupMul* inv_roots, u64 q, const ShoupMul& inv_n,
                        const ShoupMul& inv_n_last) {
  simd::inverse_ntt(a, n, inv_roots, q, inv_n, inv_n_last, Mul52(q));
}

#else

bool available() { return false; }
void forward(u64*, std::size_t, const ShoupMul*, u64) {}
void inverse(u64*, std::size_t, const ShoupMul*, u64, const ShoupMul&, const ShoupMul&) {}

#endif

}  // namespace hefty::rlwe::ifma
