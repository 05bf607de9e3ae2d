#include "rns_base.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../rlwe/op_error.h"

namespace hefty::ring {

namespace {

using rlwe::Mod;
using u128 = unsigned __int128;

constexpr double kTwo64 = 18446744073709551616.0;

u64 gcd(u64 a, u64 b) {
  while (b != 0) {
    const u64 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// a^-1 mod m for gcd(a, m) = 1 (extended Euclid: the moduli need not be prime).
u64 inverse_mod(u64 a, u64 m) {
  __int128 r0 = m, r1 = a % m, t0 = 0, t1 = 1;
  while (r1 != 0) {
    const __int128 quotient = r0 / r1;
    const __int128 r2 = r0 - quotient * r1;
    const __int128 t2 = t0 - quotient * t1;
    r0 = r1;
    r1 = r2;
    t0 = t1;
    t1 = t2;
  }
  if (t0 < 0) t0 += m;
  return static_cast<u64>(t0);
}

// A multiword value mod q by Horner's rule over the words (each step reduces a value below q * 2^64).
u64 reduce_words(const u64* a, std::size_t n, const Mod& mod) {
  u64 r = 0;
  for (std::size_t i = n; i-- > 0;) r = mod.reduce((static_cast<u128>(r) << 64) | a[i]);
  return r;
}

// |x| mod q for an integer-valued double |x| >= 2^64: |x| = mantissa * 2^shift exactly.
u64 reduce_large_double(double abs_x, const Mod& mod) {
  int exponent = 0;
  const double fraction = std::frexp(abs_x, &exponent);
  const auto mantissa = static_cast<u64>(std::ldexp(fraction, 53));
  return mod.mul(mod.reduce(mantissa), mod.pow(2, static_cast<u64>(exponent - 53)));
}

void validate(const std::vector<u64>& moduli) {
  if (moduli.empty()) rlwe::fail("E_INVALID_PARAMS", "an RNS base needs at least one modulus");
  for (std::size_t i = 0; i < moduli.size(); i++) {
    const u64 q = moduli[i];
    if (q < 2 || (q >> RnsBase::kMaxModulusBits) != 0) {
      rlwe::fail("E_INVALID_PARAMS", "RNS modulus " + std::to_string(q) + " is not in [2, 2^61)");
    }
    for (std::size_t j = 0; j < i; j++) {
      if (gcd(moduli[j], q) != 1) {
        rlwe::fail("E_INVALID_PARAMS", "RNS moduli " + std::to_string(moduli[j]) + " and " + std::to_string(q) +
                                           " are not coprime");
      }
    }
  }
}

}  // namespace

void reduce_signed(const Mod& mod, const std::int64_t* values, std::size_t count, u64* out) {
  // Noise and secrets are far below q: then x mod q is x or q + x, in a loop without branches or divisions
  // that the compiler vectorizes (sampled signs are random, so a branch on them mispredicts half the time).
  const u64 q = mod.q;
  bool small = true;
  for (std::size_t k = 0; k < count; k++) {
    const u64 magnitude = values[k] < 0 ? ~static_cast<u64>(values[k]) + 1 : static_cast<u64>(values[k]);
    small &= magnitude < q;
  }
  if (small) {
    for (std::size_t k = 0; k < count; k++) {
      out[k] = static_cast<u64>(values[k]) + (q & static_cast<u64>(values[k] >> 63));
    }
    return;
  }
  for (std::size_t k = 0; k < count; k++) {
    const std::int64_t x = values[k];
    // Two's complement negation gives |x| for INT64_MIN too.
    const u64 magnitude = x < 0 ? ~static_cast<u64>(x) + 1 : static_cast<u64>(x);
    const u64 r = mod.reduce(magnitude);
    out[k] = x < 0 ? mod.neg(r) : r;
  }
}

RnsBase::RnsBase(std::vector<u64> moduli) : moduli_(std::move(moduli)) {
  validate(moduli_);
  const std::size_t L = moduli_.size();
  for (const u64 q : moduli_) mods_.emplace_back(q);
  // Q < 2^(61 L), so every product here fits in L words.
  modulus_ = Words{1};
  for (const u64 q : moduli_) modulus_ = mul_word(modulus_, q);
  modulus_.resize(L);
  half_ = modulus_;
  Words one(L, 0);
  one[0] = 1;
  add_in_place(half_.data(), one.data(), L);
  for (std::size_t w = 0; w < L; w++) half_[w] = (half_[w] >> 1) | (w + 1 < L ? half_[w + 1] << 63 : 0);
  punctured_.reserve(L * L);
  for (std::size_t i = 0; i < L; i++) {
    Words p{1};
    for (std::size_t j = 0; j < L; j++) {
      if (j != i) p = mul_word(p, moduli_[j]);
    }
    p.resize(L, 0);
    const u64 inverse = inverse_mod(reduce_words(p.data(), L, mods_[i]), moduli_[i]);
    inv_punctured_.emplace_back(inverse, moduli_[i]);
    punctured_.insert(punctured_.end(), p.begin(), p.end());
  }
}

void RnsBase::decompose(const u64* values, std::size_t count, u64* residues) const {
  const std::size_t L = size();
  for (std::size_t i = 0; i < L; i++) {
    const Mod& mod = mods_[i];
    u64* row = residues + i * count;
    for (std::size_t k = 0; k < count; k++) row[k] = reduce_words(values + k * L, L, mod);
  }
}

void RnsBase::decompose(const std::int64_t* values, std::size_t count, u64* residues) const {
  for (std::size_t i = 0; i < size(); i++) reduce_signed(mods_[i], values, count, residues + i * count);
}

void RnsBase::decompose(const double* values, std::size_t count, u64* residues) const {
  for (std::size_t k = 0; k < count; k++) {
    const double magnitude = std::fabs(values[k]);
    const bool negative = std::signbit(values[k]);
    if (magnitude < kTwo64) {
      const auto word = static_cast<u64>(magnitude);
      for (std::size_t i = 0; i < size(); i++) {
        const u64 r = mods_[i].reduce(word);
        residues[i * count + k] = negative ? mods_[i].neg(r) : r;
      }
    } else {
      for (std::size_t i = 0; i < size(); i++) {
        const u64 r = reduce_large_double(magnitude, mods_[i]);
        residues[i * count + k] = negative ? mods_[i].neg(r) : r;
      }
    }
  }
}

void RnsBase::compose_one(const u64* residues, std::size_t count, std::size_t k, u64* x) const {
  const std::size_t L = size();
  for (std::size_t i = 0; i < L; i++) {
    const u64 c = inv_punctured_[i].apply(residues[i * count + k], moduli_[i]);
    // x < Q and c * Q/q_i < Q, so the sum stays below 2Q < 2^(64 L): no carry out.
    add_product_in_place(x, punctured(i), L, c);
    if (greater_or_equal(x, modulus_.data(), L)) sub_in_place(x, modulus_.data(), L);
  }
}

void RnsBase::compose(const u64* residues, std::size_t count, u64* values) const {
  const std::size_t L = size();
  std::fill(values, values + count * L, 0);
  for (std::size_t k = 0; k < count; k++) compose_one(residues, count, k, values + k * L);
}

void RnsBase::compose_centered(const u64* residues, std::size_t count, double factor, double* out) const {
  const std::size_t L = size();
  Words x(L);
  const u64* q = modulus_.data();
  for (std::size_t k = 0; k < count; k++) {
    std::fill(x.begin(), x.end(), 0);
    compose_one(residues, count, k, x.data());
    double value = 0;
    double scale = factor;
    // Word by word, so each term is exact before scaling: x - Q as signed word differences.
    if (greater_or_equal(x.data(), half_.data(), L)) {
      for (std::size_t t = 0; t < L; t++, scale *= kTwo64) {
        value += x[t] > q[t] ? static_cast<double>(x[t] - q[t]) * scale : -(static_cast<double>(q[t] - x[t]) * scale);
      }
    } else {
      for (std::size_t t = 0; t < L; t++, scale *= kTwo64) value += static_cast<double>(x[t]) * scale;
    }
    out[k] = value;
  }
}

}  // namespace hefty::ring
