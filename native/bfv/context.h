// Everything the BFV engine keeps per parameter set (spec §9.1): the modulus chain with SEAL's BFV parms_ids
// (ending at the first level whose modulus is not above t), ring arithmetic shared with the rlwe layer, Galois
// tables, the per-level RNS tools and, when t is a batching prime, the batch encoder's NTT modulo t.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../ckks/chain.h"
#include "../rlwe/batch_encoder.h"
#include "../rlwe/galois.h"
#include "../rlwe/randomness.h"
#include "../rlwe/ring_tools.h"
#include "rns_tools.h"

namespace hefty::bfv {

// The chain types are scheme-neutral (a parms_id and a prime count per level); BFV shares them, and shares the
// in-memory ciphertext/plaintext layout too: a BFV plaintext is `data` = coeff_count coefficients below t with
// a zero parms_id, a secret key is the NTT form at the key level.
using ckks::Chain;
using ckks::Level;
using ckks::ParmsId;
using Cipher = ckks::CkksCipher;
using Plain = ckks::CkksPlain;

class Context {
 public:
  // Validates N, the primes (as the CKKS context does) and t (2 <= t < 2^60, coprime to every prime, below Q);
  // throws E_INVALID_PARAMS otherwise. The security limit is the caller's check.
  Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus);

  std::size_t n() const { return n_; }
  const std::vector<std::uint64_t>& primes() const { return primes_; }
  std::uint64_t plain_modulus() const { return t_; }
  const rlwe::RingTools& ring() const { return *ring_; }
  const Chain& chain() const { return *chain_; }
  const rlwe::GaloisTables& galois() const { return *galois_; }
  const Level& first_data_level() const;
  // The RNS tools of a data level of this chain.
  const LevelTools& tools(const Level& level) const { return *tools_[level.chain_index]; }

  // The plaintext space and its batch encoder (spec §9.2), shared with BGV.
  const rlwe::PlainSpace& plain_space() const { return *plain_space_; }

  rlwe::RandomnessFactory& randomness() const { return *randomness_; }
  void set_randomness(std::shared_ptr<rlwe::RandomnessFactory> factory) { randomness_ = std::move(factory); }

 private:
  std::size_t n_;
  std::vector<std::uint64_t> primes_;
  std::uint64_t t_;
  std::unique_ptr<rlwe::RingTools> ring_;
  std::unique_ptr<Chain> chain_;
  std::unique_ptr<rlwe::GaloisTables> galois_;
  std::vector<std::unique_ptr<LevelTools>> tools_;  // by chain index
  std::unique_ptr<rlwe::PlainSpace> plain_space_;
  std::shared_ptr<rlwe::RandomnessFactory> randomness_;
};

}  // namespace hefty::bfv
