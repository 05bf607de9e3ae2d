// AVX-512 lane helpers shared by the vector kernels (the NTTs, the product kernels, BFV's base conversions):
// internal to those files.
#pragma once
#include <cstddef>

#include "modarith.h"

#if defined(__x86_64__) && defined(__GNUC__)
#ifndef __clang__
// GCC's AVX-512 min/max intrinsics pass an undefined mask-source vector, which -Wmaybe-uninitialized reports.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define HEFTY_SIMD_X86 1
#define HEFTY_AVX512 __attribute__((target("avx512f,avx512dq")))
#endif

#ifdef HEFTY_SIMD_X86
namespace hefty::rlwe::simd {
namespace {

// x - bound if x >= bound (unsigned): the wrapped difference is larger than x exactly when x < bound.
HEFTY_AVX512 inline __m512i reduce_once(__m512i x, __m512i bound) { return _mm512_min_epu64(x, _mm512_sub_epi64(x, bound)); }

// High 64 bits of the 128-bit products of unsigned 64-bit lanes, from four 32x32 -> 64 products.
HEFTY_AVX512 inline __m512i mul_hi(__m512i a, __m512i b) {
  const __m512i lo_mask = _mm512_set1_epi64(0xffffffff);
  const __m512i a_hi = _mm512_srli_epi64(a, 32);
  const __m512i b_hi = _mm512_srli_epi64(b, 32);
  const __m512i ll = _mm512_mul_epu32(a, b);
  const __m512i lh = _mm512_mul_epu32(a, b_hi);
  const __m512i hl = _mm512_mul_epu32(a_hi, b);
  const __m512i hh = _mm512_mul_epu32(a_hi, b_hi);
  const __m512i mid = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, lo_mask)),
                                       _mm512_and_si512(hl, lo_mask));
  return _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
                          _mm512_add_epi64(_mm512_srli_epi64(hl, 32), _mm512_srli_epi64(mid, 32)));
}

// x * w mod q in [0, 4q) (Shoup) for any 64-bit x, lane-wise. The quotient floor(x * w_shoup / 2^64) is
// estimated from the three high 32x32 partial products only: the dropped low terms carry at most 2 into the
// high word, so the remainder x * w - estimate * q lies in [0, 4q). That is five operations fewer than the
// exact high product; needs 4q < 2^64.
HEFTY_AVX512 inline __m512i shoup_lazy_4q(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
  const __m512i x_hi = _mm512_srli_epi64(x, 32);
  const __m512i ws_hi = _mm512_srli_epi64(w_shoup, 32);
  const __m512i lh = _mm512_mul_epu32(x, ws_hi);
  const __m512i hl = _mm512_mul_epu32(x_hi, w_shoup);
  const __m512i hh = _mm512_mul_epu32(x_hi, ws_hi);
  const __m512i estimate =
      _mm512_add_epi64(hh, _mm512_add_epi64(_mm512_srli_epi64(lh, 32), _mm512_srli_epi64(hl, 32)));
  return _mm512_sub_epi64(_mm512_mullo_epi64(x, w), _mm512_mullo_epi64(estimate, q));
}

// The same in [0, 2q): one conditional subtraction of 2q.
HEFTY_AVX512 inline __m512i shoup_lazy(__m512i x, __m512i w, __m512i w_shoup, __m512i q) {
  return reduce_once(shoup_lazy_4q(x, w, w_shoup, q), _mm512_add_epi64(q, q));
}

struct TailStage {
  __m512i x_idx, y_idx, back_idx, w_idx, ws_idx;
  std::size_t roots_per_block;
};

// Lane maps for a 16-word block at gap 4, 2 and 1: where the x and y operands sit, how results go back, and
// how the block's roots ({w, w_shoup} pairs) spread over the lanes.
HEFTY_AVX512 inline void tail_stages(TailStage (&out)[3]) {
  out[0] = {_mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
            _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2),
            _mm512_setr_epi64(1, 1, 1, 1, 3, 3, 3, 3), 2};
  out[1] = {_mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15),
            _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), _mm512_setr_epi64(0, 0, 2, 2, 4, 4, 6, 6),
            _mm512_setr_epi64(1, 1, 3, 3, 5, 5, 7, 7), 4};
  out[2] = {_mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15),
            _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14),
            _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), 8};
}

// The roots of one block spread over the lanes.
HEFTY_AVX512 inline void load_roots(const u64* r, const TailStage& st, __m512i& w, __m512i& ws) {
  if (st.roots_per_block == 8) {
    const __m512i r0 = _mm512_loadu_si512(r);
    const __m512i r1 = _mm512_loadu_si512(r + 8);
    w = _mm512_permutex2var_epi64(r0, st.w_idx, r1);
    ws = _mm512_permutex2var_epi64(r0, st.ws_idx, r1);
  } else {
    const __m512i r0 = _mm512_maskz_loadu_epi64(st.roots_per_block == 4 ? 0xFF : 0x0F, r);
    w = _mm512_permutexvar_epi64(st.w_idx, r0);
    ws = _mm512_permutexvar_epi64(st.ws_idx, r0);
  }
}

}  // namespace
}  // namespace hefty::rlwe::simd
#endif
