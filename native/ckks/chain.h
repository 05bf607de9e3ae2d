// The modulus chain as the CKKS evaluator sees it: levels from the key level (index 0 here) down to the last
// data level, each with its parms_id, prime count and total bit count. Built once per context.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../rlwe/words.h"

namespace hefty::ckks {

using ParmsId = std::array<std::uint64_t, 4>;

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

 private:
  std::vector<Level> levels_;
};

// A CKKS ciphertext or NTT-form plaintext in memory: `size` polynomials of prime_count rows of N words.
struct CkksCipher {
  ParmsId parms_id{};
  std::size_t size = 0;
  double scale = 1.0;
  bool ntt_form = true;
  rlwe::Words data;
};

struct CkksPlain {
  ParmsId parms_id{};
  double scale = 1.0;
  rlwe::Words data;  // prime_count rows, NTT form
};

}  // namespace hefty::ckks
