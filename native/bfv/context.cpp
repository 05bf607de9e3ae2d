#include "context.h"

#include "../ring/multiword.h"
#include "../rlwe/op_error.h"
#include "../seal/params.h"
#include "../seal/primes.h"

namespace hefty::bfv {

using rlwe::fail;

namespace {

std::uint64_t gcd(std::uint64_t a, std::uint64_t b) {
  while (b != 0) {
    const std::uint64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

std::uint32_t reverse_bits(std::uint32_t x, int bits) {
  std::uint32_t r = 0;
  for (int b = 0; b < bits; b++) r |= ((x >> b) & 1u) << (bits - 1 - b);
  return r;
}

}  // namespace

Context::Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus)
    : n_(n), primes_(std::move(primes)), t_(plain_modulus) {
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
  if (t_ < 2 || t_ >= (std::uint64_t{1} << 60)) fail("E_INVALID_PARAMS", "plain modulus must be in [2, 2^60)");
  for (std::uint64_t q : primes_) {
    if (gcd(q, t_) != 1) fail("E_INVALID_PARAMS", "plain modulus must be coprime to every prime");
  }
  const seal::EncryptionParameters parms{seal::Scheme::Bfv, n, primes_, t_};
  const std::vector<ParmsId> ids = seal::chain_parms_ids(parms);
  if (ids.empty()) fail("E_INVALID_PARAMS", "plain modulus must be below the coefficient modulus");

  ring_ = std::make_unique<rlwe::RingTools>(n, primes_);
  galois_ = std::make_unique<rlwe::GaloisTables>(n);
  randomness_ = rlwe::os_randomness();
  std::vector<Level> levels;
  const std::size_t k = primes_.size();
  tools_.resize(k);
  for (std::size_t i = 0; i < ids.size(); i++) {
    const std::size_t count = k - i;
    Level level;
    level.parms_id = ids[i];
    level.prime_count = count;
    ring::Words product{1};
    for (std::size_t j = 0; j < count; j++) product = ring::mul_word(product, primes_[j]);
    level.total_bits = ring::bit_length(product.data(), product.size());
    level.chain_index = ids.size() - 1 - i;
    level.last_prime = static_cast<double>(primes_[count - 1]);
    levels.push_back(level);
  }
  // chain_index counts from the last level; keep the tools indexed by it.
  tools_.resize(levels.size());
  for (const Level& level : levels) {
    const bool data_level = &level != &levels.front() || levels.size() == 1;
    if (data_level) {
      const std::vector<std::uint64_t> level_primes(primes_.begin(), primes_.begin() + static_cast<std::ptrdiff_t>(level.prime_count));
      tools_[level.chain_index] = std::make_unique<LevelTools>(n, level_primes, t_);
    }
  }
  chain_ = std::make_unique<Chain>(std::move(levels));

  if (seal::is_prime(t_) && (t_ - 1) % (2 * n) == 0) {
    plain_ring_ = std::make_unique<rlwe::RingTools>(n, std::vector<std::uint64_t>{t_});
    int log_n = 0;
    while ((std::size_t{1} << log_n) < n) log_n++;
    const std::uint64_t m = 2 * n;
    const std::size_t row = n / 2;
    slot_positions_.resize(n);
    std::uint64_t power = 1;
    for (std::size_t j = 0; j < row; j++) {
      slot_positions_[j] = reverse_bits(static_cast<std::uint32_t>((power - 1) / 2), log_n);
      slot_positions_[row + j] = reverse_bits(static_cast<std::uint32_t>((m - power - 1) / 2), log_n);
      power = power * 3 % m;
    }
  }
}

const Level& Context::first_data_level() const {
  const Level* next = chain_->next(chain_->key_level());
  return next != nullptr ? *next : chain_->key_level();
}

}  // namespace hefty::bfv
