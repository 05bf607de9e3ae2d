#include "context.h"

#include "../seal/chain.h"

namespace hefty::ckks {

Context::Context(std::size_t n, std::vector<std::uint64_t> primes) : n_(n), primes_(std::move(primes)) {
  chain_ = std::make_unique<Chain>(seal::make_chain(seal::EncryptionParameters{seal::Scheme::Ckks, n, primes_, 0}));
  ring_ = std::make_unique<rlwe::RingTools>(n, primes_);
  galois_ = std::make_unique<rlwe::GaloisTables>(n);
  encoder_ = std::make_unique<EncoderCore>(n);
  randomness_ = rlwe::os_randomness();
}

const Level& Context::first_data_level() const {
  const Level* next = chain_->next(chain_->key_level());
  return next != nullptr ? *next : chain_->key_level();
}

}  // namespace hefty::ckks
