#include "multiword.h"

namespace hefty::ring {

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

int bit_length(const std::uint64_t* a, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) {
    if (a[i] != 0) return static_cast<int>(64 * i) + 64 - __builtin_clzll(a[i]);
  }
  return 0;
}

}  // namespace hefty::ring
