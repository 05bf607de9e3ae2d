// The AVX-512 NTT schedule shared by the 64-bit (ntt_simd.cpp) and IFMA (ntt_ifma.cpp) kernels, generic in the
// Shoup multiplication `mul(x, w, w_shoup)` -> [0, 2q) for x < 4q. Stages whose butterfly groups span more than
// an L1-sized block are full passes over the array; after that each block runs all its remaining stages while
// it sits in L1, so the array crosses L2 three times or so instead of once per stage.
// The forward NTT has a lazy form for multipliers that take much larger inputs (IFMA's 52-bit Shoup on small
// primes): no butterfly reduces its x operand, so values grow by 2q per stage, and the last stage reduces them
// with `mul.canonical(x)` -> [0, q). The caller checks that (4 + 2 log2 n) q fits the multiplier's input.
// Include only inside an AVX-512 target region (see the includers).
#pragma once
#include <cstddef>

#include "ntt_lanes.h"

#ifdef HEFTY_SIMD_X86
namespace hefty::rlwe::simd {
namespace {

constexpr std::size_t kBlockWords = 2048;  // 16 KB: fits L1 next to the roots and the other operand

inline __m512i broadcast(u64 x) { return _mm512_set1_epi64(static_cast<long long>(x)); }

// Harvey butterflies (values in [0, 4q), or growing by 2q when Lazy) for `groups` groups of width 2 * gap >= 16
// starting at `a`, group g using roots[g].
template <bool Lazy, class Mul>
inline void forward_stage(u64* a, std::size_t groups, std::size_t gap, const ShoupMul* roots, __m512i two_q,
                          const Mul& mul) {
  for (std::size_t g = 0; g < groups; g++) {
    const __m512i w = broadcast(roots[g].w);
    const __m512i ws = broadcast(roots[g].w_shoup);
    u64* x = a + 2 * g * gap;
    u64* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      const __m512i x_in = _mm512_loadu_si512(x + j);
      const __m512i u = Lazy ? x_in : reduce_once(x_in, two_q);
      const __m512i v = mul(_mm512_loadu_si512(y + j), w, ws);
      _mm512_storeu_si512(x + j, _mm512_add_epi64(u, v));
      _mm512_storeu_si512(y + j, _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v));
    }
  }
}

// Gentleman-Sande butterflies (values in [0, 2q)), same layout.
template <class Mul>
inline void inverse_stage(u64* a, std::size_t groups, std::size_t gap, const ShoupMul* roots, __m512i two_q,
                          const Mul& mul) {
  for (std::size_t g = 0; g < groups; g++) {
    const __m512i w = broadcast(roots[g].w);
    const __m512i ws = broadcast(roots[g].w_shoup);
    u64* x = a + 2 * g * gap;
    u64* y = x + gap;
    for (std::size_t j = 0; j < gap; j += 8) {
      const __m512i u = _mm512_loadu_si512(x + j);
      const __m512i v = _mm512_loadu_si512(y + j);
      _mm512_storeu_si512(x + j, reduce_once(_mm512_add_epi64(u, v), two_q));
      _mm512_storeu_si512(y + j, mul(_mm512_sub_epi64(_mm512_add_epi64(u, two_q), v), w, ws));
    }
  }
}

// Gaps 4, 2, 1 on the 16-word blocks of a[0, words), which sits at word `offset` of an n-word array; the gap-1
// stage ends with the reduction to [0, q). Stage gap's roots start at n / (2 gap), one per group.
template <bool Lazy, class Mul>
inline void forward_tail(u64* a, std::size_t words, const ShoupMul* roots, std::size_t n, std::size_t offset,
                         __m512i q, __m512i two_q, const Mul& mul) {
  const u64* root_words = reinterpret_cast<const u64*>(roots);  // {w, w_shoup} pairs
  TailStage stages[3];
  tail_stages(stages);
  for (int s = 0; s < 3; s++) {
    const TailStage& st = stages[s];
    const std::size_t gap = std::size_t{4} >> s;
    std::size_t k = (n + offset) / (2 * gap);
    const __m512i back_hi = _mm512_add_epi64(st.back_idx, _mm512_set1_epi64(4));
    for (std::size_t block = 0; block < words; block += 16, k += st.roots_per_block) {
      __m512i w, ws;
      load_roots(root_words + 2 * k, st, w, ws);
      const __m512i v0 = _mm512_loadu_si512(a + block);
      const __m512i v1 = _mm512_loadu_si512(a + block + 8);
      const __m512i x_in = _mm512_permutex2var_epi64(v0, st.x_idx, v1);
      const __m512i u = Lazy ? x_in : reduce_once(x_in, two_q);
      const __m512i v = mul(_mm512_permutex2var_epi64(v0, st.y_idx, v1), w, ws);
      __m512i x = _mm512_add_epi64(u, v);
      __m512i y = _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v);
      if (s == 2) {
        if constexpr (Lazy) {
          x = mul.canonical(x);
          y = mul.canonical(y);
        } else {
          x = reduce_once(reduce_once(x, two_q), q);
          y = reduce_once(reduce_once(y, two_q), q);
        }
      }
      _mm512_storeu_si512(a + block, _mm512_permutex2var_epi64(x, st.back_idx, y));
      _mm512_storeu_si512(a + block + 8, _mm512_permutex2var_epi64(x, back_hi, y));
    }
  }
}

