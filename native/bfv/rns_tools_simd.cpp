#include "rns_tools_simd.h"

#include "../rlwe/ntt_lanes.h"
#include "../rlwe/ntt_simd.h"

namespace hefty::bfv::simd {

#ifdef HEFTY_SIMD_X86

using rlwe::simd::reduce_once;
using rlwe::simd::shoup_lazy_4q;

bool usable(std::size_t n) { return n % 8 == 0 && rlwe::simd::available(); }

namespace {

HEFTY_AVX512 inline __m512i splat(u64 x) { return _mm512_set1_epi64(static_cast<long long>(x)); }

// One modulus m < 2^61 in every lane, with the bounds the lazy sums use.
struct Lanes {
  __m512i m, two_m, four_m;
  HEFTY_AVX512 explicit Lanes(const Mod& mod) : m(splat(mod.q)), two_m(splat(2 * mod.q)), four_m(splat(4 * mod.q)) {}
  // x·w mod m in [0, 4m).
  HEFTY_AVX512 __m512i product(__m512i x, const ShoupMul& w) const {
    return shoup_lazy_4q(x, splat(w.w), splat(w.w_shoup), m);
  }
  // acc + x·w: both in [0, 4m), so the sum stays below 8m <= 2^64 and one subtraction of 4m brings it back.
  HEFTY_AVX512 __m512i add_product(__m512i acc, __m512i x, const ShoupMul& w) const {
    return reduce_once(_mm512_add_epi64(acc, product(x, w)), four_m);
  }
  // [0, 4m) -> [0, m).
  HEFTY_AVX512 __m512i canonical(__m512i x) const { return reduce_once(reduce_once(x, two_m), m); }
};

HEFTY_AVX512 inline __m512i load(const u64* p) { return _mm512_loadu_si512(p); }
HEFTY_AVX512 inline void store(u64* p, __m512i x) { _mm512_storeu_si512(p, x); }

}  // namespace

HEFTY_AVX512 void lift_to_bsk(const LiftTables& t, const u64* c, std::size_t n, u64* out, u64* scratch) {
  const std::size_t L = t.q.size(), K = t.bsk.size();
  const __m512i low32 = splat(0xffffffffu);
  const __m512i half = splat(u64{1} << 31);
  const __m512i neg_inv = splat(t.neg_inv_q_mtilde);
  u64* y = scratch;
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i u = _mm512_setzero_si512();
    for (std::size_t j = 0; j < L; j++) {
      const Lanes q(t.q[j]);
      const __m512i yj = q.canonical(q.product(load(c + j * n + i), t.pre[j]));
      store(y + 8 * j, yj);
      u = _mm512_add_epi64(u, _mm512_mul_epu32(yj, splat(t.punctured_low[j])));  // mod 2^32 is all r needs
    }
    const __m512i r = _mm512_and_si512(_mm512_mul_epu32(u, neg_inv), low32);
    const __mmask8 negative = _mm512_cmpge_epu64_mask(r, half);  // r - 2^32 is the centered value there
    for (std::size_t o = 0; o < K; o++) {
      const Lanes b(t.bsk[o]);
      __m512i acc = b.product(r, t.r_weight[o]);
      acc = reduce_once(_mm512_mask_add_epi64(acc, negative, acc, splat(t.r_negative[o])), b.four_m);
      const ShoupMul* w = t.weights.data() + o * L;
      for (std::size_t j = 0; j < L; j++) acc = b.add_product(acc, load(y + 8 * j), w[j]);
      store(out + o * n + i, b.canonical(acc));
    }
  }
}

