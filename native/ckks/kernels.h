// Element-wise RNS kernels for the CKKS evaluator. Data is [poly][row][coeff]; row j is modulo ring.mod(j).
// Work is split over (poly, row) pairs through the thread pool when it is large enough to pay off.
#pragma once
#include <cstddef>

#include "../rlwe/ring_tools.h"

namespace hefty::ckks {

using rlwe::RingTools;
using rlwe::u64;

// out[p] = a[p] ± b[p] for p < polys (L rows each). out may alias a or b.
void add_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* b, u64* out);
void sub_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* b, u64* out);
void negate_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, u64* out);
// out[p] = a[p] ⊙ m for every poly p (m is one L-row polynomial).
void multiply_polys_by(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* m, u64* out);
// Ciphertext product: out (s1 + s2 - 1 polys) = a (s1 polys) ⊗ b (s2 polys). out must not alias.
void tensor(const RingTools& ring, std::size_t L, const u64* a, std::size_t s1, const u64* b, std::size_t s2, u64* out);

}  // namespace hefty::ckks
