#include "chain.h"

#include <numeric>

#include "../ring/multiword.h"
#include "../rlwe/op_error.h"
#include "primes.h"

namespace hefty::seal {

using rlwe::fail;

Chain make_chain(const EncryptionParameters& parms) {
  const std::size_t n = parms.n;
  const std::vector<std::uint64_t>& primes = parms.coeff_modulus;
  if (n < 2 || n > 131072 || (n & (n - 1)) != 0) fail("E_INVALID_PARAMS", "poly_modulus_degree must be a power of two in [2, 131072]");
  if (primes.empty() || primes.size() > 256) fail("E_INVALID_PARAMS", "between 1 and 256 primes are allowed");
  for (std::size_t i = 0; i < primes.size(); i++) {
    const std::uint64_t q = primes[i];
    if (q < 2 || q >= (std::uint64_t{1} << 60)) fail("E_INVALID_PARAMS", "primes must be below 2^60");
    if (!is_prime(q) || (q - 1) % (2 * n) != 0) fail("E_INVALID_PARAMS", "primes must be prime and 1 mod 2N");
    for (std::size_t j = 0; j < i; j++) {
      if (primes[j] == q) fail("E_INVALID_PARAMS", "primes must be distinct");
    }
  }
  const bool integer = parms.scheme == Scheme::Bfv || parms.scheme == Scheme::Bgv;
  if (integer) {
    const std::uint64_t t = parms.plain_modulus;
    if (t < 2 || t >= (std::uint64_t{1} << 60)) fail("E_INVALID_PARAMS", "plain modulus must be in [2, 2^60)");
    for (std::uint64_t q : primes) {
      if (std::gcd(q, t) != 1) fail("E_INVALID_PARAMS", "plain modulus must be coprime to every prime");
    }
  }
  const std::vector<ParmsId> ids = chain_parms_ids(parms);
  if (ids.empty()) fail("E_INVALID_PARAMS", "plain modulus must be below the coefficient modulus");
  std::vector<Level> levels;
  for (std::size_t i = 0; i < ids.size(); i++) {
    Level level;
    level.parms_id = ids[i];
    level.prime_count = primes.size() - i;
    // Bit count of the product: exact via a running multiword product.
    ring::Words product{1};
    for (std::size_t j = 0; j < level.prime_count; j++) product = ring::mul_word(product, primes[j]);
    level.total_bits = ring::bit_length(product.data(), product.size());
    level.chain_index = ids.size() - 1 - i;
    level.last_prime = static_cast<double>(primes[level.prime_count - 1]);
    levels.push_back(level);
  }
  return Chain(std::move(levels));
}

}  // namespace hefty::seal
