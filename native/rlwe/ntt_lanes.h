// AVX-512 lane helpers shared by the NTT kernels (ntt_simd.cpp, ntt_ifma.cpp): internal to those files.
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
