#include "ntt_ifma.h"

#include "ntt_lanes.h"
#include "ntt_simd.h"

namespace hefty::rlwe::ifma {

ShoupMul shoup52(u64 w, u64 q) {
  ShoupMul r;
  r.w = w;
  r.w_shoup = static_cast<u64>((static_cast<u128>(w) << 52) / q);
  return r;
}

#ifdef HEFTY_SIMD_X86

#define HEFTY_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

using simd::load_roots;
using simd::reduce_once;
using simd::tail_stages;
using simd::TailStage;

namespace {

// Shoup multiplication by w for x < 2^52: quotient = high half of x * w_shoup, then x * w - quotient * q
// from the low halves modulo 2^52 (adding quotient * (2^52 - q)), which is the true value, in [0, 2q).
struct Mul52 {
  __m512i neg_q, mask;
  HEFTY_IFMA explicit Mul52(u64 q)
      : neg_q(_mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - q))),
        mask(_mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - 1))) {}
  HEFTY_IFMA __m512i operator()(__m512i x, __m512i w, __m512i w_shoup) const {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i quotient = _mm512_madd52hi_epu64(zero, x, w_shoup);
    const __m512i r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x, w), quotient, neg_q);
    return _mm512_and_si512(r, mask);
  }
};

HEFTY_IFMA inline __m512i broadcast(u64 x) { return _mm512_set1_epi64(static_cast<long long>(x)); }

}  // namespace

bool available() {
  static const bool ok = simd::available() && __builtin_cpu_supports("avx512ifma");
  return ok;
}

HEFTY_IFMA void forward(u64* a, std::size_t n, const ShoupMul* roots, u64 q) {
  const Mul52 mul(q);
  const __m512i vq = broadcast(q);
  const __m512i two_q = broadcast(2 * q);
  std::size_t k = 1;
  // Harvey butterflies while gap >= 8, values in [0, 4q).
  for (std::size_t m = 1, gap = n / 2; gap >= 8; m *= 2, gap /= 2) {
    for (std::size_t g = 0; g < m; g++) {
      const __m512i w = broadcast(roots[k].w);
      const __m512i ws = broadcast(roots[k].w_shoup);
      k++;
      u64* x = a + 2 * g * gap;
      u64* y = x + gap;
      for (std::size_t j = 0; j < gap; j += 8) {
        const __m512i u = reduce_once(_mm512_loadu_si512(x + j), two_q);
        const __m512i v = mul(_mm512_loadu_si512(y + j), w, ws);
        _mm512_storeu_si512(x + j, _mm512_add_epi64(u, v));
        _mm512_storeu_si512(y + j, _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v));
      }
    }
  }
  // Gaps 4, 2, 1 on 16-word blocks (lane maps in ntt_lanes.h); the last one reduces to [0, q).
  const u64* root_words = reinterpret_cast<const u64*>(roots);
  TailStage stages[3];
  tail_stages(stages);
  for (int s = 0; s < 3; s++) {
    const TailStage& st = stages[s];
    const __m512i back_hi = _mm512_add_epi64(st.back_idx, _mm512_set1_epi64(4));
    for (std::size_t block = 0; block < n; block += 16, k += st.roots_per_block) {
      __m512i w, ws;
      load_roots(root_words + 2 * k, st, w, ws);
      const __m512i v0 = _mm512_loadu_si512(a + block);
      const __m512i v1 = _mm512_loadu_si512(a + block + 8);
      const __m512i u = reduce_once(_mm512_permutex2var_epi64(v0, st.x_idx, v1), two_q);
      const __m512i v = mul(_mm512_permutex2var_epi64(v0, st.y_idx, v1), w, ws);
      __m512i x = _mm512_add_epi64(u, v);
      __m512i y = _mm512_sub_epi64(_mm512_add_epi64(u, two_q), v);
      if (s == 2) {
        x = reduce_once(reduce_once(x, two_q), vq);
        y = reduce_once(reduce_once(y, two_q), vq);
      }
      _mm512_storeu_si512(a + block, _mm512_permutex2var_epi64(x, st.back_idx, y));
      _mm512_storeu_si512(a + block + 8, _mm512_permutex2var_epi64(x, back_hi, y));
    }
  }
}

HEFTY_IFMA void inverse(u64* a, std::size_t n, const ShoupMul* inv_roots, u64 q, const ShoupMul& inv_n,
                        const ShoupMul& inv_n_last) {
  const Mul52 mul(q);
  const __m512i vq = broadcast(q);
  const __m512i two_q = broadcast(2 * q);
  const u64* root_words = reinterpret_cast<const u64*>(inv_roots);
  TailStage stages[3];
  tail_stages(stages);
  std::size_t k = 1;
  // Gentleman-Sande butterflies, values in [0, 2q): gaps 1, 2, 4 on 16-word blocks first.
  for (int s = 2; s >= 0; s--) {
    const TailStage& st = stages[s];
    const __m512i back_hi = _mm512_add_epi64(st.back_idx, _mm512_set1_epi64(4));
    for (std::size_t block = 0; block < n; block += 16, k += st.roots_per_block) {
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
  std::size_t gap = 8;
  for (std::size_t m = n / 16; m > 1; m /= 2, gap *= 2) {
    for (std::size_t g = 0; g < m; g++) {
      const __m512i w = broadcast(inv_roots[k].w);
      const __m512i ws = broadcast(inv_roots[k].w_shoup);
      k++;
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
  // The last stage carries the N^-1 factors and ends canonical.
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

#else

bool available() { return false; }
void forward(u64*, std::size_t, const ShoupMul*, u64) {}
void inverse(u64*, std::size_t, const ShoupMul*, u64, const ShoupMul&, const ShoupMul&) {}

#endif

}  // namespace hefty::rlwe::ifma
