#include "context.h"

#include "../seal/chain.h"

namespace hefty::bfv {

Context::Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus)
    : IntegerContext(seal::Scheme::Bfv, n, std::move(primes), plain_modulus) {
  for (const Level* level = &chain().first_data_level(); level != nullptr; level = chain().next(*level)) {
    const std::vector<std::uint64_t> level_primes(this->primes().begin(),
                                                  this->primes().begin() + static_cast<std::ptrdiff_t>(level->prime_count));
    tools_[level->chain_index] = std::make_unique<LevelTools>(n, level_primes, plain_modulus);
  }
}

}  // namespace hefty::bfv
