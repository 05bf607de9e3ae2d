// Element-wise products modulo primes below 2^50 on AVX-512 IFMA: a product of residues splits exactly into
// 52-bit halves (two IFMA instructions), sums of up to 15 of them keep the high half below 2^52, and one
// reduction per output coefficient finishes. Same results as the 64-bit kernels in ntt_simd.h (canonical).
#pragma once
#include <cstddef>

#include "modarith.h"

namespace hefty::rlwe::ifma {

// Whether these kernels serve prime q and a sum of `terms` products on this CPU.
bool products_fit(u64 q, std::size_t terms = 1);
// Whether key_products_wide serves prime q (any q below 2^61) and `terms` products on this CPU.
bool wide_products_fit(u64 q, std::size_t terms);

// out = a ⊙ b mod m.q (n a multiple of 8, inputs canonical).
void multiply_rows(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m);
// out = x mod m.q for any 64-bit x: x splits at bit 52 and both parts reduce by 52-bit Shoup multiplications.
void reduce_row(const u64* x, u64* out, std::size_t n, const Mod& m);
// out = c + a ⊙ b mod m.q (out may alias c).
void multiply_add_rows(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m);
// (c0, c1, c2) = (a0 b0, a0 b1 + a1 b0, a1 b1) mod m.q.
void tensor_rows(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2, std::size_t n,
                 const Mod& m);
// out_k[i] = Σ_j x[j][i] · key_k[j][i] mod m.q for k = 0, 1 (count <= 15).
void key_products(const u64* const* x, const u64* const* key0, const u64* const* key1, std::size_t count, u64* out0,
                  u64* out1, std::size_t n, const Mod& m);
// The same for primes up to 2^61 (count <= 1024): residues split into 52-bit and 9-bit limbs, seven IFMA
// instructions per product into three limb sums, one reduction per output coefficient.
void key_products_wide(const u64* const* x, const u64* const* key0, const u64* const* key1, std::size_t count,
                       u64* out0, u64* out1, std::size_t n, const Mod& m);

}  // namespace hefty::rlwe::ifma
