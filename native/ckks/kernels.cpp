#include "kernels.h"

#include <algorithm>

#include "../rlwe/row_ops.h"
#include "../rlwe/thread_pool.h"

namespace hefty::ckks {

namespace {

using rlwe::Mod;
using rlwe::u128;

// Element-wise passes are memory-bound and take tens of microseconds below ~1 MB: waking a pool thread (a
// virtual CPU, on cloud machines) costs about as much, so smaller operands stay on the calling thread.
constexpr std::size_t kMinParallelWords = 1 << 16;

template <typename RowFn>
void for_each_row(const RingTools& ring, std::size_t L, std::size_t polys, RowFn&& fn) {
  const std::size_t n = ring.n();
  const std::size_t tasks = L * polys;
  if (tasks * n < 2 * kMinParallelWords) {
    for (std::size_t t = 0; t < tasks; t++) fn(t / L, t % L);
    return;
  }
  rlwe::parallel_for(tasks, [&](std::size_t t) { fn(t / L, t % L); });
}

}  // namespace

void add_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* b, u64* out) {
  const std::size_t n = ring.n();
  for_each_row(ring, L, polys, [&](std::size_t p, std::size_t j) {
    const std::size_t off = (p * L + j) * n;
    rlwe::rows::add(a + off, b + off, out + off, n, ring.mod(j));
  });
}

void sub_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* b, u64* out) {
  const std::size_t n = ring.n();
  for_each_row(ring, L, polys, [&](std::size_t p, std::size_t j) {
    const std::size_t off = (p * L + j) * n;
    rlwe::rows::sub(a + off, b + off, out + off, n, ring.mod(j));
  });
}

void negate_polys(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, u64* out) {
  const std::size_t n = ring.n();
  for_each_row(ring, L, polys, [&](std::size_t p, std::size_t j) {
    const std::size_t off = (p * L + j) * n;
    rlwe::rows::negate(a + off, out + off, n, ring.mod(j));
  });
}

void multiply_polys_by(const RingTools& ring, std::size_t L, std::size_t polys, const u64* a, const u64* m, u64* out) {
  const std::size_t n = ring.n();
  for_each_row(ring, L, polys, [&](std::size_t p, std::size_t j) {
    const std::size_t off = (p * L + j) * n;
    rlwe::rows::multiply(a + off, m + j * n, out + off, n, ring.mod(j));
  });
}

void tensor(const RingTools& ring, std::size_t L, const u64* a, std::size_t s1, const u64* b, std::size_t s2, u64* out) {
  const std::size_t n = ring.n();
  if (s1 == 2 && s2 == 2) {
    // The common case in one pass per row: (a0b0, a0b1 + a1b0, a1b1).
    for_each_row(ring, L, 1, [&](std::size_t, std::size_t j) {
      rlwe::rows::tensor(a + j * n, a + (L + j) * n, b + j * n, b + (L + j) * n, out + j * n, out + (L + j) * n,
                         out + (2 * L + j) * n, n, ring.mod(j));
    });
    return;
  }
  const std::size_t out_size = s1 + s2 - 1;
  for_each_row(ring, L, out_size, [&](std::size_t k, std::size_t j) {
    const Mod& mod = ring.mod(j);
    u64* dst = out + (k * L + j) * n;
    const std::size_t first = k >= s2 ? k - s2 + 1 : 0;
    const std::size_t last = std::min(k, s1 - 1);
    // At most 16 terms of < 2^120 each: the 128-bit sum cannot overflow.
    for (std::size_t i = 0; i < n; i++) {
      u128 acc = 0;
      for (std::size_t x = first; x <= last; x++) {
        acc += static_cast<u128>(a[(x * L + j) * n + i]) * b[((k - x) * L + j) * n + i];
      }
      dst[i] = mod.reduce(acc);
    }
  });
}

}  // namespace hefty::ckks
