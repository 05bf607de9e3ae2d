#include "complex_roots.h"

#include <cmath>

namespace hefty::ckks {

namespace {
constexpr double kPi = 3.1415926535897932384626433832795028842;
}

ComplexRoots::ComplexRoots(std::size_t m) : m_(m), eighth_(m / 8 + 1) {
  for (std::size_t k = 0; k <= m / 8; k++) {
    // Left to right, as SEAL writes it: (2 * pi * k) / m.
    const double angle = (2 * kPi * static_cast<double>(k)) / static_cast<double>(m);
    eighth_[k] = {std::cos(angle), std::sin(angle)};
  }
}

Complex ComplexRoots::get(std::size_t k) const {
  k &= m_ - 1;
  if (k <= m_ / 8) return eighth_[k];
  if (k <= m_ / 4) {
    const Complex r = get(m_ / 4 - k);
    return {r.im, r.re};
  }
  if (k <= m_ / 2) {
    const Complex r = get(m_ / 2 - k);
    return {-r.re, r.im};
  }
  if (k <= 3 * m_ / 4) {
    const Complex r = get(k - m_ / 2);
    return {-r.re, -r.im};
  }
  return conj(get(m_ - k));
}

}  // namespace hefty::ckks
