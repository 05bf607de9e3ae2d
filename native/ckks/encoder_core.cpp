#include "encoder_core.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../rlwe/modarith.h"
#include "../rlwe/op_error.h"
#include "complex_roots.h"
#include "fft.h"

namespace hefty::ckks {

namespace {

using u128 = unsigned __int128;

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

std::uint64_t pow_mod(std::uint64_t base, std::uint64_t exp, std::uint64_t q) {
  u128 r = 1 % q;
  u128 b = base % q;
  while (exp > 0) {
    if (exp & 1) r = r * b % q;
    b = b * b % q;
    exp >>= 1;
  }
  return static_cast<std::uint64_t>(r);
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

  std::vector<rlwe::Mod> mods;
  for (std::size_t j = 0; j < count_primes; j++) mods.emplace_back(primes[j]);
  for (std::size_t i = 0; i < n_; i++) {
    const double rounded = std::round(a[i].re);
    const bool negative = std::signbit(rounded);
    const double magnitude = std::fabs(rounded);
    const bool fits_word = magnitude < 18446744073709551616.0;
    const std::uint64_t word = fits_word ? static_cast<std::uint64_t>(magnitude) : 0;
    for (std::size_t j = 0; j < count_primes; j++) {
      const std::uint64_t q = primes[j];
      const std::uint64_t r = fits_word ? mods[j].reduce(word) : integral_double_mod(magnitude, q);
      out[j * n_ + i] = (negative && r != 0) ? q - r : r;
    }
  }
}

const EncoderCore::CrtLevel& EncoderCore::crt_level(const std::uint64_t* primes, std::size_t count_primes) const {
  std::vector<std::uint64_t> key(primes, primes + count_primes);
  std::lock_guard<std::mutex> lock(crt_mutex_);
  auto found = crt_levels_.find(key);
  if (found != crt_levels_.end()) return found->second;
  CrtLevel level;
  const std::size_t L = count_primes;
  level.modulus = Words{1};
  for (std::size_t j = 0; j < L; j++) level.modulus = mul_word(level.modulus, primes[j]);
  level.modulus.resize(L);
  level.half = level.modulus;
  {
    Words one_padded(L, 0);
    one_padded[0] = 1;
    add_in_place(level.half.data(), one_padded.data(), L);  // Q_L is odd and < 2^(64L): no carry out
    for (std::size_t w = 0; w < L; w++) {
      level.half[w] = (level.half[w] >> 1) | (w + 1 < L ? level.half[w + 1] << 63 : 0);
    }
  }
  for (std::size_t j = 0; j < L; j++) {
    Words p{1};
    for (std::size_t i = 0; i < L; i++) {
      if (i != j) p = mul_word(p, primes[i]);
    }
    p.resize(L, 0);
    const std::uint64_t p_mod = mod_word(p.data(), L, primes[j]);
    level.inv_punctured.push_back(pow_mod(p_mod, primes[j] - 2, primes[j]));
    level.punctured.push_back(std::move(p));
  }
  return crt_levels_.emplace(std::move(key), std::move(level)).first->second;
}

void EncoderCore::decode(const std::uint64_t* rows, const std::uint64_t* primes, std::size_t count_primes, double scale,
                         Complex* out) const {
  if (!(scale > 0) || !std::isfinite(scale)) rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
  const CrtLevel& crt = crt_level(primes, count_primes);
  const std::size_t L = count_primes;
  const double inv_scale = 1.0 / scale;
  std::vector<Complex> a(n_);
  Words x(L + 1);
  for (std::size_t i = 0; i < n_; i++) {
    std::fill(x.begin(), x.end(), 0);
    for (std::size_t j = 0; j < L; j++) {
      const std::uint64_t c = static_cast<std::uint64_t>(static_cast<u128>(rows[j * n_ + i]) * crt.inv_punctured[j] % primes[j]);
      // Each term is < Q_L and primes are < 2^60, so the sum of two stays below 2^(64L).
      add_product_in_place(x.data(), crt.punctured[j].data(), L, c);
      if (greater_or_equal(x.data(), crt.modulus.data(), L)) sub_in_place(x.data(), crt.modulus.data(), L);
    }
    double value = 0;
    double factor = inv_scale;
    if (greater_or_equal(x.data(), crt.half.data(), L)) {
      for (std::size_t t = 0; t < L; t++, factor *= 18446744073709551616.0) {
        if (x[t] > crt.modulus[t]) {
          value += static_cast<double>(x[t] - crt.modulus[t]) * factor;
        } else {
          value -= static_cast<double>(crt.modulus[t] - x[t]) * factor;
        }
      }
    } else {
      for (std::size_t t = 0; t < L; t++, factor *= 18446744073709551616.0) value += static_cast<double>(x[t]) * factor;
    }
    a[i] = {value, 0.0};
  }
  fft_forward(a.data(), n_, decode_roots_.data());
  for (std::size_t j = 0; j < n_ / 2; j++) out[j] = a[slot_index_[j]];
}

}  // namespace hefty::ckks
