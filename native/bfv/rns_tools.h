// The RNS arithmetic BFV needs at one level of the chain (spec §9.3-§9.5): the Δ-scaled plaintext addition,
// decryption's scale-and-round through the auxiliary prime γ, and SEAL 4.1's BEHZ multiplication (lifting a
// ciphertext from q to the base Bsk = B ∪ {m_sk} with Montgomery reduction by m̃ = 2^32, then flooring the
// tensor product back to q with Shenoy-Kumaresan). All constants are computed once per level.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../rlwe/modarith.h"
#include "../rlwe/ring_tools.h"
#include "rns_tools_simd.h"

namespace hefty::bfv {

using rlwe::Mod;
using rlwe::ShoupMul;
using rlwe::u128;
using rlwe::u64;

// Fast base conversion (spec §9.5 FastConv) from a base A to a list of target moduli:
// out_o = Σ_j [x_j·pre_j mod a_j]·[(A/a_j) mod o] mod o, where pre_j folds (A/a_j)^-1 with any extra factor.
class BaseConverter {
 public:
  BaseConverter() = default;
  // `pre[j]` multiplies input row j before the sum (it includes (A/a_j)^-1 mod a_j).
  BaseConverter(std::vector<Mod> from, std::vector<u64> pre, std::vector<Mod> to, std::vector<std::vector<u64>> punctured_mod_to);
  // in: from.size() rows of n words; out: to.size() rows of n words. `scratch` holds from.size()*n words.
  void convert(const u64* in, std::size_t n, u64* out, u64* scratch) const;
  // The weighted inputs y_j = x_j·pre_j mod a_j (rows of n words), for callers that convert to extra moduli.
  void weigh(const u64* in, std::size_t n, u64* y) const;
  // Σ_j y_j·[(A/a_j) mod o] for target o, unreduced (callers reduce).
  u128 sum_for(const u64* y, std::size_t n, std::size_t i, std::size_t target) const {
    const u64* weights = punctured_[target].data();
    const std::size_t count = from_.size();
    u128 acc = 0;
    for (std::size_t j = 0; j < count; j++) acc += static_cast<u128>(y[j * n + i]) * weights[j];
    return acc;
  }
  std::size_t from_size() const { return from_.size(); }
  std::size_t to_size() const { return to_.size(); }

 private:
  std::vector<Mod> from_;
  std::vector<ShoupMul> pre_;
  std::vector<Mod> to_;
  std::vector<std::vector<u64>> punctured_;  // [target][j] = (A/a_j) mod o
};

class LevelTools {
 public:
  // `primes`: the level's L primes; t the plain modulus.
  LevelTools(std::size_t n, const std::vector<u64>& primes, u64 t);
  LevelTools(const LevelTools&) = delete;
  LevelTools& operator=(const LevelTools&) = delete;

  std::size_t prime_count() const { return q_.size(); }
  const Mod& q(std::size_t j) const { return q_[j]; }

  // c0 (L rows) ± round(m·Q/t) for plaintext coefficients m (count <= N, each < t).
  void add_scaled_plain(const u64* m, std::size_t count, u64* c0, bool subtract) const;
  // Scale and round of a decryption x = c0 + c1·s + ... (L rows, coefficient form) to N coefficients mod t.
  void scale_and_round(const u64* x, u64* m) const;
  // The same on the portable loop, whatever the CPU (the vector kernel's reference in the kernel tests).
  void scale_and_round_portable(const u64* x, u64* m) const;

  // BEHZ. The Bsk base (B then m_sk) with its own NTT tables.
  std::size_t bsk_size() const { return bsk_.size(); }
  const rlwe::RingTools& bsk_ring() const { return *bsk_ring_; }
  // Words of scratch space lift_to_bsk and floor_to_q need (callers keep one buffer across calls).
  std::size_t scratch_words() const { return (q_.size() + 2 * bsk_.size() + 1) * n_; }
  // Steps 1-2 of spec §9.5: c (L rows, coefficient form) -> c over Bsk (bsk_size rows, coefficient form).
  void lift_to_bsk(const u64* c, u64* out, u64* scratch) const;
  // The per-product steps of spec §9.5: d_q (L rows) and d_bsk (bsk_size rows), both coefficient form, are
  // multiplied by t, floored to Bsk and brought back to q: out (L rows, may alias d_q).
  void floor_to_q(const u64* d_q, const u64* d_bsk, u64* out, u64* scratch) const;
  // The same two on the portable loops, whatever the CPU: the vector kernels' reference in the kernel tests.
  void lift_to_bsk_portable(const u64* c, u64* out, u64* scratch) const;
  void floor_to_q_portable(const u64* d_q, const u64* d_bsk, u64* out, u64* scratch) const;

  // Plaintext lift for multiply_plain: m (< t) centered as a residue mod q_j.
  u64 centered_plain(u64 m, std::size_t j) const { return m >= threshold_ ? q_[j].q - (t_ - m) : m; }
  u64 plain_threshold() const { return threshold_; }
  // SEAL's "fast plain lift": every prime of the level exceeds t.
  bool primes_exceed_plain() const {
    for (const Mod& m : q_)
      if (m.q <= t_) return false;
    return true;
  }

 private:
  std::size_t n_;
  u64 t_;
  std::vector<Mod> q_;
  u64 threshold_ = 0;                 // (t + 1) >> 1
  // Δ-scaled addition.
  std::vector<u64> delta_mod_q_;      // floor(Q/t) mod q_j
  u64 q_mod_t_ = 0;                   // Q mod t
  // Decryption: q -> {t, γ} with the factor t·γ folded in.
  Mod t_mod_, gamma_;
  BaseConverter to_t_gamma_;
  u64 neg_inv_q_t_ = 0, neg_inv_q_gamma_ = 0, inv_gamma_t_ = 0;
  // BEHZ.
  std::vector<Mod> bsk_;              // B then m_sk
  std::size_t b_size_ = 0;
  std::unique_ptr<rlwe::RingTools> bsk_ring_;
  BaseConverter q_to_bsk_m_;          // q -> Bsk ∪ {m̃}, inputs pre-multiplied by m̃
  std::vector<u64> q_mod_bsk_;        // Q mod b
  std::vector<ShoupMul> inv_mtilde_bsk_;  // m̃^-1 mod b
  std::uint32_t neg_inv_q_mtilde_ = 0;     // -Q^-1 mod 2^32
  std::vector<ShoupMul> t_mod_bsk_;   // t mod b
  BaseConverter q_to_bsk_t_;          // q -> Bsk, inputs pre-multiplied by t
  std::vector<ShoupMul> inv_q_bsk_;   // Q^-1 mod b
  BaseConverter b_to_q_msk_;          // B -> q ∪ {m_sk}
  u64 inv_b_msk_ = 0;                 // B^-1 mod m_sk
  std::vector<u64> b_mod_q_;          // B mod q_i
  // The same constants folded for the vector kernels.
  simd::LiftTables lift_tables_;
  simd::FloorTables floor_tables_;
  simd::RoundTables round_tables_;

  void fold_vector_tables(const std::vector<u64>& primes, const std::vector<u64>& b_primes);
};

// get_primes(factor, bits, count) of spec §3.1 for any bit size up to 61: descending primes ≡ 1 mod factor.
std::vector<u64> primes_below(u64 factor, int bits, std::size_t count);

}  // namespace hefty::bfv
