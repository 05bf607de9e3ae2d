// NTT passes on AVX-512 IFMA (52-bit multiply-add) for primes below 2^50, where the lazy values (< 4q) fit
// the 52-bit multiplier inputs: Shoup multiplication takes three IFMA instructions instead of the ten-odd of
// the 64-bit emulation. Outputs are canonical, hence identical to the 64-bit passes'.
#pragma once
#include <cstddef>

#include "modarith.h"

namespace hefty::rlwe::ifma {

// Primes below this bound can use these passes.
constexpr u64 kPrimeBound = u64{1} << 50;

// True when simd::available(), the CPU has AVX-512 IFMA and HEFTY_NO_IFMA is not set (tests set it to check the
// 64-bit kernels on small primes too).
bool available();

// A root for these passes: w with Shoup's quotient floor(w * 2^52 / q).
ShoupMul shoup52(u64 w, u64 q);

// The whole forward NTT (roots as NttEngine orders them, shoup52 quotients); n >= 16.
void forward(u64* a, std::size_t n, const ShoupMul* roots, u64 q);

// The whole inverse NTT with the N^-1 factors; n >= 32.
void inverse(u64* a, std::size_t n, const ShoupMul* inv_roots, u64 q, const ShoupMul& inv_n,
             const ShoupMul& inv_n_last);

}  // namespace hefty::rlwe::ifma
