// SEAL's in-place complex transforms over bit-reversed order (spec §5 structure, §6.3-6.4 use).
#pragma once
#include <cstddef>

#include "complex_math.h"

namespace hefty::ckks {

// Cooley-Tukey pass with table `roots` (roots[1..n-1] are used); decoding uses it with no scaling.
void fft_forward(Complex* a, std::size_t n, const Complex* roots);

// Gentleman-Sande pass with table `roots`; the last stage multiplies by the real `scalar` (encoding passes
// scale/N), folded into the butterfly exactly as SEAL does.
void fft_inverse_scaled(Complex* a, std::size_t n, const Complex* roots, double scalar);

}  // namespace hefty::ckks
