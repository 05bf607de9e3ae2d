// Everything the CKKS engine keeps per parameter set: the validated modulus chain with SEAL's parms_ids,
// ring arithmetic, Galois tables and the encoder. Built once and shared (read-only) by all operations.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../rlwe/galois.h"
#include "../rlwe/randomness.h"
#include "../rlwe/ring_tools.h"
#include "chain.h"
#include "encoder_core.h"

namespace hefty::ckks {

class Context {
 public:
  // Validates N (power of two in [2, 131072]) and the primes (distinct NTT-friendly primes below 2^60);
  // throws E_INVALID_PARAMS otherwise. The security limit is the caller's check.
  Context(std::size_t n, std::vector<std::uint64_t> primes);

  std::size_t n() const { return n_; }
  const std::vector<std::uint64_t>& primes() const { return primes_; }
  const rlwe::RingTools& ring() const { return *ring_; }
  const Chain& chain() const { return *chain_; }
  const rlwe::GaloisTables& galois() const { return *galois_; }
  const EncoderCore& encoder() const { return *encoder_; }
  const Level& first_data_level() const;

  // Randomness for keys and encryption: OS-seeded unless a test installs a fixed seed.
  rlwe::RandomnessFactory& randomness() const { return *randomness_; }
  void set_randomness(std::shared_ptr<rlwe::RandomnessFactory> factory) { randomness_ = std::move(factory); }

 private:
  std::size_t n_;
  std::vector<std::uint64_t> primes_;
  std::unique_ptr<rlwe::RingTools> ring_;
  std::unique_ptr<Chain> chain_;
  std::unique_ptr<rlwe::GaloisTables> galois_;
  std::unique_ptr<EncoderCore> encoder_;
  std::shared_ptr<rlwe::RandomnessFactory> randomness_;
};

}  // namespace hefty::ckks