HEFTY_AVX512 void floor_to_q(const FloorTables& t, const u64* d_q, const u64* d_bsk, std::size_t n, u64* out,
                             u64* scratch) {
  const std::size_t L = t.q.size(), K = t.bsk.size(), B = K - 1;
  u64* y = scratch;
  u64* f = y + 8 * L;
  u64* z = f + 8 * K;
  const Lanes msk(t.bsk[B]);
  const __m512i half_msk = splat(t.bsk[B].q >> 1);
  for (std::size_t i = 0; i < n; i += 8) {
    for (std::size_t j = 0; j < L; j++) {
      const Lanes q(t.q[j]);
      store(y + 8 * j, q.canonical(q.product(load(d_q + j * n + i), t.pre_q[j])));
    }
    for (std::size_t o = 0; o < K; o++) {
      const Lanes b(t.bsk[o]);
      __m512i acc = b.product(load(d_bsk + o * n + i), t.f_self[o]);
      const ShoupMul* w = t.f_weights.data() + o * L;
      for (std::size_t j = 0; j < L; j++) acc = b.add_product(acc, load(y + 8 * j), w[j]);
      store(f + 8 * o, b.canonical(acc));
    }
    for (std::size_t k = 0; k < B; k++) {
      const Lanes b(t.bsk[k]);
      store(z + 8 * k, b.canonical(b.product(load(f + 8 * k), t.pre_b[k])));
    }
    __m512i alpha = msk.product(load(f + 8 * B), t.alpha_self);
    for (std::size_t k = 0; k < B; k++) alpha = msk.add_product(alpha, load(z + 8 * k), t.alpha_weights[k]);
    alpha = msk.canonical(alpha);
    // α above m_sk/2 stands for α - m_sk: its correction adds (m_sk - α)·B instead of subtracting α·B.
    const __mmask8 negative = _mm512_cmpgt_epu64_mask(alpha, half_msk);
    const __m512i magnitude = _mm512_mask_sub_epi64(alpha, negative, msk.m, alpha);
    for (std::size_t j = 0; j < L; j++) {
      const Lanes q(t.q[j]);
      const ShoupMul& pos = t.neg_b_mod_q[j];
      const ShoupMul& neg = t.b_mod_q[j];
      const __m512i w = _mm512_mask_blend_epi64(negative, splat(pos.w), splat(neg.w));
      const __m512i ws = _mm512_mask_blend_epi64(negative, splat(pos.w_shoup), splat(neg.w_shoup));
      __m512i acc = shoup_lazy_4q(magnitude, w, ws, q.m);
      const ShoupMul* ow = t.out_weights.data() + j * B;
      for (std::size_t k = 0; k < B; k++) acc = q.add_product(acc, load(z + 8 * k), ow[k]);
      store(out + j * n + i, q.canonical(acc));
    }
  }
}

HEFTY_AVX512 void scale_and_round(const RoundTables& t, const u64* x, std::size_t n, u64* m, u64* scratch) {
  const std::size_t L = t.q.size();
  const Lanes plain(t.t), gamma(t.gamma);
  const __m512i half_gamma = splat(t.gamma.q >> 1);
  u64* y = scratch;
  for (std::size_t i = 0; i < n; i += 8) {
    for (std::size_t j = 0; j < L; j++) {
      const Lanes q(t.q[j]);
      store(y + 8 * j, q.canonical(q.product(load(x + j * n + i), t.pre[j])));
    }
    __m512i zt = _mm512_setzero_si512(), zg = zt;
    for (std::size_t j = 0; j < L; j++) {
      const __m512i yj = load(y + 8 * j);
      zt = plain.add_product(zt, yj, t.t_weights[j]);
      zg = gamma.add_product(zg, yj, t.gamma_weights[j]);
    }
    zt = plain.canonical(zt);
    zg = gamma.canonical(zg);
    // z_γ above γ/2 stands for z_γ - γ: subtracting it adds (γ - z_γ).
    const __mmask8 negative = _mm512_cmpgt_epu64_mask(zg, half_gamma);
    const __m512i magnitude = plain.canonical(plain.product(_mm512_mask_sub_epi64(zg, negative, gamma.m, zg), t.one_mod_t));
    const __m512i sum = reduce_once(_mm512_add_epi64(zt, magnitude), plain.m);
    const __m512i difference = reduce_once(_mm512_sub_epi64(_mm512_add_epi64(zt, plain.m), magnitude), plain.m);
    const __m512i v = _mm512_mask_blend_epi64(negative, difference, sum);
    store(m + i, plain.canonical(plain.product(v, t.inv_gamma_t)));
  }
}

#else

bool usable(std::size_t) { return false; }
void lift_to_bsk(const LiftTables&, const u64*, std::size_t, u64*, u64*) {}
void floor_to_q(const FloorTables&, const u64*, const u64*, std::size_t, u64*, u64*) {}
void scale_and_round(const RoundTables&, const u64*, std::size_t, u64*, u64*) {}

#endif

}  // namespace hefty::bfv::simd
