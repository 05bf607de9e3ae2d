// The modulus chain of a SEAL context (spec §4): levels from the key level down to the last data level, each
// with its parms_id, prime count and total bit count. Scheme-neutral; every engine builds one per context.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "params.h"

namespace hefty::seal {

struct Level {
  ParmsId parms_id{};
  std::size_t prime_count = 0;
  int total_bits = 0;        // bits of the product of the level's primes
  std::size_t chain_index = 0;
  double last_prime = 0;     // double(q_{L-1}), for rescale
};

class Chain {
 public:
  explicit Chain(std::vector<Level> levels) : levels_(std::move(levels)) {}
  const Level& key_level() const { return levels_.front(); }
  // nullptr when the parms_id is not in the chain.
  const Level* find(const ParmsId& id) const {
    for (const Level& l : levels_) {
      if (l.parms_id == id) return &l;
    }
    return nullptr;
  }
  // The level below, or nullptr at the end of the chain.
  const Level* next(const Level& level) const {
    const std::size_t i = static_cast<std::size_t>(&level - levels_.data());
    return i + 1 < levels_.size() ? &levels_[i + 1] : nullptr;
  }
  // The level above (the key level has none).
  const Level* previous(const Level& level) const {
    const std::size_t i = static_cast<std::size_t>(&level - levels_.data());
    return i > 0 ? &levels_[i - 1] : nullptr;
  }
  bool has_key_switching() const { return levels_.size() > 1; }
  // The level fresh ciphertexts get: the one below the key level (the key level itself without key switching).
  const Level& first_data_level() const { return levels_.size() > 1 ? levels_[1] : levels_[0]; }

 private:
  std::vector<Level> levels_;
};

// Validates N (a power of two in [2, 131072]), the primes (1 to 256 distinct primes below 2^60, each 1 mod 2N)
// and, for BFV/BGV, the plain modulus (in [2, 2^60), coprime to every prime, below the product of the primes),
// throwing E_INVALID_PARAMS; then builds the chain with the scheme's parms_ids (for BFV/BGV it ends at the
// first level whose modulus is not above t). The security limit is the caller's check.
Chain make_chain(const EncryptionParameters& parms);

}  // namespace hefty::seal
