// Hoisted key switching (rlwe::HoistedTarget) against the plain key switch, on chains around the product
// kernels' boundaries: primes just below and above 2^50 (IFMA / 64-bit AVX-512 products and NTTs), 60-bit
// primes, and a level with 16 digits (more terms than the IFMA sums take). ctest also runs it with
// HEFTY_NO_IFMA=1 and HEFTY_NO_SIMD=1.
//  - The result equals a plain scalar model of the algorithm (centered digits of c1, each reduced to every
//    output modulus, NTT, permuted, inner products with the key, rounding division by P) bit for bit.
//  - For rotations and conjugation, both results must decrypt to π(m), the hoisted one with at most the plain
//    key switch's noise (its digits differ from the plain ones by multiples of q_j, which the key absorbs).
//  - Results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../rlwe/crypto_core.h"
#include "../rlwe/galois.h"
#include "../rlwe/key_switch.h"
#include "../rlwe/op_error.h"
#include "../rlwe/thread_pool.h"
#include "../seal/primes.h"

using namespace hefty;
using rlwe::u64;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (ok) return;
  std::printf("FAIL %s\n", what.c_str());
  failures++;
}

struct Chain {
  const char* label;
  std::size_t n;
  std::vector<int> bits;  // data primes, then the special prime
};

class Fixture {
 public:
  explicit Fixture(const Chain& chain)
      : n(chain.n), primes(seal::coeff_modulus_create(chain.n, chain.bits)), k(primes.size()), ring(n, primes),
        galois(n), rng(chain.n * 31 + primes.size()) {
    std::vector<std::int64_t> s(n);
    for (auto& v : s) v = static_cast<std::int64_t>(rng() % 3) - 1;
    secret.resize(k * n);
    rlwe::small_to_ntt_rows(ring, k, s.data(), secret.data());
  }

  // (c0, c1) encrypting a random message with |m| < 2^20 at L rows, NTT form.
  std::vector<u64> encrypt(std::size_t L) {
    std::vector<u64> ct = zero(L);
    std::vector<std::int64_t> m(n);
    for (auto& v : m) v = static_cast<std::int64_t>(rng() % (1u << 21)) - (1 << 20);
    std::vector<u64> rows(L * n);
    rlwe::small_to_ntt_rows(ring, L, m.data(), rows.data());
    for (std::size_t i = 0; i < L * n; i++) ct[i] = ring.mod(i / n).add(ct[i], rows[i]);
    return ct;
  }

