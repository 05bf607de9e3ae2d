#include "context.h"

#include "../seal/chain.h"

namespace hefty::bfv {

Context::Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus)
    : n_(n), primes_(std::move(primes)), t_(plain_modulus) {
  chain_ = std::make_unique<Chain>(seal::make_chain(seal::EncryptionParameters{seal::Scheme::Bfv, n, primes_, t_}));
  ring_ = std::make_unique<rlwe::RingTools>(n, primes_);
  galois_ = std::make_unique<rlwe::GaloisTables>(n);
  randomness_ = rlwe::os_randomness();
  // Per-level tools for the data levels, indexed by chain index (the key level has none unless it is the only one).
  tools_.resize(chain_->key_level().chain_index + 1);
  for (const Level* level = &chain_->first_data_level(); level != nullptr; level = chain_->next(*level)) {
    const std::vector<std::uint64_t> level_primes(primes_.begin(), primes_.begin() + static_cast<std::ptrdiff_t>(level->prime_count));
    tools_[level->chain_index] = std::make_unique<LevelTools>(n, level_primes, t_);
  }
  plain_space_ = std::make_unique<rlwe::PlainSpace>(n, t_);
}

const Level& Context::first_data_level() const { return chain_->first_data_level(); }

}  // namespace hefty::bfv
