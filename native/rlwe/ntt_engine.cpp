#include "ntt_engine.h"

#include "ntt_ifma.h"
#include "ntt_simd.h"
#include "op_error.h"

namespace hefty::rlwe {

namespace {

std::size_t reverse_bits(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int b = 0; b < bits; b++) r |= ((x >> b) & 1) << (bits - 1 - b);
  return r;
}

// The smallest primitive 2N-th root of unity mod q (spec §5).
u64 minimal_root(const Mod& m, std::size_t n) {
  const u64 q = m.q;
  const u64 order = 2 * n;
  if ((q - 1) % order != 0) fail("E_INVALID_PARAMS", "prime is not 1 mod 2N");
  u64 root = 0;
  // A random x gives a primitive root with probability 1/2; 256 failures mean q is not prime.
  for (u64 x = 2; x < q && x < 258 && root == 0; x++) {
    const u64 r = m.pow(x, (q - 1) / order);
    if (m.pow(r, n) == q - 1) root = r;
  }
  if (root == 0) fail("E_INVALID_PARAMS", "no primitive root");
  // All primitive 2N-th roots are root^odd; take the minimum.
  const u64 square = m.mul(root, root);
  u64 best = root, current = root;
  for (std::size_t i = 1; i < n; i++) {
    current = m.mul(current, square);
    if (current < best) best = current;
  }
  return best;
}

}  // namespace

NttEngine::NttEngine(std::size_t n, const std::vector<u64>& primes) : n_(n) {
  int logn = 0;
  while ((std::size_t{1} << logn) < n) logn++;
  for (u64 q : primes) {
    const Mod m(q);
    const u64 psi = minimal_root(m, n);
    const u64 psi_inv = m.inv(psi);
    Table t;
    t.q = q;
    t.roots.resize(n);
    t.inv_roots.resize(n);
    std::vector<u64> r(n), rinv(n);
    r[0] = 1;
    rinv[0] = 1;
    u64 power = 1, inv_power = 1;
    for (std::size_t i = 1; i < n; i++) {
      power = m.mul(power, psi);
      inv_power = m.mul(inv_power, psi_inv);
      r[reverse_bits(i, logn)] = power;
      rinv[reverse_bits(i - 1, logn) + 1] = inv_power;
    }
    for (std::size_t i = 0; i < n; i++) {
      t.roots[i] = ShoupMul(r[i], q);
      t.inv_roots[i] = ShoupMul(rinv[i], q);
    }
    const u64 n_inv = m.inv(m.reduce(static_cast<u64>(n)));
    t.inv_n = ShoupMul(n_inv, q);
    t.inv_n_last = ShoupMul(m.mul(rinv[n - 1], n_inv), q);
    t.ifma = q < ifma::kPrimeBound && n >= 32 && ifma::available();
    if (t.ifma) {
      t.roots52.resize(n);
      t.inv_roots52.resize(n);
      for (std::size_t i = 0; i < n; i++) {
        t.roots52[i] = ifma::shoup52(r[i], q);
        t.inv_roots52[i] = ifma::shoup52(rinv[i], q);
      }
      t.inv_n52 = ifma::shoup52(t.inv_n.w, q);
      t.inv_n_last52 = ifma::shoup52(t.inv_n_last.w, q);
    }
    tables_.push_back(std::move(t));
  }
}

void NttEngine::forward(u64* a, std::size_t prime) const {
  const Table& t = tables_[prime];
  if (t.ifma) {
    ifma::forward(a, n_, t.roots52.data(), t.q);
    return;
  }
  const u64 q = t.q, two_q = 2 * q;
  const ShoupMul* roots = t.roots.data();
  // Harvey butterfly: x, y in [0, 4q) -> x', y' in [0, 4q).
  auto butterfly = [q, two_q](u64& x, u64& y, const ShoupMul& w) {
    u64 u = x;
    u -= (u >= two_q) ? two_q : 0;
    const u64 v = w.lazy(y, q);
    x = u + v;
    y = u + two_q - v;
  };
  if (n_ >= 16 && simd::available()) {
    simd::forward(a, n_, roots, q);
    return;
  }
  std::size_t k = 1;
  std::size_t m = 1, gap = n_ / 2;
  for (; gap >= 4; m *= 2, gap /= 2) {
    for (std::size_t g = 0; g < m; g++) {
      const ShoupMul w = roots[k++];
      u64* __restrict x = a + 2 * g * gap;
      u64* __restrict y = x + gap;
      for (std::size_t j = 0; j < gap; j++) butterfly(x[j], y[j], w);
    }
  }
  if (gap == 2) {
    for (std::size_t g = 0; g < m; g++) {
      const ShoupMul w = roots[k++];
      u64* x = a + 4 * g;
      butterfly(x[0], x[2], w);
      butterfly(x[1], x[3], w);
    }
    m *= 2;
    gap = 1;
  }
  // Last stage (gap 1) fused with the final reduction to [0, q).
  for (std::size_t g = 0; g < m; g++) {
    const ShoupMul w = roots[k++];
    u64* x = a + 2 * g;
    butterfly(x[0], x[1], w);
    for (int i = 0; i < 2; i++) {
      u64 v = x[i];
      v -= (v >= two_q) ? two_q : 0;
      v -= (v >= q) ? q : 0;
      x[i] = v;
    }
  }
}

void NttEngine::inverse(u64* a, std::size_t prime) const {
  const Table& t = tables_[prime];
  if (t.ifma) {
    ifma::inverse(a, n_, t.inv_roots52.data(), t.q, t.inv_n52, t.inv_n_last52);
    return;
  }
  const u64 q = t.q, two_q = 2 * q;
  const ShoupMul* roots = t.inv_roots.data();
  // Gentleman-Sande butterfly on values in [0, 2q).
  auto butterfly = [q, two_q](u64& x, u64& y, const ShoupMul& w) {
    const u64 u = x;
    const u64 v = y;
    u64 s = u + v;
    s -= (s >= two_q) ? two_q : 0;
    x = s;
    y = w.lazy(u + two_q - v, q);
  };
  if (n_ >= 32 && simd::available()) {
    simd::inverse(a, n_, roots, q, t.inv_n, t.inv_n_last);
    return;
  }
  std::size_t k = 1;
  std::size_t m = n_ / 2;
  if (n_ >= 8) {
    for (std::size_t g = 0; g < m; g++) {
      const ShoupMul w = roots[k++];
      u64* x = a + 2 * g;
      butterfly(x[0], x[1], w);
    }
    m /= 2;
    for (std::size_t g = 0; g < m; g++) {
      const ShoupMul w = roots[k++];
      u64* x = a + 4 * g;
      butterfly(x[0], x[2], w);
      butterfly(x[1], x[3], w);
    }
    m /= 2;
  }
  std::size_t gap = n_ / (2 * m);
  for (;; m /= 2, gap *= 2) {
    if (m <= 1) break;
    for (std::size_t g = 0; g < m; g++) {
      const ShoupMul w = roots[k++];
      u64* __restrict x = a + 2 * g * gap;
      u64* __restrict y = x + gap;
      for (std::size_t j = 0; j < gap; j++) butterfly(x[j], y[j], w);
    }
  }
  u64* __restrict x = a;
  u64* __restrict y = a + gap;
  const ShoupMul inv_n = t.inv_n, inv_n_last = t.inv_n_last;
  for (std::size_t j = 0; j < gap; j++) {
    const u64 u = x[j];
    const u64 v = y[j];
    x[j] = inv_n.apply(u + v, q);
    y[j] = inv_n_last.apply(u + two_q - v, q);
  }
}

}  // namespace hefty::rlwe