  // A key-switching key for π_g(s).
  std::vector<std::vector<u64>> galois_key(std::uint32_t g) {
    std::vector<u64> target(k * n);
    galois.apply_ntt(g, secret.data(), k, target.data());
    std::vector<std::vector<u64>> entries;
    for (std::size_t j = 0; j + 1 < k; j++) {
      auto entry = zero(k);
      rlwe::add_key_switching_target(ring, j, target.data(), entry.data());
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  // Decryption row 0 in coefficient form, centered modulo q_0.
  std::vector<std::int64_t> decrypt_row0(const std::vector<u64>& ct, std::size_t L) {
    std::vector<u64> m(L * n);
    rlwe::decrypt_ntt(ring, L, ct.data(), 2, secret.data(), m.data());
    return centered_row0(m.data());
  }

  std::vector<std::int64_t> centered_row0(const u64* ntt_rows) {
    std::vector<u64> row(ntt_rows, ntt_rows + n);
    ring.ntt_inverse(row.data(), 0);
    const u64 q = primes[0];
    std::vector<std::int64_t> out(n);
    for (std::size_t i = 0; i < n; i++) {
      out[i] = row[i] > q / 2 ? -static_cast<std::int64_t>(q - row[i]) : static_cast<std::int64_t>(row[i]);
    }
    return out;
  }

  const std::size_t n;
  const std::vector<u64> primes;
  const std::size_t k;
  rlwe::RingTools ring;
  rlwe::GaloisTables galois;
  std::mt19937_64 rng;
  std::vector<u64> secret;

 private:
  std::vector<u64> zero(std::size_t L) {
    std::vector<u64> ct(2 * L * n), a(L * n);
    for (std::size_t j = 0; j < L; j++)
      for (std::size_t i = 0; i < n; i++) a[j * n + i] = rng() % primes[j];
    std::vector<std::int64_t> e(n);
    for (auto& v : e) v = static_cast<std::int64_t>(rng() % 7) - 3;
    rlwe::encrypt_zero_symmetric(ring, L, secret.data(), a.data(), e.data(), ct.data());
    std::copy(a.begin(), a.end(), ct.begin() + L * n);
    return ct;
  }
};

rlwe::KSwitchKeyView view(const std::vector<std::vector<u64>>& key) {
  rlwe::KSwitchKeyView v;
  for (const auto& e : key) v.entries.push_back(e.data());
  return v;
}

// The plain path, as the evaluator's apply_galois computes it: (π(c0), 0) + KS(π(c1)).
std::vector<u64> plain_galois(Fixture& f, std::size_t L, const std::vector<u64>& ct, std::uint32_t g,
                              const rlwe::KSwitchKeyView& key) {
  const std::size_t n = f.n;
  std::vector<u64> out(2 * L * n), t(L * n);
  f.galois.apply_ntt(g, ct.data(), L, out.data());
  f.galois.apply_ntt(g, ct.data() + L * n, L, t.data());
  rlwe::key_switch(f.ring, L, t.data(), key, out.data(), out.data() + L * n, true);
  return out;
}

std::int64_t max_abs_diff(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::int64_t worst = 0;
  for (std::size_t i = 0; i < a.size(); i++) worst = std::max<std::int64_t>(worst, std::llabs(a[i] - b[i]));
  return worst;
}

// The model: (π(c0), 0) + round((Σ_j NTT(centered digit j) permuted ⊙ key_j) / P), coefficient by coefficient.
std::vector<u64> model_hoisted(Fixture& f, std::size_t L, const std::vector<u64>& ct, const std::uint32_t* table,
                               const rlwe::KSwitchKeyView& key) {
  const std::size_t n = f.n, k = f.k, special = k - 1;
  std::vector<std::vector<std::int64_t>> digits(L, std::vector<std::int64_t>(n));
  for (std::size_t j = 0; j < L; j++) {
    std::vector<u64> row(ct.begin() + (L + j) * n, ct.begin() + (L + j + 1) * n);
    f.ring.ntt_inverse(row.data(), j);
    const u64 q = f.primes[j];
    for (std::size_t i = 0; i < n; i++) {
      digits[j][i] = row[i] > q / 2 ? -static_cast<std::int64_t>(q - row[i]) : static_cast<std::int64_t>(row[i]);
    }
  }
  std::vector<std::vector<u64>> acc(2 * (L + 1), std::vector<u64>(n));  // [poly][output modulus], P last
  for (std::size_t out = 0; out <= L; out++) {
    const std::size_t prime = out < L ? out : special;
    const rlwe::Mod& m = f.ring.mod(prime);
    std::vector<rlwe::u128> sum0(n, 0), sum1(n, 0);
    for (std::size_t j = 0; j < L; j++) {
      std::vector<u64> x(n), permuted(n);
      for (std::size_t i = 0; i < n; i++) {
        const std::int64_t d = digits[j][i];
        x[i] = d >= 0 ? m.reduce(static_cast<u64>(d)) : m.neg(m.reduce(static_cast<u64>(-d)));
      }
      f.ring.ntt_forward(x.data(), prime);
      for (std::size_t i = 0; i < n; i++) permuted[i] = x[table[i]];
      for (std::size_t i = 0; i < n; i++) {
        sum0[i] += static_cast<rlwe::u128>(permuted[i]) * key.entries[j][prime * n + i];
        sum1[i] += static_cast<rlwe::u128>(permuted[i]) * key.entries[j][(k + prime) * n + i];
      }
    }
    for (std::size_t i = 0; i < n; i++) {
      acc[out][i] = m.reduce(sum0[i]);
      acc[L + 1 + out][i] = m.reduce(sum1[i]);
    }
  }
  for (std::size_t poly = 0; poly < 2; poly++) {
    f.ring.ntt_inverse(acc[poly * (L + 1) + L].data(), special);
    f.ring.shift_by_half(acc[poly * (L + 1) + L].data(), special);
  }
  std::vector<u64> out(2 * L * n), scratch(n);
  for (std::size_t i = 0; i < L; i++) {
    for (std::size_t c = 0; c < n; c++) out[i * n + c] = ct[i * n + table[c]];
    f.ring.round_drop_row(special, i, acc[L].data(), acc[i].data(), out.data() + i * n, out.data() + i * n,
                         scratch.data());
    f.ring.round_drop_row(special, i, acc[2 * L + 1].data(), acc[L + 1 + i].data(), nullptr, out.data() + (L + i) * n,
                          scratch.data());
  }
  return out;
}

double rms_diff(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); i++) sum += static_cast<double>(a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
  return std::sqrt(sum / static_cast<double>(a.size()));
}

void check_chain(const Chain& chain) {
  Fixture f(chain);
  const std::size_t n = f.n;
  const std::size_t data_primes = f.k - 1;
  std::vector<std::uint32_t> elts;
  for (int step : {1, -1, 5, 0, 2, -7, 12, 33}) elts.push_back(rlwe::galois_elt_from_step(step, n));
  std::vector<std::vector<std::vector<u64>>> keys;
  for (std::uint32_t g : elts) keys.push_back(f.galois_key(g));

  // Squared noise summed over every element and level: single keys vary (the plain digits' mean times the key's
  // error is a large part fixed per key), the sum compares the two paths.
  double hoisted_squares = 0, plain_squares = 0;
  for (std::size_t L : {data_primes, (data_primes + 1) / 2, std::size_t{1}}) {
    const std::string where = std::string(chain.label) + " L=" + std::to_string(L);
    const std::vector<u64> ct = f.encrypt(L);
    const u64* c1 = ct.data() + L * n;

    std::vector<std::vector<u64>> by_threads;
    for (std::size_t threads : {1, 2}) {
      rlwe::ThreadPool::instance().set_threads(threads);
      const rlwe::HoistedTarget hoisted(f.ring, L, c1);
      // Every element twice in one call: more jobs than one group holds on the 16-digit chain (15 there), and
      // a job's result must not depend on its group or position.
      const std::vector<rlwe::KSwitchKeyView> views = [&] {
        std::vector<rlwe::KSwitchKeyView> v;
        for (const auto& key : keys) v.push_back(view(key));
        return v;
      }();
      std::vector<std::vector<u64>> results(2 * elts.size(), std::vector<u64>(2 * L * n));
      std::vector<rlwe::HoistedTarget::Job> jobs;
      for (std::size_t r = 0; r < results.size(); r++) {
        const std::size_t e = r % elts.size();
        jobs.push_back({f.galois.ntt_permutation(elts[e]).data(), &views[e], results[r].data(),
                        results[r].data() + L * n});
      }
      hoisted.apply(jobs, ct.data());
      std::vector<u64> all;

      for (std::size_t e = 0; e < elts.size(); e++) {
        const std::uint32_t g = elts[e];
        const std::string what = where + " g=" + std::to_string(g);
        const auto& key = views[e];
        const std::vector<u64>& got = results[e];
        expect(results[e + elts.size()] == got, what + ": the same result twice");
        all.insert(all.end(), got.begin(), got.end());
        if (threads == 1) {
          expect(got == model_hoisted(f, L, ct, f.galois.ntt_permutation(g).data(), key), what + ": equals the model");
        }
        const std::vector<u64> plain = plain_galois(f, L, ct, g, key);

        // π(m + e) exactly: the decryption of the input, permuted.
        std::vector<u64> m(L * n), permuted(n);
        rlwe::decrypt_ntt(f.ring, L, ct.data(), 2, f.secret.data(), m.data());
        f.galois.permute_row(f.galois.ntt_permutation(g), m.data(), permuted.data());
        const std::vector<std::int64_t> exact = f.centered_row0(permuted.data());
        const std::vector<std::int64_t> by_hoisting = f.decrypt_row0(got, L);
        const std::vector<std::int64_t> by_plain = f.decrypt_row0(plain, L);
        const std::int64_t hoisted_max = max_abs_diff(by_hoisting, exact);
        const std::int64_t plain_max = max_abs_diff(by_plain, exact);
        if (threads == 1) {
          const double hoisted_rms = rms_diff(by_hoisting, exact);
          const double plain_rms = rms_diff(by_plain, exact);
          hoisted_squares += hoisted_rms * hoisted_rms;
          plain_squares += plain_rms * plain_rms;
        }
        // Key-switching noise is below 2^16 here; the message is around 2^20, so a wrong result shows as an
        // error of that size or as residues of q_0's size.
        expect(plain_max < (1 << 16), what + ": plain key-switch noise " + std::to_string(plain_max));
        expect(hoisted_max <= plain_max + 16,
               what + ": hoisted noise " + std::to_string(hoisted_max) + " vs plain " + std::to_string(plain_max));
      }
      by_threads.push_back(std::move(all));
    }
    expect(by_threads[0] == by_threads[1], where + ": same bytes with 1 and 2 threads");
  }
  const double ratio = std::sqrt(hoisted_squares / plain_squares);
  std::printf("%s: hoisted/plain rms noise %.3f\n", chain.label, ratio);
  // Centered digits: half the deviation of the key-noise term, which dominates with P near the q_j.
  expect(ratio <= 0.75, std::string(chain.label) + ": hoisted rms noise " + std::to_string(ratio) + "x the plain one");
}

void check_errors() {
  Fixture f({"errors", 1024, {30, 30, 31}});
  const std::vector<u64> ct = f.encrypt(2);
  const auto expect_code = [](const char* code, const std::string& what, auto&& body) {
    try {
      body();
      expect(false, what + ": no error");
    } catch (const rlwe::OpError& e) {
      expect(std::string(e.code()) == code, what + ": code " + e.code());
    }
  };
  expect_code("E_PARAMS_MISMATCH", "L above the data primes",
              [&] { rlwe::HoistedTarget(f.ring, 3, ct.data() + 2 * f.n); });
  expect_code("E_PARAMS_MISMATCH", "L = 0", [&] { rlwe::HoistedTarget(f.ring, 0, ct.data()); });
  const rlwe::HoistedTarget hoisted(f.ring, 2, ct.data() + 2 * f.n);
  const auto key = f.galois_key(3);
  const rlwe::KSwitchKeyView full_key = view(key);
  rlwe::KSwitchKeyView short_key = full_key;
  short_key.entries.resize(1);
  std::vector<u64> out(4 * f.n, 7);
  const std::uint32_t* table = f.galois.ntt_permutation(3).data();
  expect_code("E_PARAMS_MISMATCH", "a key with too few entries", [&] {
    hoisted.apply({{table, &full_key, out.data(), out.data() + 2 * f.n}, {table, &short_key, out.data(), out.data()}},
                  ct.data());
  });
  expect(std::all_of(out.begin(), out.end(), [](u64 w) { return w == 7; }), "nothing written before the error");
}

}  // namespace

int main() {
  const std::vector<Chain> chains = {
      {"60/40 SEAL-style", 8192, {60, 40, 40, 60}},
      {"around 2^50", 4096, {50, 51, 50, 51, 50}},
      {"2^50 data, 2^51 special", 4096, {50, 50, 51}},
      {"16 digits", 4096, {30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 31}},
  };
  for (const Chain& chain : chains) check_chain(chain);
  check_errors();
  if (failures == 0) std::printf("hoisted_key_switch_test: ok\n");
  return failures == 0 ? 0 : 1;
}
