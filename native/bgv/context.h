// Everything the BGV engine keeps per parameter set (SPEC.md §1): the modulus chain with SEAL's BGV parms_ids
// (ending at the first level whose modulus is not above t), the ring arithmetic and Galois tables of the rlwe
// layer, the plaintext space and batch encoder it shares with BFV, and per level the constants of the plaintext
// lift, of decryption's exact conversion to t and of modulus switching.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../rlwe/batch_encoder.h"
#include "../rlwe/galois.h"
#include "../rlwe/integer_context.h"
#include "../rlwe/modarith.h"
#include "../rlwe/objects.h"
#include "../rlwe/randomness.h"
#include "../rlwe/ring_tools.h"
#include "../seal/chain.h"

namespace hefty::bgv {

using rlwe::Mod;
using rlwe::ShoupMul;
using rlwe::u64;
using seal::Chain;
using seal::Level;
using seal::ParmsId;
// Ciphertexts are in NTT form and carry a correction factor; plaintexts are coefficient form (zero parms_id).
using Cipher = rlwe::Cipher;
using Plain = rlwe::Plain;

// The constants of one data level with L primes.
class LevelTools {
 public:
  LevelTools(const rlwe::RingTools& ring, std::size_t L, u64 t);

  std::size_t prime_count() const { return L_; }
  // m (< t) lifted centered to row j: m, or m - t when m >= (t+1)/2, modulo q_j (SEAL's plain lift).
  u64 lift(u64 m, std::size_t j) const {
    const Mod& q = ring_.mod(j);
    return m >= threshold_ ? q.sub(q.reduce(m), t_mod_q_[j]) : q.reduce(m);
  }
  // The lift of a plaintext (count <= N coefficients) in NTT form: L rows of N words.
  void lift_ntt(const u64* m, std::size_t count, u64* rows) const;
  // Decryption's exact conversion of x (L rows, coefficient form) to N coefficients mod t: the centered
  // representative of x mod Q, with SEAL's floating-point rounding of Σ [x_i·(Q/q_i)^-1]_{q_i} / q_i.
  void to_plain(const u64* x, u64* m) const;
  // q_{L-1}^-1 mod t: the factor a modulus switch from this level multiplies the correction factor by.
  u64 inv_q_last_mod_t() const { return inv_q_last_mod_t_; }

 private:
  const rlwe::RingTools& ring_;
  std::size_t L_;
  u64 t_;
  u64 threshold_;                          // (t + 1) / 2
  std::vector<u64> t_mod_q_;               // t mod q_j
  std::vector<ShoupMul> inv_punctured_;    // (Q/q_i)^-1 mod q_i
  std::vector<double> prime_;              // q_i as double
  std::vector<u64> punctured_mod_t_;       // (Q/q_i) mod t
  u64 q_mod_t_ = 0;                        // Q mod t
  u64 inv_q_last_mod_t_ = 0;
};

// The shared integer-scheme context, with LevelTools for every level from the key level down.
class Context : public rlwe::IntegerContext<LevelTools> {
 public:
  // Validates N, the primes and t as SEAL does (seal::make_chain); throws E_INVALID_PARAMS otherwise.
  Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus);
};

}  // namespace hefty::bgv
