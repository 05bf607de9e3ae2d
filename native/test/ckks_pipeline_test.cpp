// End-to-end CKKS arithmetic on the rlwe/ckks cores with a test-only randomness source: encode, symmetric
// encryption, multiply, relinearize, rescale, rotate, decrypt, decode, checked against float64 results; and the
// encoder's residue paths against RnsBase::decompose.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "../ckks/encoder_core.h"
#include "../ring/rns_base.h"
#include "../ckks/kernels.h"
#include "../rlwe/crypto_core.h"
#include "../rlwe/galois.h"
#include "../rlwe/key_switch.h"
#include "../rlwe/thread_pool.h"

using namespace hefty;
using rlwe::u64;

namespace {

int failures = 0;

void expect_close(const char* what, double got, double want, double tolerance) {
  if (!(std::fabs(got - want) <= tolerance)) {
    std::printf("FAIL %s: got %.9f want %.9f\n", what, got, want);
    failures++;
  }
}

struct Fixture {
  static constexpr std::size_t n = 8192;
  std::vector<u64> primes{1152921504606748673ULL, 1099510890497ULL, 1099511480321ULL, 1152921504606830593ULL};
  rlwe::RingTools ring{n, primes};
  ckks::EncoderCore encoder{n};
  rlwe::GaloisTables galois{n};
  std::mt19937_64 rng{12345};
  std::vector<u64> secret;  // K rows, NTT

  Fixture() {
    std::vector<std::int64_t> s(n);
    for (auto& v : s) v = static_cast<std::int64_t>(rng() % 3) - 1;
    secret.resize(primes.size() * n);
    rlwe::small_to_ntt_rows(ring, primes.size(), s.data(), secret.data());
  }

