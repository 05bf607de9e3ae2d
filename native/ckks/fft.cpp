#include "fft.h"

#pragma GCC optimize("fp-contract=off")

namespace hefty::ckks {

void fft_forward(Complex* a, std::size_t n, const Complex* roots) {
  std::size_t k = 1;
  for (std::size_t m = 1, gap = n / 2; m < n; m *= 2, gap /= 2) {
    for (std::size_t g = 0; g < m; g++) {
      const Complex w = roots[k++];
      Complex* x = a + 2 * g * gap;
      Complex* y = x + gap;
      for (std::size_t j = 0; j < gap; j++) {
        const Complex u = x[j];
        const Complex v = mul(y[j], w);
        x[j] = add(u, v);
        y[j] = sub(u, v);
      }
    }
  }
}

void fft_inverse_scaled(Complex* a, std::size_t n, const Complex* roots, double scalar) {
  std::size_t k = 1;
  std::size_t gap = 1;
  for (std::size_t m = n / 2; m > 1; m /= 2, gap *= 2) {
    for (std::size_t g = 0; g < m; g++) {
      const Complex w = roots[k++];
      Complex* x = a + 2 * g * gap;
      Complex* y = x + gap;
      for (std::size_t j = 0; j < gap; j++) {
        const Complex u = x[j];
        const Complex v = y[j];
        x[j] = add(u, v);
        y[j] = mul(sub(u, v), w);
      }
    }
  }
  const Complex w = scaled(roots[k], scalar);
  Complex* x = a;
  Complex* y = a + gap;
  for (std::size_t j = 0; j < gap; j++) {
    const Complex u = x[j];
    const Complex v = y[j];
    x[j] = scaled(add(u, v), scalar);
    y[j] = mul(sub(u, v), w);
  }
}

}  // namespace hefty::ckks
