// The element-wise product kernels (AVX-512, and IFMA for primes below 2^50) against plain 128-bit
// arithmetic, on random residues and on q - 1 everywhere (the largest sums), for primes on both sides of
// the IFMA bound and for key-switching sums of 1 to 16 terms (16: past what the IFMA sums take, so the wide
// IFMA sums serve it); the wide sums up to their 1024-term limit and one past it (the 64-bit kernel again), on
// primes up to 2^61 - 1 (the largest the wide limbs take); and the row dispatch (rlwe/row_ops.h) on both its
// vector and scalar paths.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "../rlwe/modarith.h"
#include "../rlwe/ntt_simd.h"
#include "../rlwe/row_ops.h"

using namespace hefty;
using rlwe::u128;
using rlwe::u64;

namespace {

int failures = 0;

void expect(bool ok, const char* what, u64 q, std::size_t terms) {
  if (ok) return;
  std::printf("FAIL %s q=%llu terms/n=%zu\n", what, static_cast<unsigned long long>(q), terms);
  failures++;
}

std::vector<u64> residues(std::mt19937_64& rng, std::size_t n, u64 q, bool extreme) {
  std::vector<u64> v(n);
  for (auto& x : v) x = extreme ? q - 1 : rng() % q;
  return v;
}

void check(u64 q, bool extreme) {
  const std::size_t n = 64;
  const rlwe::Mod m(q);
  std::mt19937_64 rng(q);
  const auto a0 = residues(rng, n, q, extreme), a1 = residues(rng, n, q, extreme);
  const auto b0 = residues(rng, n, q, extreme), b1 = residues(rng, n, q, extreme);
  std::vector<u64> out(n), c0(n), c1(n), c2(n);
  rlwe::simd::multiply_rows(a0.data(), b0.data(), out.data(), n, m);
  rlwe::simd::tensor_rows(a0.data(), a1.data(), b0.data(), b1.data(), c0.data(), c1.data(), c2.data(), n, m);
  bool products = true, tensor = true;
  for (std::size_t i = 0; i < n; i++) {
    const auto mod = [q](u128 x) { return static_cast<u64>(x % q); };
    products = products && out[i] == mod(static_cast<u128>(a0[i]) * b0[i]);
    tensor = tensor && c0[i] == mod(static_cast<u128>(a0[i]) * b0[i]) &&
             c1[i] == mod(static_cast<u128>(a0[i]) * b1[i] + static_cast<u128>(a1[i]) * b0[i]) &&
             c2[i] == mod(static_cast<u128>(a1[i]) * b1[i]);
  }
  expect(products, "multiply_rows", q, 1);
  expect(tensor, "tensor_rows", q, 2);


  for (std::size_t terms : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 63, 64, 1024, 1025}) {
    std::vector<std::vector<u64>> x, k0, k1;
    std::vector<const u64*> px, pk0, pk1;
    for (std::size_t j = 0; j < terms; j++) {
      x.push_back(residues(rng, n, q, extreme));
      k0.push_back(residues(rng, n, q, extreme));
      k1.push_back(residues(rng, n, q, extreme));
    }
    for (std::size_t j = 0; j < terms; j++) px.push_back(x[j].data()), pk0.push_back(k0[j].data()), pk1.push_back(k1[j].data());
    std::vector<u64> o0(n), o1(n);
    rlwe::simd::key_products(px.data(), pk0.data(), pk1.data(), terms, o0.data(), o1.data(), n, m);
    bool ok = true;
    for (std::size_t i = 0; i < n; i++) {
      u64 s0 = 0, s1 = 0;
      for (std::size_t j = 0; j < terms; j++) {
        s0 = m.add(s0, static_cast<u64>(static_cast<u128>(x[j][i]) * k0[j][i] % q));
        s1 = m.add(s1, static_cast<u64>(static_cast<u128>(x[j][i]) * k1[j][i] % q));
      }
      ok = ok && o0[i] == s0 && o1[i] == s1;
    }
    expect(ok, "key_products", q, terms);
  }
}

