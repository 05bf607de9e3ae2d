// AVX-512 butterfly passes for NttEngine (x86-64 only, chosen at run time; everything else uses the scalar
// passes). The arithmetic is the scalar Harvey/Shoup arithmetic lane by lane, so results are identical.
#pragma once
#include <cstddef>
#include <cstdint>

#include "modarith.h"

namespace hefty::rlwe::simd {

// True when the CPU has AVX-512 F+DQ and HEFTY_NO_SIMD is not set.
bool available();

// The whole forward NTT (roots as NttEngine orders them, 64-bit Shoup quotients), canonical output; n >= 16.
void forward(u64* a, std::size_t n, const ShoupMul* roots, u64 q);

// The whole inverse NTT with the N^-1 factors, canonical output; n >= 32.
void inverse(u64* a, std::size_t n, const ShoupMul* inv_roots, u64 q, const ShoupMul& inv_n,
             const ShoupMul& inv_n_last);

// Rounding-division row kernels (RingTools::round_drop_row), n a multiple of 8:
// scratch[j] = ((x mod q) - half) mod q with x = last_shifted[j] (reduced by Barrett when `reduce`).
void round_drop_prepare(const u64* last_shifted, u64* scratch, std::size_t n, const Mod& m, u64 half, bool reduce);
// out[j] = (in[j] + q - scratch[j]) * inv mod q, plus base[j] mod q when `base` is given (it may alias out).
void round_drop_finish(const u64* in, const u64* scratch, const u64* base, u64* out, std::size_t n, u64 q,
                       const ShoupMul& inv);

// Element-wise products modulo m.q (n a multiple of 8, inputs canonical):
// out = a ⊙ b.
void multiply_rows(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m);
// (c0, c1, c2) = (a0 b0, a0 b1 + a1 b0, a1 b1).
void tensor_rows(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2, std::size_t n,
                 const Mod& m);

// out = c + a ⊙ b (out may alias c).
void multiply_add_rows(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m);
// out = a + b, a - b, -a (canonical inputs; out may alias an input).
void add_rows(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void sub_rows(const u64* a, const u64* b, u64* out, std::size_t n, u64 q);
void negate_rows(const u64* a, u64* out, std::size_t n, u64 q);

// Key-switching inner products for one output modulus: out_k[i] = Σ_j x[j][i] · key_k[j][i] mod q for
// k = 0, 1 (all inputs canonical, n a multiple of 8).
void key_products(const u64* const* x, const u64* const* key0, const u64* const* key1, std::size_t count, u64* out0,
                  u64* out1, std::size_t n, const Mod& m);

// dst[i] = ±(magnitude[i] mod q), negated where sign_source[i] has its sign bit set (n a multiple of 8).
void reduce_signed_magnitudes(const u64* magnitude, const double* sign_source, u64* dst, std::size_t n, const Mod& m);
// dst[i] = x mod q for a 64-bit Barrett (n a multiple of 8).
void reduce_row(const u64* src, u64* dst, std::size_t n, const Mod& m);
// dst[i] = src[table[i]] (n a multiple of 8).
void permute_row(const u64* src, const std::uint32_t* table, u64* dst, std::size_t n);

}  // namespace hefty::rlwe::simd
