#include "multiword.h"

#include <cmath>

namespace hefty::ckks {

using u128 = unsigned __int128;

Words mul_word(const Words& a, std::uint64_t b) {
  Words out(a.size() + 1, 0);
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < a.size(); i++) {
    const u128 p = static_cast<u128>(a[i]) * b + carry;
    out[i] = static_cast<std::uint64_t>(p);
    carry = static_cast<std::uint64_t>(p >> 64);
  }
  out[a.size()] = carry;
  return out;
}

bool greater_or_equal(const std::uint64_t* a, const std::uint64_t* b, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}

void sub_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n) {
  std::uint64_t borrow = 0;
  for (std::size_t i = 0; i < n; i++) {
    const std::uint64_t d = a[i] - b[i];
    const std::uint64_t next = (a[i] < b[i]) | (d < borrow);
    a[i] = d - borrow;
    borrow = next;
  }
}

std::uint64_t add_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n) {
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < n; i++) {
    const u128 s = static_cast<u128>(a[i]) + b[i] + carry;
    a[i] = static_cast<std::uint64_t>(s);
    carry = static_cast<std::uint64_t>(s >> 64);
  }
  return carry;
}

void add_product_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n, std::uint64_t c) {
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < n; i++) {
    const u128 s = static_cast<u128>(b[i]) * c + a[i] + carry;
    a[i] = static_cast<std::uint64_t>(s);
    carry = static_cast<std::uint64_t>(s >> 64);
  }
}

std::uint64_t mod_word(const std::uint64_t* a, std::size_t n, std::uint64_t q) {
  u128 r = 0;
  for (std::size_t i = n; i-- > 0;) r = ((r << 64) | a[i]) % q;
  return static_cast<std::uint64_t>(r);
}

std::uint64_t integral_double_mod(double abs_x, std::uint64_t q) {
  if (abs_x < 18446744073709551616.0) return static_cast<std::uint64_t>(abs_x) % q;
  // abs_x = mantissa * 2^shift exactly, with a 53-bit integer mantissa.
  int exponent = 0;
  const double fraction = std::frexp(abs_x, &exponent);
  const auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  unsigned shift = static_cast<unsigned>(exponent - 53);
  u128 result = mantissa % q;
  u128 base = 2;
  while (shift > 0) {
    if (shift & 1) result = result * base % q;
    base = base * base % q;
    shift >>= 1;
  }
  return static_cast<std::uint64_t>(result);
}

}  // namespace hefty::ckks