// The fused product-plus-row (decryption, encryption) and the additive kernels through the row dispatch: the
// vector kernels for n a multiple of 8 (unless HEFTY_NO_SIMD / HEFTY_NO_IFMA), the scalar loops otherwise;
// the in-place forms with out == c / a. Zeros included (negation's special case).
void check_rows(u64 q, bool extreme, std::size_t n) {
  const rlwe::Mod m(q);
  std::mt19937_64 rng(q + n);
  auto a0 = residues(rng, n, q, extreme);
  const auto a1 = residues(rng, n, q, extreme), b0 = residues(rng, n, q, extreme), b1 = residues(rng, n, q, extreme);
  a0[1] = 0;
  std::vector<u64> fused(n), fused_in_place(a1), sum(n), difference(n), negated(n), negated_in_place(a0);
  rlwe::rows::multiply_add(a0.data(), b0.data(), a1.data(), fused.data(), n, m);
  rlwe::rows::multiply_add(a0.data(), b0.data(), fused_in_place.data(), fused_in_place.data(), n, m);
  rlwe::rows::add(a0.data(), b1.data(), sum.data(), n, m);
  rlwe::rows::sub(a0.data(), b1.data(), difference.data(), n, m);
  rlwe::rows::negate(a0.data(), negated.data(), n, m);
  rlwe::rows::negate(negated_in_place.data(), negated_in_place.data(), n, m);
  bool fused_ok = true, additive = true;
  for (std::size_t i = 0; i < n; i++) {
    const u64 want = static_cast<u64>((static_cast<u128>(a0[i]) * b0[i] + a1[i]) % q);
    fused_ok = fused_ok && fused[i] == want && fused_in_place[i] == want;
    const u64 neg = a0[i] == 0 ? 0 : q - a0[i];
    additive = additive && sum[i] == static_cast<u64>((static_cast<u128>(a0[i]) + b1[i]) % q) &&
               difference[i] == static_cast<u64>((static_cast<u128>(a0[i]) + q - b1[i]) % q) && negated[i] == neg &&
               negated_in_place[i] == neg;
  }
  // Signed magnitudes (the encoder's residues): any 64-bit magnitude, negated where the double is negative.
  std::vector<u64> magnitudes(n), signed_out(n);
  std::vector<double> signs(n);
  for (std::size_t i = 0; i < n; i++) {
    magnitudes[i] = i % 5 == 0 ? 0 : rng() >> (i % 3 == 0 ? 0 : 13);
    signs[i] = i % 4 == 0 ? -0.0 : i % 2 ? -1.0 : 1.0;
  }
  rlwe::rows::reduce_signed_magnitudes(magnitudes.data(), signs.data(), signed_out.data(), n, m);
  bool signed_ok = true;
  for (std::size_t i = 0; i < n; i++) {
    const u64 r = magnitudes[i] % q;
    signed_ok = signed_ok && signed_out[i] == (std::signbit(signs[i]) && r != 0 ? q - r : r);
  }
  // Any 64-bit word (the key switch brings digits of larger primes down with this), 2^64 - 1 included.
  std::vector<u64> words(n), reduced(n);
  for (std::size_t i = 0; i < n; i++) words[i] = i == 0 ? ~u64{0} : i == 1 ? q : rng() >> (i % 4 * 7);
  rlwe::rows::reduce(words.data(), reduced.data(), n, m);
  bool reduce_ok = true;
  for (std::size_t i = 0; i < n; i++) reduce_ok = reduce_ok && reduced[i] == words[i] % q;
  expect(reduce_ok, "rows::reduce", q, n);
  expect(signed_ok, "rows::reduce_signed_magnitudes", q, n);
  expect(fused_ok, "rows::multiply_add", q, n);
  expect(additive, "rows::add/sub/negate", q, n);
}

}  // namespace

int main() {
  for (u64 q : {1099510054913ULL, 1125899904679937ULL, 1125899908022273ULL, 1152921504606748673ULL}) {
    for (bool extreme : {false, true}) {
      check_rows(q, extreme, 64);
      check_rows(q, extreme, 60);
    }
  }
  if (!rlwe::simd::available()) {
    if (failures != 0) return 1;
    std::printf("product_kernels_test: no AVX-512 here, nothing to check\n");
    return 0;
  }
  // 40-bit, just below 2^50 (largest IFMA prime), just above 2^50, 60-bit: all primes 1 mod 2^15; and 2^61 - 1,
  // the largest prime the wide key products take (its residues fill the 9-bit high limbs).
  for (u64 q : {1099510054913ULL, 1125899904679937ULL, 1125899908022273ULL, 1152921504606748673ULL,
                2305843009213693951ULL}) {
    check(q, false);
    check(q, true);
  }
  if (failures == 0) std::printf("product_kernels_test: ok\n");
  return failures == 0 ? 0 : 1;
}