  std::vector<std::int64_t> noise() {
    std::vector<std::int64_t> e(n);
    for (auto& v : e) v = static_cast<std::int64_t>(rng() % 7) - 3;
    return e;
  }
  std::vector<u64> uniform(std::size_t L) {
    std::vector<u64> a(L * n);
    for (std::size_t j = 0; j < L; j++)
      for (std::size_t i = 0; i < n; i++) a[j * n + i] = rng() % primes[j];
    return a;
  }
  // (c0, c1) = EncZeroSym at L rows, stored [poly][row][coeff].
  std::vector<u64> zero(std::size_t L) {
    std::vector<u64> ct(2 * L * n);
    const auto a = uniform(L);
    const auto e = noise();
    rlwe::encrypt_zero_symmetric(ring, L, secret.data(), a.data(), e.data(), ct.data());
    std::copy(a.begin(), a.end(), ct.begin() + L * n);
    return ct;
  }
  // Key-switching key for target rows (K rows, NTT): K-1 entries at the key level.
  std::vector<std::vector<u64>> ksk(const std::vector<u64>& target) {
    const std::size_t k = primes.size();
    std::vector<std::vector<u64>> entries;
    for (std::size_t j = 0; j + 1 < k; j++) {
      auto entry = zero(k);
      rlwe::add_key_switching_target(ring, j, target.data(), entry.data());
      entries.push_back(std::move(entry));
    }
    return entries;
  }
  std::vector<u64> encode(const std::vector<double>& v, double scale, std::size_t L) {
    std::vector<ckks::Complex> c(v.size());
    for (std::size_t i = 0; i < v.size(); i++) c[i] = {v[i], 0};
    std::vector<u64> rows(L * n);
    int bits = 0;
    for (std::size_t j = 0; j < L; j++) bits += static_cast<int>(std::log2(static_cast<double>(primes[j]))) + 1;
    encoder.encode(c.data(), c.size(), scale, primes.data(), L, bits, rows.data());
    for (std::size_t j = 0; j < L; j++) ring.ntt_forward(rows.data() + j * n, j);
    return rows;
  }
  std::vector<double> decrypt(const std::vector<u64>& ct, std::size_t size, std::size_t L, double scale) {
    std::vector<u64> m(L * n);
    rlwe::decrypt_ntt(ring, L, ct.data(), size, secret.data(), m.data());
    for (std::size_t j = 0; j < L; j++) ring.ntt_inverse(m.data() + j * n, j);
    std::vector<ckks::Complex> slots(n / 2);
    encoder.decode(m.data(), primes.data(), L, scale, slots.data());
    std::vector<double> out(n / 2);
    for (std::size_t i = 0; i < n / 2; i++) out[i] = slots[i].re;
    return out;
  }
};

void run(Fixture& f) {
  const std::size_t n = Fixture::n, L = 3, k = 4;
  const double scale = std::ldexp(1.0, 40);
  std::vector<double> x(n / 2), y(n / 2);
  for (std::size_t i = 0; i < n / 2; i++) {
    x[i] = std::sin(0.1 * i);
    y[i] = std::cos(0.07 * i);
  }
  auto ct_x = f.zero(L);
  auto ct_y = f.zero(L);
  const auto px = f.encode(x, scale, L), py = f.encode(y, scale, L);
  ckks::add_polys(f.ring, L, 1, ct_x.data(), px.data(), ct_x.data());
  ckks::add_polys(f.ring, L, 1, ct_y.data(), py.data(), ct_y.data());

  auto dx = f.decrypt(ct_x, 2, L, scale);
  expect_close("decrypt x[5]", dx[5], x[5], 1e-6);

  std::vector<u64> prod(3 * L * n);
  ckks::tensor(f.ring, L, ct_x.data(), 2, ct_y.data(), 2, prod.data());
  auto dp = f.decrypt(prod, 3, L, scale * scale);
  expect_close("tensor [7]", dp[7], x[7] * y[7], 1e-6);

  // Relinearize with s^2.
  std::vector<u64> s2(k * n);
  for (std::size_t j = 0; j < k; j++)
    for (std::size_t i = 0; i < n; i++) s2[j * n + i] = f.ring.mod(j).mul(f.secret[j * n + i], f.secret[j * n + i]);
  const auto relin = f.ksk(s2);
  rlwe::KSwitchKeyView view;
  for (const auto& e : relin) view.entries.push_back(e.data());
  rlwe::key_switch(f.ring, L, prod.data() + 2 * L * n, view, prod.data(), prod.data() + L * n);
  prod.resize(2 * L * n);
  auto dr = f.decrypt(prod, 2, L, scale * scale);
  expect_close("relin [9]", dr[9], x[9] * y[9], 1e-6);

  // Rescale both polynomials.
  std::vector<u64> res(2 * (L - 1) * n);
  for (int p = 0; p < 2; p++) {
    std::vector<u64> poly(prod.begin() + p * L * n, prod.begin() + (p + 1) * L * n);
    rlwe::div_round_last_ntt(f.ring, L, poly.data(), poly.data());
    std::copy(poly.begin(), poly.begin() + (L - 1) * n, res.begin() + p * (L - 1) * n);
  }
  auto ds = f.decrypt(res, 2, L - 1, scale * scale / static_cast<double>(f.primes[L - 1]));
  expect_close("rescale [11]", ds[11], x[11] * y[11], 1e-6);

  // Rotate x left by 1: galois key for s(X^3).
  const std::uint32_t g = rlwe::galois_elt_from_step(1, n);
  std::vector<u64> sg(k * n);
  f.galois.apply_ntt(g, f.secret.data(), k, sg.data());
  const auto gk = f.ksk(sg);
  rlwe::KSwitchKeyView gview;
  for (const auto& e : gk) gview.entries.push_back(e.data());
  std::vector<u64> rot(2 * L * n), t(L * n);
  f.galois.apply_ntt(g, ct_x.data(), L, rot.data());
  f.galois.apply_ntt(g, ct_x.data() + L * n, L, t.data());
  rlwe::key_switch(f.ring, L, t.data(), gview, rot.data(), rot.data() + L * n, true);
  auto dg = f.decrypt(rot, 2, L, scale);
  expect_close("rotate [0]", dg[0], x[1], 1e-6);
  expect_close("rotate [last]", dg[n / 2 - 1], x[0], 1e-6);
}

}  // namespace

// The encoder's residues of rounded coefficients against RnsBase::decompose: the vector path (every |x| below
// 2^64: zeros, -0, both signs, the largest double below 2^64) and the multiword fallback (one value past 2^64).
void decompose_rounded_paths() {
  const ring::RnsBase base({1152921504606748673ULL, 1099510890497ULL, 1099511480321ULL});
  std::mt19937_64 rng(7);
  std::vector<double> values(64);
  for (auto& v : values) v = std::round(std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 53)) * (rng() % 2 ? -1 : 1));
  values[0] = 0.0, values[1] = -0.0, values[2] = 18446744073709549568.0, values[3] = -18446744073709549568.0;
  values[4] = 1099510890497.0, values[5] = -1099511480321.0;
  for (bool multiword : {false, true}) {
    if (multiword) values[6] = -0x1p70;
    std::vector<u64> got(3 * values.size()), want(3 * values.size());
    ckks::decompose_rounded(base, values.data(), values.size(), got.data());
    base.decompose(values.data(), values.size(), want.data());
    if (got != want) {
      std::printf("FAIL decompose_rounded (%s)\n", multiword ? "multiword" : "vector");
      failures++;
    }
  }
}

int main() {
  decompose_rounded_paths();
  Fixture f;
  run(f);
  rlwe::ThreadPool::instance().set_threads(2);
  run(f);
  if (failures == 0) std::printf("ckks_pipeline_test: ok\n");
  return failures == 0 ? 0 : 1;
}
