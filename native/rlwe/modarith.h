// Word-level arithmetic modulo a prime q < 2^61, written for the hot loops of key switching and the CKKS
// evaluator: Barrett reduction of 128-bit values (one precomputed 128-bit ratio) and Shoup multiplication
// by a fixed operand. Everything is inline and allocation-free.
#pragma once
#include <cstdint>

namespace hefty::rlwe {

using u64 = std::uint64_t;
using u128 = unsigned __int128;

inline u64 mul_hi(u64 a, u64 b) { return static_cast<u64>((static_cast<u128>(a) * b) >> 64); }

// x - q when x >= q (x < q + 2^64 - q): the wrapped difference is the larger value exactly when x < q. As a
// minimum it compiles without a data-dependent branch, which random residues would mispredict half the time.
inline u64 subtract_if_above(u64 x, u64 q) {
  const u64 d = x - q;
  return d < x ? d : x;
}

struct Mod {
  u64 q = 0;
  u64 ratio_lo = 0;  // floor(2^128 / q), low word
  u64 ratio_hi = 0;  //                   high word
  int bits = 0;      // bit length k of q
  u64 mu = 0;        // floor(2^(2k) / q), for reduce_product

  Mod() = default;
  explicit Mod(u64 value) : q(value) {
    bits = 64 - __builtin_clzll(value);
    mu = static_cast<u64>((static_cast<u128>(1) << (2 * bits)) / value);
    // 2^128 / q via long division by words: (2^128 - 1) / q, corrected for q that divides 2^128 (never prime).
    const u128 all_ones = ~static_cast<u128>(0);
    const u128 ratio = all_ones / value;
    ratio_lo = static_cast<u64>(ratio);
    ratio_hi = static_cast<u64>(ratio >> 64);
  }

  // x mod q for any 128-bit x.
  u64 reduce(u128 x) const {
    const u64 lo = static_cast<u64>(x);
    const u64 hi = static_cast<u64>(x >> 64);
    // Bits 128..191 of x * ratio give the quotient estimate (low word only is needed).
    const u64 carry = mul_hi(lo, ratio_lo);
    const u128 lo_hi = static_cast<u128>(lo) * ratio_hi;
    const u128 hi_lo = static_cast<u128>(hi) * ratio_lo;
    const u128 middle = (lo_hi & ~u64{0}) + (hi_lo & ~u64{0}) + carry;
    const u64 quotient = hi * ratio_hi + static_cast<u64>(lo_hi >> 64) + static_cast<u64>(hi_lo >> 64) +
                         static_cast<u64>(middle >> 64);
    return subtract_if_above(lo - quotient * q, q);
  }

  // x mod q for x < q^2 (a product of two residues): classic Barrett with one 64x64 multiply; the quotient
  // estimate is at most 2 short, so two conditional subtractions finish.
  u64 reduce_product(u128 x) const {
    const u64 t = static_cast<u64>(x >> (bits - 1));
    const u64 estimate = static_cast<u64>((static_cast<u128>(t) * mu) >> (bits + 1));
    const u64 r = static_cast<u64>(x) - estimate * q;
    return subtract_if_above(subtract_if_above(r, q), q);
  }

  // x mod q for a 64-bit x.
  u64 reduce(u64 x) const {
    const u64 quotient = mul_hi(x, ratio_hi);
    return subtract_if_above(x - quotient * q, q);
  }

  // a * b mod q for residues a, b < q.
  u64 mul(u64 a, u64 b) const { return reduce_product(static_cast<u128>(a) * b); }
  u64 add(u64 a, u64 b) const { return subtract_if_above(a + b, q); }
  u64 sub(u64 a, u64 b) const { return subtract_if_above(a + q - b, q); }
  u64 neg(u64 a) const { return subtract_if_above(q - a, q); }
  u64 pow(u64 base, u64 exp) const {
    u64 r = 1 % q;
    base = reduce(base);
    while (exp > 0) {
      if (exp & 1) r = mul(r, base);
      base = mul(base, base);
      exp >>= 1;
    }
    return r;
  }
  u64 inv(u64 a) const { return pow(a, q - 2); }
};

// Multiplication by a fixed operand w < q with Shoup's precomputed quotient floor(w * 2^64 / q).
struct ShoupMul {
  u64 w = 0;
  u64 w_shoup = 0;

  ShoupMul() = default;
  ShoupMul(u64 operand, u64 q)
      : w(operand), w_shoup(static_cast<u64>((static_cast<u128>(operand) << 64) / q)) {}

  // Result in [0, 2q) for any 64-bit x.
  u64 lazy(u64 x, u64 q) const { return x * w - mul_hi(x, w_shoup) * q; }
  u64 apply(u64 x, u64 q) const {
    const u64 r = lazy(x, q);
    return r >= q ? r - q : r;
  }
};

}  // namespace hefty::rlwe