// Inverse gaps 1, 2, 4 on the 16-word blocks of a[0, words) at word `offset`. Inverse roots are stored stage
// after stage from index 1: stage gap's roots start at n - n / gap + 1.
template <class Mul>
inline void inverse_head(u64* a, std::size_t words, const ShoupMul* roots, std::size_t n, std::size_t offset,
                         __m512i two_q, const Mul& mul) {
  const u64* root_words = reinterpret_cast<const u64*>(roots);
  TailStage stages[3];
  tail_stages(stages);
  for (int s = 2; s >= 0; s--) {
    const TailStage& st = stages[s];
    const std::size_t gap = std::size_t{4} >> s;
    std::size_t k = n - n / gap + 1 + offset / (2 * gap);
    const __m512i back_hi = _mm512_add_epi64(st.back_idx, _mm512_set1_epi64(4));
    for (std::size_t block = 0; block < words; block += 16, k += st.roots_per_block) {
      __m512i w, ws;
      load_roots(root_words + 2 * k, st, w, ws);
      const __m512i v0 = _mm512_loadu_si512(a + block);
      const __m512i v1 = _mm512_loadu_si512(a + block + 8);
      const __m512i u = _mm512_permutex2var_epi64(v0, st.x_idx, v1);
      const __m512i v = _mm512_permutex2var_epi64(v0, st.y_idx, v1);
      const __m512i x = reduce_once(_mm512_add_epi64(u, v), two_q);
      const __m512i y = mul(_mm512_sub_epi64(_mm512_add_epi64(u, two_q), v), w, ws);
      _mm512_storeu_si512(a + block, _mm512_permutex2var_epi64(x, st.back_idx, y));
      _mm512_storeu_si512(a + block + 8, _mm512_permutex2var_epi64(x, back_hi, y));
    }
  }
}

// The forward NTT, canonical output; n >= 16.
template <bool Lazy = false, class Mul>
inline void forward_ntt(u64* a, std::size_t n, const ShoupMul* roots, u64 q, const Mul& mul) {
  const __m512i vq = broadcast(q), two_q = broadcast(2 * q);
  const std::size_t block = n < kBlockWords ? n : kBlockWords;
  std::size_t m = 1, gap = n / 2;  // stage with m groups: roots m .. 2m - 1
  for (; 2 * gap > block; m *= 2, gap /= 2) forward_stage<Lazy>(a, m, gap, roots + m, two_q, mul);
  for (std::size_t b = 0; b < n; b += block) {
    for (std::size_t g = gap, mm = m; g >= 8; mm *= 2, g /= 2) {
      forward_stage<Lazy>(a + b, block / (2 * g), g, roots + mm + b / (2 * g), two_q, mul);
    }
    forward_tail<Lazy>(a + b, block, roots, n, b, vq, two_q, mul);
  }
}

// The inverse NTT with the N^-1 factors folded into the last stage, canonical output; n >= 32.
template <class Mul>
inline void inverse_ntt(u64* a, std::size_t n, const ShoupMul* roots, u64 q, const ShoupMul& inv_n,
                        const ShoupMul& inv_n_last, const Mul& mul) {
  const __m512i vq = broadcast(q), two_q = broadcast(2 * q);
  const std::size_t block = n < kBlockWords ? n : kBlockWords;
  const auto first_root = [n](std::size_t gap) { return n - n / gap + 1; };
  std::size_t gap = 8;
  for (std::size_t b = 0; b < n; b += block) {
    inverse_head(a + b, block, roots, n, b, two_q, mul);
    for (std::size_t g = 8; g < n / 2 && 2 * g <= block; g *= 2) {
      inverse_stage(a + b, block / (2 * g), g, roots + first_root(g) + b / (2 * g), two_q, mul);
    }
  }
  while (gap < n / 2 && 2 * gap <= block) gap *= 2;
  for (; gap < n / 2; gap *= 2) inverse_stage(a, n / (2 * gap), gap, roots + first_root(gap), two_q, mul);
  const __m512i n_w = broadcast(inv_n.w), n_ws = broadcast(inv_n.w_shoup);
  const __m512i l_w = broadcast(inv_n_last.w), l_ws = broadcast(inv_n_last.w_shoup);
  u64* x = a;
  u64* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512i u = _mm512_loadu_si512(x + j);
    const __m512i v = _mm512_loadu_si512(y + j);
    _mm512_storeu_si512(x + j, reduce_once(mul(_mm512_add_epi64(u, v), n_w, n_ws), vq));
    _mm512_storeu_si512(y + j, reduce_once(mul(_mm512_sub_epi64(_mm512_add_epi64(u, two_q), v), l_w, l_ws), vq));
  }
}

}  // namespace
}  // namespace hefty::rlwe::simd
#endif
