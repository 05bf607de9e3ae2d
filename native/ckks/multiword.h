// Little-endian multiword unsigned integers, just enough for CRT composition in the decoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hefty::ckks {

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
// a mod q for a multiword a.
std::uint64_t mod_word(const std::uint64_t* a, std::size_t n, std::uint64_t q);
// |x| mod q for an integer-valued double x of any magnitude.
std::uint64_t integral_double_mod(double abs_x, std::uint64_t q);

}  // namespace hefty::ckks
