// native/ring/rns_base against an independent CRT reference (Garner's mixed-radix algorithm, written here with
// its own big-integer helpers): round trips of random multiword values below Q for 1..16 primes of 30..60 bits,
// edge values, signed and floating-point decomposition (both paths of reduce_signed), the centered lift, and rejected bases.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../ring/rns_base.h"
#include "../rlwe/op_error.h"

using namespace hefty;
using u64 = std::uint64_t;
using u128 = unsigned __int128;
using Big = std::vector<u64>;  // little-endian, fixed word count

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    failures++;
  }
}

u64 mul_mod(u64 a, u64 b, u64 q) { return static_cast<u64>(static_cast<u128>(a) * b % q); }

u64 pow_mod(u64 b, u64 e, u64 q) {
  u64 r = 1 % q;
  for (b %= q; e > 0; e >>= 1, b = mul_mod(b, b, q)) {
    if (e & 1) r = mul_mod(r, b, q);
  }
  return r;
}

// Deterministic Miller-Rabin for 64-bit n.
bool is_prime(u64 n) {
  if (n < 2) return false;
  for (u64 p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  u64 d = n - 1;
  int s = 0;
  for (; (d & 1) == 0; d >>= 1) s++;
  for (u64 a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    u64 x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; r++) {
      x = mul_mod(x, x, n);
      if (x == n - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

std::vector<u64> random_primes(std::mt19937_64& rng, std::size_t count) {
  std::vector<u64> primes;
  while (primes.size() < count) {
    const int bits = 30 + static_cast<int>(rng() % 31);
    u64 candidate = (rng() >> (64 - bits)) | (u64{1} << (bits - 1)) | 1;
    while (!is_prime(candidate)) candidate += 2;
    bool fresh = true;
    for (u64 p : primes) fresh = fresh && p != candidate;
    if (fresh && (candidate >> 61) == 0) primes.push_back(candidate);
  }
  return primes;
}

// x = x * m + a.
void mul_add(Big& x, u64 m, u64 a) {
  u64 carry = a;
  for (u64& w : x) {
    const u128 t = static_cast<u128>(w) * m + carry;
    w = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
}

int compare(const Big& a, const Big& b) {
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

u64 mod_big(const Big& x, u64 q) {
  u128 r = 0;
  for (std::size_t i = x.size(); i-- > 0;) r = ((r << 64) | x[i]) % q;
  return static_cast<u64>(r);
}

// Garner: mixed-radix digits v_i, then x = v_0 + q_0 (v_1 + q_1 (v_2 + ...)).
Big garner(const std::vector<u64>& q, const std::vector<u64>& r) {
  std::vector<u64> v(q.size());
  for (std::size_t i = 0; i < q.size(); i++) {
    u64 t = r[i] % q[i];
    for (std::size_t j = 0; j < i; j++) {
      t = mul_mod((t + q[i] - v[j] % q[i]) % q[i], pow_mod(q[j] % q[i], q[i] - 2, q[i]), q[i]);
    }
    v[i] = t;
  }
  Big x(q.size(), 0);
  for (std::size_t i = q.size(); i-- > 0;) mul_add(x, q[i], v[i]);
  return x;
}

Big product(const std::vector<u64>& q) {
  Big x(q.size(), 0);
  x[0] = 1;
  for (u64 p : q) mul_add(x, p, 0);
  return x;
}

Big sub_one(Big x) {
  for (u64& w : x) {
    if (w-- != 0) break;
  }
  return x;
}

Big shift_right_one(Big x) {
  for (std::size_t i = 0; i < x.size(); i++) x[i] = (x[i] >> 1) | (i + 1 < x.size() ? x[i + 1] << 63 : 0);
  return x;
}

// Uniform below q by rejection from the words up to q's top bit (Q may have fewer bits than 64 L).
Big plus_one(Big x) {
  mul_add(x, 1, 1);
  return x;
}

Big random_below(std::mt19937_64& rng, const Big& q) {
  std::size_t top = q.size() - 1;
  while (q[top] == 0) top--;
  const int top_bits = 64 - __builtin_clzll(q[top]);
  for (;;) {
    Big x(q.size(), 0);
    for (std::size_t i = 0; i <= top; i++) x[i] = rng();
    x[top] &= top_bits == 64 ? ~u64{0} : (u64{1} << top_bits) - 1;
    if (compare(x, q) < 0) return x;
  }
}

std::vector<u64> decompose(const ring::RnsBase& base, const Big& x) {
  std::vector<u64> r(base.size());
  base.decompose(x.data(), 1, r.data());
  return r;
}

Big compose(const ring::RnsBase& base, const std::vector<u64>& r) {
  Big x(base.size());
  base.compose(r.data(), 1, x.data());
  return x;
}

void round_trips(std::mt19937_64& rng) {
  for (std::size_t L = 1; L <= 16; L++) {
    for (int trial = 0; trial < 4; trial++) {
      const std::vector<u64> q = random_primes(rng, L);
      const ring::RnsBase base(q);
      const Big modulus = product(q);
      const std::string tag = "L=" + std::to_string(L) + " trial " + std::to_string(trial);
      check(compare(Big(base.modulus(), base.modulus() + L), modulus) == 0, tag + ": Q");
      std::vector<Big> values{Big(L, 0), product({1}), sub_one(modulus), shift_right_one(sub_one(modulus)),
                              plus_one(shift_right_one(modulus))};
      values[1].resize(L, 0);
      for (int i = 0; i < 32; i++) values.push_back(random_below(rng, modulus));
      // Batched: values laid out [coeff][word], residues [prime][coeff].
      const std::size_t count = values.size();
      std::vector<u64> flat;
      for (const Big& v : values) flat.insert(flat.end(), v.begin(), v.end());
      std::vector<u64> residues(L * count), composed(L * count);
      base.decompose(flat.data(), count, residues.data());
      base.compose(residues.data(), count, composed.data());
      check(composed == flat, tag + ": compose(decompose(x)) == x");
      for (std::size_t k = 0; k < count; k++) {
        std::vector<u64> r(L);
        for (std::size_t i = 0; i < L; i++) {
          r[i] = residues[i * count + k];
          check(r[i] == mod_big(values[k], q[i]), tag + ": residue");
        }
        check(compare(garner(q, r), values[k]) == 0, tag + ": Garner agrees");
      }
      // Random residue vectors compose to Garner's value too.
      for (int i = 0; i < 8; i++) {
        std::vector<u64> r(L);
        for (std::size_t j = 0; j < L; j++) r[j] = rng() % q[j];
        check(compare(compose(base, r), garner(q, r)) == 0, tag + ": compose == Garner");
      }
    }
  }
}

// reduce_signed's two paths: all |x| < q (noise, secrets: the branch-free q + x form) and a row with one value
// past q (the general reduction), against the exact residue; the extremes of each path included.
void reduce_signed_paths(std::mt19937_64& rng) {
  for (u64 q : {1099510054913ULL, 1152921504606748673ULL, 65537ULL}) {
    const rlwe::Mod mod(q);
    const auto big = static_cast<std::int64_t>(q - 1);
    std::vector<std::int64_t> values{0, 1, -1, big, -big, 21, -21};
    for (int i = 0; i < 57; i++) values.push_back(static_cast<std::int64_t>(rng() % 43) - 21);
    for (bool general : {false, true}) {
      if (general) values.insert(values.end(), {static_cast<std::int64_t>(q), -static_cast<std::int64_t>(q),
                                                std::numeric_limits<std::int64_t>::min(),
                                                std::numeric_limits<std::int64_t>::max()});
      std::vector<u64> out(values.size());
      ring::reduce_signed(mod, values.data(), values.size(), out.data());
      bool ok = true;
      for (std::size_t k = 0; k < values.size(); k++) {
        const std::int64_t v = values[k];
        const u64 magnitude = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
        const u64 r = magnitude % q;
        ok = ok && out[k] == (v < 0 && r != 0 ? q - r : r);
      }
      check(ok, std::string("reduce_signed ") + (general ? "general" : "small") + " q=" + std::to_string(q));
    }
  }
}

void signed_and_centered(std::mt19937_64& rng) {
  for (std::size_t L : {1, 2, 3, 5, 8}) {
    const std::vector<u64> q = random_primes(rng, L);
    const ring::RnsBase base(q);
    const Big modulus = product(q);
    const std::string tag = "centered L=" + std::to_string(L);
    std::vector<std::int64_t> values{0, 1, -1, -5, 123456789};
    const bool wide = base.modulus_bits() > 64;
    if (wide) values.insert(values.end(), {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()});
    for (int i = 0; i < 16; i++) {
      const auto v = static_cast<std::int64_t>(rng());
      values.push_back(wide ? v : v % static_cast<std::int64_t>(q[0] / 2));
    }
    std::vector<u64> residues(L * values.size());
    base.decompose(values.data(), values.size(), residues.data());
    std::vector<double> centered(values.size());
    base.compose_centered(residues.data(), values.size(), 1.0, centered.data());
    for (std::size_t k = 0; k < values.size(); k++) {
      const std::int64_t v = values[k];
      const u64 magnitude = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
      Big expected(L, 0);
      expected[0] = magnitude;
      if (v < 0) {  // Q - |v|
        Big diff = modulus;
        u64 borrow = 0;
        for (std::size_t t = 0; t < L; t++) {
          const u64 sub = expected[t] + borrow;
          borrow = (sub < borrow) || diff[t] < sub;
          diff[t] -= sub;
        }
        expected = diff;
      }
      std::vector<u64> r(L);
      for (std::size_t i = 0; i < L; i++) r[i] = residues[i * values.size() + k];
      check(compare(garner(q, r), expected) == 0, tag + ": signed residues " + std::to_string(v));
      // Word differences are rounded one by one, so a borrow across words costs up to an ulp of 2^(64(L-1)).
      const double tolerance = L == 1 ? 0.0 : std::ldexp(1.0, 64 * static_cast<int>(L - 1) - 50);
      check(std::fabs(centered[k] - static_cast<double>(v)) <= std::max(tolerance, std::fabs(static_cast<double>(v)) * 1e-15),
            tag + ": centered " + std::to_string(v) + " got " + std::to_string(centered[k]));
    }
    // (Q-1)/2 is the largest positive value and (Q+1)/2 the most negative one.
    const std::vector<Big> edges{shift_right_one(sub_one(modulus)), plus_one(shift_right_one(modulus))};
    std::vector<u64> flat;
    for (const Big& e : edges) flat.insert(flat.end(), e.begin(), e.end());
    std::vector<u64> edge_residues(L * 2);
    base.decompose(flat.data(), 2, edge_residues.data());
    std::vector<double> lifted(2);
    base.compose_centered(edge_residues.data(), 2, 0.5, lifted.data());
    const double half_q = std::ldexp(1.0, base.modulus_bits() - 2);  // about Q/4 after the factor 1/2
    check(lifted[0] > 0 && std::fabs(lifted[0] / half_q - 1) < 1.0, tag + ": (Q-1)/2 stays positive");
    check(std::fabs(lifted[0] + lifted[1]) <= std::max(1.0, std::fabs(lifted[0]) * 1e-15), tag + ": (Q+1)/2 lifts to -(Q-1)/2");
  }
}

void doubles(std::mt19937_64& rng) {
  const std::vector<u64> q = random_primes(rng, 6);
  const ring::RnsBase base(q);
  const std::size_t L = q.size();
  for (int i = 0; i < 200; i++) {
    // value = ±mantissa * 2^shift, exact in a double; its multiword form is the mantissa shifted.
    const u64 mantissa = (rng() >> 11) | (u64{1} << 52);
    const int shift = static_cast<int>(rng() % (64 * (L - 1) - 53));
    const bool negative = (rng() & 1) != 0;
    const double value = (negative ? -1.0 : 1.0) * std::ldexp(static_cast<double>(mantissa), shift);
    Big words(L, 0);
    words[shift / 64] = mantissa << (shift % 64);
    if (shift % 64 != 0 && shift / 64 + 1 < static_cast<int>(L)) words[shift / 64 + 1] = mantissa >> (64 - shift % 64);
    std::vector<u64> got(L);
    base.decompose(&value, 1, got.data());
    for (std::size_t j = 0; j < L; j++) {
      const u64 r = mod_big(words, q[j]);
      check(got[j] == (negative && r != 0 ? q[j] - r : r), "double residue at shift " + std::to_string(shift));
    }
  }
  const double specials[] = {0.0, -0.0, 1.0, -1.0, 18446744073709551615.0, 18446744073709551616.0};
  std::vector<u64> got(L * 6);
  base.decompose(specials, 6, got.data());
  for (std::size_t j = 0; j < L; j++) {
    check(got[j * 6 + 0] == 0 && got[j * 6 + 1] == 0, "±0");
    check(got[j * 6 + 2] == 1 % q[j] && got[j * 6 + 3] == q[j] - 1, "±1");
    const u64 two64 = static_cast<u64>((static_cast<u128>(1) << 64) % q[j]);
    check(got[j * 6 + 4] == two64 && got[j * 6 + 5] == two64, "2^64 (the largest double below it rounds up)");
  }
}

bool rejected(const std::vector<u64>& moduli) {
  try {
    ring::RnsBase base(moduli);
    return false;
  } catch (const rlwe::OpError& e) {
    return std::string(e.code()) == "E_INVALID_PARAMS";
  }
}

void invalid_bases() {
  check(rejected({}), "empty base");
  check(rejected({1099511480321ULL, 1099511480321ULL}), "duplicate prime");
  check(rejected({15, 22, 35}), "non-coprime moduli");
  check(rejected({0}) && rejected({1}), "moduli below 2");
  check(rejected({(u64{1} << 61) + 1}) && rejected({~u64{0}}), "moduli of 62+ bits");
  check(!rejected({(u64{1} << 61) - 1}), "2^61 - 1 is accepted");
  // Coprime composites form a base too: the inverses come from extended Euclid, not Fermat.
  const ring::RnsBase composite({15, 22, 91});
  for (u64 x = 0; x < 15 * 22 * 91; x += 7) {
    const Big v{x, 0, 0};
    check(compare(compose(composite, decompose(composite, v)), v) == 0, "composite base round trip");
  }
}

}  // namespace

int main() {
  std::mt19937_64 rng(20261201);
  round_trips(rng);
  signed_and_centered(rng);
  reduce_signed_paths(rng);
  doubles(rng);
  invalid_bases();
  if (failures != 0) {
    std::printf("%d failure(s)\n", failures);
    return 1;
  }
  std::printf("ring_rns_test: ok\n");
  return 0;
}
