// The 2N-th complex roots of unity exactly as SEAL computes them (spec §6.2): cos/sin are evaluated only on
// the first eighth of the circle and the rest follows by symmetry, so every root is bit-identical to SEAL's.
#pragma once
#include <cstddef>
#include <vector>

#include "complex_math.h"

namespace hefty::ckks {

class ComplexRoots {
 public:
  // m = 2N, a power of two >= 8.
  explicit ComplexRoots(std::size_t m);
  // e^(2*pi*i*k/m) for any k (taken mod m).
  Complex get(std::size_t k) const;

 private:
  std::size_t m_;
  std::vector<Complex> eighth_;  // k = 0..m/8
};

}  // namespace hefty::ckks
