// AVX-512 kernels for BFV's base conversions (LevelTools::lift_to_bsk, floor_to_q and decryption's
// scale_and_round), 8 coefficients per vector. Each conversion's constant factors are folded into one weight per (target, source) pair, so a
// target residue is one sum of Shoup products, and every step of a conversion runs on a block of coefficients
// before the next block: no intermediate rows. Canonical residues are unique, so the results equal the portable
// loops' word for word.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../rlwe/modarith.h"

namespace hefty::bfv::simd {

using rlwe::Mod;
using rlwe::ShoupMul;
using rlwe::u64;

// Whether the kernels run here: AVX-512 F+DQ (rlwe::simd::available()) and n a multiple of 8.
bool usable(std::size_t n);

// q (L primes) -> Bsk (K primes) with Montgomery reduction by m̃ = 2^32 (spec §9.5 steps 1-2):
//   y_j = c_j·m̃·(Q/q_j)^-1 mod q_j,  r = -(Σ_j y_j·(Q/q_j))·Q^-1 mod m̃ centered,
//   out_o = Σ_j y_j·w[o][j] + r·r_weight[o] mod b_o  with w = (Q/q_j)·m̃^-1 and r_weight = Q·m̃^-1 mod b_o.
struct LiftTables {
  std::vector<Mod> q, bsk;
  std::vector<ShoupMul> pre;            // [j]
  std::vector<u64> punctured_low;       // [j]: (Q/q_j) mod 2^32
  std::uint32_t neg_inv_q_mtilde = 0;   // -Q^-1 mod 2^32
  std::vector<ShoupMul> weights;        // [o·L + j]
  std::vector<ShoupMul> r_weight;       // [o]
  std::vector<u64> r_negative;          // [o]: -2^32·r_weight mod b_o, added where r < 0
};
// c: L rows; out: K rows; scratch: L·8 words.
void lift_to_bsk(const LiftTables& t, const u64* c, std::size_t n, u64* out, u64* scratch);

// The floor of t·d/Q from d over q (L rows) and Bsk (K = |B| + 1 rows), back to q (spec §9.5 steps 4-5):
//   y_j = d_j·t·(Q/q_j)^-1 mod q_j,
//   f_o = d_bsk_o·f_self[o] + Σ_j y_j·f_weights[o][j] mod b_o     (= (t·d_bsk - conv(y))·Q^-1),
//   z_k = f_k·(B/b_k)^-1 mod b_k for k in B,
//   α = f_msk·alpha_self + Σ_k z_k·alpha_weights[k] mod m_sk, centered,
//   out_j = Σ_k z_k·out_weights[j][k] - α·(B mod q_j) mod q_j     (Shenoy-Kumaresan).
struct FloorTables {
  std::vector<Mod> q, bsk;              // bsk: B then m_sk
  std::vector<ShoupMul> pre_q;          // [j]
  std::vector<ShoupMul> f_weights;      // [o·L + j]
  std::vector<ShoupMul> f_self;         // [o]
  std::vector<ShoupMul> pre_b;          // [k]
  std::vector<ShoupMul> alpha_weights;  // [k]
  ShoupMul alpha_self;
  std::vector<ShoupMul> out_weights;    // [j·|B| + k]
  std::vector<ShoupMul> b_mod_q;        // [j]: B mod q_j (weight of m_sk - α for α above m_sk/2)
  std::vector<ShoupMul> neg_b_mod_q;    // [j]: -B mod q_j (weight of α otherwise)
};
// d_q: L rows; d_bsk: K rows; out: L rows (may alias d_q); scratch: (L + 2K)·8 words.
void floor_to_q(const FloorTables& t, const u64* d_q, const u64* d_bsk, std::size_t n, u64* out, u64* scratch);

// Decryption's scale and round through γ (spec §9.4): y_j = x_j·t·γ·(Q/q_j)^-1 mod q_j,
//   z_t = Σ_j y_j·t_weights[j] mod t,  z_γ = Σ_j y_j·gamma_weights[j] mod γ   (weights (Q/q_j)·(-Q^-1)),
//   m = (z_t - [z_γ]_centered mod t)·γ^-1 mod t.  t is any modulus below 2^60.
struct RoundTables {
  std::vector<Mod> q;
  Mod t, gamma;
  std::vector<ShoupMul> pre;            // [j]
  std::vector<ShoupMul> t_weights;      // [j]
  std::vector<ShoupMul> gamma_weights;  // [j]
  ShoupMul one_mod_t;                   // reduces a word mod t
  ShoupMul inv_gamma_t;                 // γ^-1 mod t
};
// x: L rows; m: n words; scratch: L·8 words.
void scale_and_round(const RoundTables& t, const u64* x, std::size_t n, u64* m, u64* scratch);

}  // namespace hefty::bfv::simd
