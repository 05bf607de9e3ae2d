#include "context.h"

#include "../ring/multiword.h"
#include "../rlwe/op_error.h"
#include "../seal/params.h"
#include "../seal/primes.h"

namespace hefty::ckks {

using rlwe::fail;

Context::Context(std::size_t n, std::vector<std::uint64_t> primes) : n_(n), primes_(std::move(primes)) {
  if (n < 2 || n > 131072 || (n & (n - 1)) != 0) fail("E_INVALID_PARAMS", "poly_modulus_degree must be a power of two in [2, 131072]");
  if (primes_.empty() || primes_.size() > 256) fail("E_INVALID_PARAMS", "between 1 and 256 primes are allowed");
  for (std::size_t i = 0; i < primes_.size(); i++) {
    const std::uint64_t q = primes_[i];
    if (q < 2 || q >= (std::uint64_t{1} << 60)) fail("E_INVALID_PARAMS", "primes must be below 2^60");
    if (!seal::is_prime(q) || (q - 1) % (2 * n) != 0) fail("E_INVALID_PARAMS", "primes must be prime and 1 mod 2N");
    for (std::size_t j = 0; j < i; j++) {
      if (primes_[j] == q) fail("E_INVALID_PARAMS", "primes must be distinct");
    }
  }
  ring_ = std::make_unique<rlwe::RingTools>(n, primes_);
  galois_ = std::make_unique<rlwe::GaloisTables>(n);
  encoder_ = std::make_unique<EncoderCore>(n);
  randomness_ = rlwe::os_randomness();
  // Key level first, then every prefix down to one prime (CKKS levels always validate).
  std::vector<Level> levels;
  const std::size_t k = primes_.size();
  const seal::EncryptionParameters parms{seal::Scheme::Ckks, n, primes_, 0};
  for (std::size_t count = k; count >= 1; count--) {
    Level level;
    level.parms_id = seal::parms_id(parms, count);
    level.prime_count = count;
    // Bit count of the product: exact via a running multiword product.
    ring::Words product{1};
    for (std::size_t j = 0; j < count; j++) product = ring::mul_word(product, primes_[j]);
    level.total_bits = ring::bit_length(product.data(), product.size());
    level.chain_index = count - 1;
    level.last_prime = static_cast<double>(primes_[count - 1]);
    levels.push_back(level);
    if (count == 1) break;
  }
  chain_ = std::make_unique<Chain>(std::move(levels));
}

const Level& Context::first_data_level() const {
  const Level* next = chain_->next(chain_->key_level());
  return next != nullptr ? *next : chain_->key_level();
}

}  // namespace hefty::ckks
