// Little-endian multiword unsigned integers: the ring layer's big integers (CRT products and composed values).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hefty::ring {

using Words = std::vector<std::uint64_t>;

// out = a * b (out has a.size() + 1 words).
Words mul_word(const Words& a, std::uint64_t b);
// a >= b, both with the same word count.
bool greater_or_equal(const std::uint64_t* a, const std::uint64_t* b, std::size_t n);
// a -= b in place (no underflow check).
void sub_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n);
// a += b in place, returns the carry out.
std::uint64_t add_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n);
// a += b * c in place for n-word a and b (the carry out of the top word is dropped).
void add_product_in_place(std::uint64_t* a, const std::uint64_t* b, std::size_t n, std::uint64_t c);
// Bit length of an n-word value (0 for zero).
int bit_length(const std::uint64_t* a, std::size_t n);

}  // namespace hefty::ring
