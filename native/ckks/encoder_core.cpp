#include "encoder_core.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../rlwe/op_error.h"
#include "../rlwe/row_ops.h"
#include "complex_roots.h"
#include "fft.h"

namespace hefty::ckks {

namespace {

std::size_t reverse_bits(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int b = 0; b < bits; b++) r |= ((x >> b) & 1) << (bits - 1 - b);
  return r;
}

int log2_exact(std::size_t n) {
  int b = 0;
  while ((std::size_t{1} << b) < n) b++;
  return b;
}

// SEAL's bound checks truncate log2 toward zero.
int truncated_log2(double x) { return static_cast<int>(std::log2(x)); }

}  // namespace

EncoderCore::EncoderCore(std::size_t n)
    : n_(n), slot_index_(n), decode_roots_(n), encode_roots_(n) {
  const int logn = log2_exact(n);
  const std::size_t m = 2 * n;
  std::uint64_t pos = 1;
  for (std::size_t j = 0; j < n / 2; j++) {
    slot_index_[j] = reverse_bits((pos - 1) / 2, logn);
    slot_index_[n / 2 + j] = reverse_bits((m - pos - 1) / 2, logn);
    pos = pos * 3 % m;
  }
  const ComplexRoots roots(m);
  for (std::size_t i = 0; i < n; i++) decode_roots_[i] = roots.get(reverse_bits(i, logn));
  for (std::size_t i = 1; i < n; i++) encode_roots_[i] = conj(roots.get(reverse_bits(i - 1, logn) + 1));
}

void EncoderCore::encode(const Complex* values, std::size_t count, double scale, const std::uint64_t* primes,
                         std::size_t count_primes, int total_bits, std::uint64_t* out) const {
  if (count > n_ / 2) rlwe::fail("E_LENGTH_MISMATCH", "too many values for the slot count");
  if (!(scale > 0) || !std::isfinite(scale) || truncated_log2(scale) + 1 >= total_bits) {
    rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
  }
  std::vector<Complex> a(n_);
  for (std::size_t j = 0; j < count; j++) {
    if (!std::isfinite(values[j].re) || !std::isfinite(values[j].im)) rlwe::fail("E_NOT_FINITE", "values must be finite");
    a[slot_index_[j]] = values[j];
    a[slot_index_[j + n_ / 2]] = conj(values[j]);
  }
  fft_inverse_scaled(a.data(), n_, encode_roots_.data(), scale / static_cast<double>(n_));

  double max_coeff = 0;
  for (const Complex& c : a) max_coeff = std::max(max_coeff, std::fabs(c.re));
  const int max_bits = static_cast<int>(std::ceil(std::log2(std::max(max_coeff, 1.0)))) + 1;
  if (!std::isfinite(max_coeff) || max_bits >= total_bits) rlwe::fail("E_VALUE_OUT_OF_RANGE", "encoded values are too large");

  std::vector<double> rounded(n_);
  for (std::size_t i = 0; i < n_; i++) rounded[i] = std::round(a[i].re);
  decompose_rounded(rns_base(primes, count_primes), rounded.data(), n_, out);
}

void decompose_rounded(const ring::RnsBase& base, const double* rounded, std::size_t n, std::uint64_t* out) {
  bool words_fit = true;
  for (std::size_t i = 0; i < n; i++) words_fit &= std::fabs(rounded[i]) < 0x1p64;
  if (!words_fit) {
    base.decompose(rounded, n, out);
    return;
  }
  // The magnitudes are staged in row 0; each prime's row is one vector pass over them that reduces and negates
  // where the coefficient is negative (row 0 last, in place).
  for (std::size_t i = 0; i < n; i++) out[i] = static_cast<std::uint64_t>(std::fabs(rounded[i]));
  for (std::size_t j = base.size(); j-- > 0;) rlwe::rows::reduce_signed_magnitudes(out, rounded, out + j * n, n, base.mod(j));
}

const ring::RnsBase& EncoderCore::rns_base(const std::uint64_t* primes, std::size_t count_primes) const {
  std::vector<std::uint64_t> key(primes, primes + count_primes);
  std::lock_guard<std::mutex> lock(bases_mutex_);
  auto found = bases_.find(key);
  if (found != bases_.end()) return found->second;
  ring::RnsBase base(key);
  return bases_.emplace(std::move(key), std::move(base)).first->second;
}

void EncoderCore::decode(const std::uint64_t* rows, const std::uint64_t* primes, std::size_t count_primes, double scale,
                         Complex* out) const {
  if (!(scale > 0) || !std::isfinite(scale)) rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
  std::vector<double> values(n_);
  rns_base(primes, count_primes).compose_centered(rows, n_, 1.0 / scale, values.data());
  std::vector<Complex> a(n_);
  for (std::size_t i = 0; i < n_; i++) a[i] = {values[i], 0.0};
  fft_forward(a.data(), n_, decode_roots_.data());
  for (std::size_t j = 0; j < n_ / 2; j++) out[j] = a[slot_index_[j]];
}

}  // namespace hefty::ckks
