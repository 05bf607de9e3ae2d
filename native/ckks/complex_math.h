// Complex arithmetic for the CKKS encoder. std::complex is avoided on purpose: SEAL's encoder output depends
// on the plain IEEE formula (ac - bd) + (ad + bc)i with every product rounded on its own, so fused
// multiply-add contraction is switched off for these functions whatever flags the build uses.
#pragma once

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

namespace hefty::ckks {

struct Complex {
  double re = 0.0;
  double im = 0.0;
};

inline Complex mul(Complex a, Complex b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
inline Complex add(Complex a, Complex b) { return {a.re + b.re, a.im + b.im}; }
inline Complex sub(Complex a, Complex b) { return {a.re - b.re, a.im - b.im}; }
inline Complex scaled(Complex a, double s) { return {a.re * s, a.im * s}; }
inline Complex conj(Complex a) { return {a.re, -a.im}; }

}  // namespace hefty::ckks

#pragma GCC pop_options
