// What BFV's and BGV's contexts both keep per parameter set: N, the primes, t, the modulus chain the scheme's
// parms_ids name (ending at the first level whose modulus is not above t), the ring arithmetic and Galois tables,
// the plaintext space with its batch encoder, the randomness source and one `LevelTools` per level, which the
// scheme's context fills for the levels it works at.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "../seal/chain.h"
#include "batch_encoder.h"
#include "galois.h"
#include "randomness.h"
#include "ring_tools.h"

namespace hefty::rlwe {

template <typename LevelTools>
class IntegerContext {
 public:
  std::size_t n() const { return n_; }
  const std::vector<std::uint64_t>& primes() const { return primes_; }
  std::uint64_t plain_modulus() const { return t_; }
  const RingTools& ring() const { return *ring_; }
  const seal::Chain& chain() const { return *chain_; }
  const GaloisTables& galois() const { return *galois_; }
  // The plaintext space and its batch encoder, the same for both schemes.
  const PlainSpace& plain_space() const { return *plain_space_; }
  const seal::Level& first_data_level() const { return chain_->first_data_level(); }
  // The constants of a level of this chain.
  const LevelTools& tools(const seal::Level& level) const { return *tools_[level.chain_index]; }

  RandomnessFactory& randomness() const { return *randomness_; }
  void set_randomness(std::shared_ptr<RandomnessFactory> factory) { randomness_ = std::move(factory); }

 protected:
  // Validates N, the primes and t for `scheme` as SEAL does (seal::make_chain); throws E_INVALID_PARAMS otherwise.
  IntegerContext(seal::Scheme scheme, std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus)
      : n_(n), primes_(std::move(primes)), t_(plain_modulus) {
    chain_ = std::make_unique<seal::Chain>(seal::make_chain(seal::EncryptionParameters{scheme, n, primes_, t_}));
    ring_ = std::make_unique<RingTools>(n, primes_);
    galois_ = std::make_unique<GaloisTables>(n);
    plain_space_ = std::make_unique<PlainSpace>(n, t_);
    randomness_ = os_randomness();
    tools_.resize(chain_->key_level().chain_index + 1);
  }

  std::vector<std::unique_ptr<LevelTools>> tools_;  // by chain index, empty where the scheme keeps none

 private:
  std::size_t n_;
  std::vector<std::uint64_t> primes_;
  std::uint64_t t_;
  std::unique_ptr<RingTools> ring_;
  std::unique_ptr<seal::Chain> chain_;
  std::unique_ptr<GaloisTables> galois_;
  std::unique_ptr<PlainSpace> plain_space_;
  std::shared_ptr<RandomnessFactory> randomness_;
};

}  // namespace hefty::rlwe
