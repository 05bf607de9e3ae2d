// Element-wise arithmetic on one RNS row modulo one prime (canonical inputs and outputs): the AVX-512 / IFMA
// kernels where the CPU has them and N is a multiple of 8, branch-free scalar loops otherwise. Outputs may
// alias inputs.
#pragma once
#include <cstddef>

#include "modarith.h"

namespace hefty::rlwe::rows {

void add(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m);
void sub(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m);
void negate(const u64* a, u64* out, std::size_t n, const Mod& m);
// out = x mod q for any 64-bit x.
void reduce(const u64* x, u64* out, std::size_t n, const Mod& m);
// out = ±(magnitude mod q), negated where sign_source (a double per word) is negative or -0. out may alias
// magnitude.
void reduce_signed_magnitudes(const u64* magnitude, const double* sign_source, u64* out, std::size_t n, const Mod& m);
// out = a ⊙ b.
void multiply(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m);
// out = c + a ⊙ b.
void multiply_add(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m);
// The product of two size-2 ciphertexts on one row: (c0, c1, c2) = (a0 b0, a0 b1 + a1 b0, a1 b1).
void tensor(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2, std::size_t n,
            const Mod& m);

}  // namespace hefty::rlwe::rows
