#include "primes.h"

#include <map>

#include "../rlwe/op_error.h"

namespace hefty::seal {

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

void check_degree(std::size_t n) {
  if (n < 2 || n > 131072 || (n & (n - 1)) != 0) {
    fail("E_INVALID_PARAMS", "poly_modulus_degree must be a power of two in [2, 131072]");
  }
}

int security_index(int security) {
  switch (security) {
    case 128:
      return 0;
    case 192:
      return 1;
    case 256:
      return 2;
    default:
      fail("E_INVALID_ARGUMENT", "security level must be 128, 192 or 256");
  }
}

// HomomorphicEncryption.org limits, ternary secret, classical (spec §3.3): N -> {tc128, tc192, tc256}.
struct SecurityRow {
  std::size_t n;
  int bits[3];
};
constexpr SecurityRow kMaxBits[] = {
    {1024, {27, 19, 14}},    {2048, {54, 37, 29}},     {4096, {109, 75, 58}},
    {8192, {218, 152, 118}}, {16384, {438, 305, 237}}, {32768, {881, 611, 476}},
};

// CoeffModulus::BFVDefault (constants from SEAL 4.1, as listed in the spec's test vectors).
struct DefaultRow {
  int security;
  std::size_t n;
  std::vector<std::uint64_t> primes;
};
const std::vector<DefaultRow>& bfv_default_table() {
  static const std::vector<DefaultRow> table = {
    {128, 1024, {0x7e00001ULL}},
    {128, 2048, {0x3fffffff000001ULL}},
    {128, 4096, {0xffffee001ULL, 0xffffc4001ULL, 0x1ffffe0001ULL}},
    {128, 8192, {0x7fffffd8001ULL, 0x7fffffc8001ULL, 0xfffffffc001ULL, 0xffffff6c001ULL, 0xfffffebc001ULL}},
    {128, 16384, {
      0xfffffffd8001ULL, 0xfffffffa0001ULL, 0xfffffff00001ULL, 0x1fffffff68001ULL,
      0x1fffffff50001ULL, 0x1ffffffee8001ULL, 0x1ffffffea0001ULL, 0x1ffffffe88001ULL,
      0x1ffffffe48001ULL}},
    {128, 32768, {
      0x7fffffffe90001ULL, 0x7fffffffbf0001ULL, 0x7fffffffbd0001ULL, 0x7fffffffba0001ULL,
      0x7fffffffaa0001ULL, 0x7fffffffa50001ULL, 0x7fffffff9f0001ULL, 0x7fffffff7e0001ULL,
      0x7fffffff770001ULL, 0x7fffffff380001ULL, 0x7fffffff330001ULL, 0x7fffffff2d0001ULL,
      0x7fffffff170001ULL, 0x7fffffff150001ULL, 0x7ffffffef00001ULL, 0xfffffffff70001ULL}},
    {192, 1024, {0x7f001ULL}},
    {192, 2048, {0x1ffffc0001ULL}},
    {192, 4096, {0x1ffc001ULL, 0x1fce001ULL, 0x1fc0001ULL}},
    {192, 8192, {0x3ffffac001ULL, 0x3ffff54001ULL, 0x3ffff48001ULL, 0x3ffff28001ULL}},
    {192, 16384, {
      0x3ffffffdf0001ULL, 0x3ffffffd48001ULL, 0x3ffffffd20001ULL, 0x3ffffffd18001ULL,
      0x3ffffffcd0001ULL, 0x3ffffffc70001ULL}},
    {192, 32768, {
      0x3fffffffd60001ULL, 0x3fffffffca0001ULL, 0x3fffffff6d0001ULL, 0x3fffffff5d0001ULL,
      0x3fffffff550001ULL, 0x7fffffffe90001ULL, 0x7fffffffbf0001ULL, 0x7fffffffbd0001ULL,
      0x7fffffffba0001ULL, 0x7fffffffaa0001ULL, 0x7fffffffa50001ULL}},
    {256, 1024, {0x3001ULL}},
    {256, 2048, {0x1ffc0001ULL}},
    {256, 4096, {0x3ffffffff040001ULL}},
    {256, 8192, {0x7ffffec001ULL, 0x7ffffb0001ULL, 0xfffffdc001ULL}},
    {256, 16384, {0x7ffffffc8001ULL, 0x7ffffff00001ULL, 0x7fffffe70001ULL, 0xfffffffd8001ULL, 0xfffffffa0001ULL}},
    {256, 32768, {
      0xffffffff00001ULL, 0x1fffffffe30001ULL, 0x1fffffffd80001ULL, 0x1fffffffd10001ULL,
      0x1fffffffc50001ULL, 0x1fffffffbf0001ULL, 0x1fffffffb90001ULL, 0x1fffffffb60001ULL,
      0x1fffffffa50001ULL}},
  };
  return table;
}

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
  check_degree(n);
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

std::uint64_t plain_modulus_batching(std::size_t n, int bits) { return coeff_modulus_create(n, {bits})[0]; }

int max_bit_count(std::size_t n, int security) {
  const int index = security_index(security);
  for (const SecurityRow& row : kMaxBits) {
    if (row.n == n) return row.bits[index];
  }
  return 0;
}

std::vector<std::uint64_t> bfv_default(std::size_t n, int security) {
  security_index(security);
  for (const DefaultRow& row : bfv_default_table()) {
    if (row.security == security && row.n == n) return row.primes;
  }
  fail("E_INVALID_PARAMS", "BFVDefault has no coefficient modulus for this poly_modulus_degree");
}

}  // namespace hefty::seal
