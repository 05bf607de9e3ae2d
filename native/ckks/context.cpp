#include "context.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>

#include "../rlwe/blake2xb.h"
#include "../rlwe/op_error.h"

namespace hefty::ckks {

using rlwe::fail;
using u128 = unsigned __int128;

namespace {

std::uint64_t pow_mod(std::uint64_t base, std::uint64_t exp, std::uint64_t m) {
  u128 r = 1, b = base % m;
  while (exp > 0) {
    if (exp & 1) r = r * b % m;
    b = b * b % m;
    exp >>= 1;
  }
  return static_cast<std::uint64_t>(r);
}

int bit_count(std::uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

}  // namespace

bool is_prime(std::uint64_t value) {
  if (value < 2) return false;
  for (std::uint64_t p : {2ULL, 3ULL, 5ULL, 7ULL, 11ULL, 13ULL, 17ULL, 19ULL, 23ULL, 29ULL, 31ULL, 37ULL}) {
    if (value % p == 0) return value == p;
  }
  std::uint64_t d = value - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    s++;
  }
  // These bases decide primality for every 64-bit value.
  for (std::uint64_t a : {2ULL, 3ULL, 5ULL, 7ULL, 11ULL, 13ULL, 17ULL, 19ULL, 23ULL, 29ULL, 31ULL, 37ULL}) {
    std::uint64_t x = pow_mod(a, d, value);
    if (x == 1 || x == value - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; r++) {
      x = static_cast<std::uint64_t>(static_cast<u128>(x) * x % value);
      if (x == value - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

std::vector<std::uint64_t> coeff_modulus_create(std::size_t n, const std::vector<int>& bit_sizes) {
  if (n < 2 || n > 131072 || (n & (n - 1)) != 0) fail("E_INVALID_PARAMS", "poly_modulus_degree must be a power of two in [2, 131072]");
  if (bit_sizes.empty() || bit_sizes.size() > 256) fail("E_INVALID_PARAMS", "between 1 and 256 bit sizes are allowed");
  std::map<int, std::size_t> counts;
  for (int b : bit_sizes) {
    if (b < 2 || b > 60) fail("E_INVALID_PARAMS", "bit sizes must be in [2, 60]");
    counts[b]++;
  }
  const std::uint64_t factor = 2 * static_cast<std::uint64_t>(n);
  std::map<int, std::vector<std::uint64_t>> found;  // descending per size
  for (const auto& [bits, count] : counts) {
    std::vector<std::uint64_t>& list = found[bits];
    const std::uint64_t top = (std::uint64_t{1} << bits) - 1;
    std::uint64_t v = top / factor * factor + 1;
    const std::uint64_t floor = std::uint64_t{1} << (bits - 1);
    while (list.size() < count && v > floor) {
      if (is_prime(v)) list.push_back(v);
      if (v < factor) break;
      v -= factor;
    }
    if (list.size() < count) fail("E_INVALID_PARAMS", "failed to find enough qualifying primes");
  }
  std::vector<std::uint64_t> out;
  for (int b : bit_sizes) {
    out.push_back(found[b].back());  // the smallest remaining
    found[b].pop_back();
  }
  return out;
}

ParmsId ckks_parms_id(std::size_t n, const std::uint64_t* primes, std::size_t count) {
  std::vector<std::uint8_t> bytes;
  auto put = [&](std::uint64_t w) {
    for (int b = 0; b < 8; b++) bytes.push_back(static_cast<std::uint8_t>(w >> (8 * b)));
  };
  put(2);
  put(n);
  for (std::size_t i = 0; i < count; i++) put(primes[i]);
  put(0);
  std::array<std::uint8_t, 64> param{};
  param[0] = 32;  // digest length
  param[2] = 1;   // fanout
  param[3] = 1;   // depth
  std::uint8_t digest[32];
  rlwe::blake2b_with_params(param, nullptr, 0, bytes.data(), bytes.size(), digest);
  ParmsId id{};
  for (int w = 0; w < 4; w++) {
    for (int b = 7; b >= 0; b--) id[w] = (id[w] << 8) | digest[8 * w + b];
  }
  return id;
}

Context::Context(std::size_t n, std::vector<std::uint64_t> primes) : n_(n), primes_(std::move(primes)) {
  if (n < 2 || n > 131072 || (n & (n - 1)) != 0) fail("E_INVALID_PARAMS", "poly_modulus_degree must be a power of two in [2, 131072]");
  if (primes_.empty() || primes_.size() > 256) fail("E_INVALID_PARAMS", "between 1 and 256 primes are allowed");
  for (std::size_t i = 0; i < primes_.size(); i++) {
    const std::uint64_t q = primes_[i];
    if (q < 2 || q >= (std::uint64_t{1} << 60)) fail("E_INVALID_PARAMS", "primes must be below 2^60");
    if (!is_prime(q) || (q - 1) % (2 * n) != 0) fail("E_INVALID_PARAMS", "primes must be prime and 1 mod 2N");
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
  for (std::size_t count = k; count >= 1; count--) {
    Level level;
    level.parms_id = ckks_parms_id(n, primes_.data(), count);
    level.prime_count = count;
    int bits = 0;
    // Bit count of the product: exact via a running multiword product.
    Words product{1};
    for (std::size_t j = 0; j < count; j++) product = mul_word(product, primes_[j]);
    while (product.size() > 1 && product.back() == 0) product.pop_back();
    bits = static_cast<int>(64 * (product.size() - 1)) + bit_count(product.back());
    level.total_bits = bits;
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
