#include "row_ops.h"

#include <cmath>

#include "ntt_simd.h"

namespace hefty::rlwe::rows {

namespace {

bool vectorized(std::size_t n) { return n % 8 == 0 && simd::available(); }

inline u64 reduce_once(u64 x, u64 q) { return subtract_if_above(x, q); }

}  // namespace

void add(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::add_rows(a, b, out, n, m.q);
  for (std::size_t i = 0; i < n; i++) out[i] = reduce_once(a[i] + b[i], m.q);
}

void sub(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::sub_rows(a, b, out, n, m.q);
  for (std::size_t i = 0; i < n; i++) out[i] = reduce_once(a[i] + m.q - b[i], m.q);
}

void negate(const u64* a, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::negate_rows(a, out, n, m.q);
  for (std::size_t i = 0; i < n; i++) out[i] = reduce_once(m.q - a[i], m.q);
}

void reduce(const u64* x, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::reduce_row(x, out, n, m);
  for (std::size_t i = 0; i < n; i++) out[i] = m.reduce(x[i]);
}

void reduce_signed_magnitudes(const u64* magnitude, const double* sign_source, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::reduce_signed_magnitudes(magnitude, sign_source, out, n, m);
  for (std::size_t i = 0; i < n; i++) {
    const u64 r = m.reduce(magnitude[i]);
    out[i] = std::signbit(sign_source[i]) ? m.neg(r) : r;
  }
}

void multiply(const u64* a, const u64* b, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::multiply_rows(a, b, out, n, m);
  for (std::size_t i = 0; i < n; i++) out[i] = m.mul(a[i], b[i]);
}

void multiply_add(const u64* a, const u64* b, const u64* c, u64* out, std::size_t n, const Mod& m) {
  if (vectorized(n)) return simd::multiply_add_rows(a, b, c, out, n, m);
  for (std::size_t i = 0; i < n; i++) out[i] = reduce_once(m.mul(a[i], b[i]) + c[i], m.q);
}

void tensor(const u64* a0, const u64* a1, const u64* b0, const u64* b1, u64* c0, u64* c1, u64* c2, std::size_t n,
            const Mod& m) {
  if (vectorized(n)) return simd::tensor_rows(a0, a1, b0, b1, c0, c1, c2, n, m);
  for (std::size_t i = 0; i < n; i++) {
    c0[i] = m.reduce_product(static_cast<u128>(a0[i]) * b0[i]);
    c1[i] = m.reduce(static_cast<u128>(a0[i]) * b1[i] + static_cast<u128>(a1[i]) * b0[i]);
    c2[i] = m.reduce_product(static_cast<u128>(a1[i]) * b1[i]);
  }
}

}  // namespace hefty::rlwe::rows
