#include "galois.h"

#include <cstdlib>
#include <string>

#include "ntt_simd.h"
#include "op_error.h"
#include "thread_pool.h"

namespace hefty::rlwe {

namespace {

std::uint32_t reverse_bits(std::uint32_t x, int bits) {
  std::uint32_t r = 0;
  for (int b = 0; b < bits; b++) r |= ((x >> b) & 1u) << (bits - 1 - b);
  return r;
}

}  // namespace

std::vector<int> non_adjacent_form(int value) {
  std::vector<int> digits;
  const bool negative = value < 0;
  long long v = std::llabs(static_cast<long long>(value));
  for (int i = 0; v != 0; i++) {
    const long long digit = (v & 1) != 0 ? 2 - (v & 3) : 0;
    v = (v - digit) >> 1;
    if (digit != 0) digits.push_back(static_cast<int>((negative ? -digit : digit) * (1LL << i)));
  }
  return digits;
}

std::uint32_t galois_elt_from_step(int step, std::size_t n) {
  const std::uint64_t m = 2 * n;
  const long long half = static_cast<long long>(n / 2);
  const long long s = step;
  if (s >= half || s <= -half) fail("E_INVALID_ARGUMENT", "rotation step out of range");
  if (s == 0) return static_cast<std::uint32_t>(m - 1);
  std::uint64_t exponent = s > 0 ? static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(half + s);
  std::uint64_t result = 1, base = 3;
  while (exponent > 0) {
    if (exponent & 1) result = result * base % m;
    base = base * base % m;
    exponent >>= 1;
  }
  return static_cast<std::uint32_t>(result);
}

GaloisTables::GaloisTables(std::size_t n) : n_(n), log_n_(0) {
  while ((std::size_t{1} << log_n_) < n) log_n_++;
}

const std::vector<std::uint32_t>& GaloisTables::ntt_permutation(std::uint32_t galois_elt) const {
  const std::uint64_t m = 2 * n_;
  if ((galois_elt & 1u) == 0 || galois_elt >= m) fail("E_INVALID_ARGUMENT", "galois element must be odd and < 2N");
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = tables_[galois_elt];
  if (!slot) {
    auto table = std::make_unique<std::vector<std::uint32_t>>(n_);
    for (std::uint32_t i = 0; i < n_; i++) {
      const std::uint64_t odd = 2 * std::uint64_t{reverse_bits(i, log_n_)} + 1;
      const std::uint64_t image = (galois_elt * odd) & (m - 1);
      (*table)[i] = reverse_bits(static_cast<std::uint32_t>((image - 1) / 2), log_n_);
    }
    slot = std::move(table);
  }
  return *slot;
}

void GaloisTables::apply_ntt(std::uint32_t galois_elt, const std::uint64_t* in, std::size_t rows, std::uint64_t* out) const {
  const std::vector<std::uint32_t>& table = ntt_permutation(galois_elt);
  parallel_for(rows, [&](std::size_t r) { permute_row(table, in + r * n_, out + r * n_); });
}

void GaloisTables::permute_row(const std::vector<std::uint32_t>& table, const std::uint64_t* in, std::uint64_t* out) const {
  if (n_ % 8 == 0 && simd::available()) {
    simd::permute_row(in, table.data(), out, n_);
  } else {
    for (std::size_t i = 0; i < n_; i++) out[i] = in[table[i]];
  }
}

}  // namespace hefty::rlwe
