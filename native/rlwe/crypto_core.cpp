#include "crypto_core.h"

#include <cstring>
#include <vector>

#include "../ring/multiword.h"
#include "../ring/rns_base.h"
#include "row_ops.h"
#include "scratch.h"
#include "thread_pool.h"

namespace hefty::rlwe {

void small_to_rows(const RingTools& ring, std::size_t L, const std::int64_t* values, u64* rows) {
  for (std::size_t j = 0; j < L; j++) hefty::ring::reduce_signed(ring.mod(j), values, ring.n(), rows + j * ring.n());
}

void small_to_ntt_rows(const RingTools& ring, std::size_t L, const std::int64_t* values, u64* rows) {
  small_to_rows(ring, L, values, rows);
  parallel_for(L, [&](std::size_t j) { ring.ntt_forward(rows + j * ring.n(), j); });
}

namespace {

// rows *= factor mod q_j (L rows); nothing for factor 1.
void scale_rows(const RingTools& ring, std::size_t L, u64 factor, u64* rows) {
  if (factor == 1) return;
  const std::size_t n = ring.n();
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = ring.mod(j);
    const ShoupMul f(m.reduce(factor), m.q);
    u64* row = rows + j * n;
    for (std::size_t i = 0; i < n; i++) row[i] = f.apply(row[i], m.q);
  }
}

}  // namespace

int centered_norm_bits(const RingTools& ring, std::size_t L, const u64* rows) {
  const std::size_t n = ring.n();
  std::vector<u64> primes(L);
  for (std::size_t j = 0; j < L; j++) primes[j] = ring.mod(j).q;
  const hefty::ring::RnsBase base(primes);
  std::vector<u64> values(n * L);
  base.compose(rows, n, values.data());
  const u64* q = base.modulus();
  // (Q + 1) / 2: values at or above it are negative.
  hefty::ring::Words half(q, q + L);
  hefty::ring::Words one(L, 0);
  one[0] = 1;
  hefty::ring::add_in_place(half.data(), one.data(), L);
  for (std::size_t w = 0; w < L; w++) half[w] = (half[w] >> 1) | (w + 1 < L ? half[w + 1] << 63 : 0);
  int norm_bits = 0;
  hefty::ring::Words magnitude(L);
  for (std::size_t i = 0; i < n; i++) {
    const u64* v = values.data() + i * L;
    if (hefty::ring::greater_or_equal(v, half.data(), L)) {
      std::memcpy(magnitude.data(), q, L * sizeof(u64));
      hefty::ring::sub_in_place(magnitude.data(), v, L);
    } else {
      std::memcpy(magnitude.data(), v, L * sizeof(u64));
    }
    const int bits = hefty::ring::bit_length(magnitude.data(), L);
    if (bits > norm_bits) norm_bits = bits;
  }
  return norm_bits;
}

u64 inverse_mod(u64 a, u64 m) {
  using i128 = __int128;
  i128 old_r = a % m, r = m, old_s = 1, s = 0;
  while (r != 0) {
    const i128 q = old_r / r;
    const i128 next_r = old_r - q * r;
    old_r = r;
    r = next_r;
    const i128 next_s = old_s - q * s;
    old_s = s;
    s = next_s;
  }
  if (old_r != 1) return 0;
  const i128 inv = old_s % static_cast<i128>(m);
  return static_cast<u64>(inv < 0 ? inv + m : inv);
}

void plain_offsets(const u64* x, std::size_t n, u64 q_last, u64 t, u64* k) {
  const Mod mt(t);
  const u64 inv = inverse_mod(q_last % t, t);
  for (std::size_t i = 0; i < n; i++) k[i] = mt.mul(mt.neg(mt.reduce(x[i])), inv);
}

void div_exact_last_ntt(const RingTools& ring, std::size_t L, const u64* in, u64* out, u64 t) {
  const std::size_t n = ring.n();
  const std::size_t last = L - 1;
  ScratchBuffer last_row(n), offsets(n);
  std::memcpy(last_row.data(), in + last * n, n * sizeof(u64));
  ring.ntt_inverse(last_row.data(), last);
  plain_offsets(last_row.data(), n, ring.mod(last).q, t, offsets.data());
  parallel_for(last, [&](std::size_t i) {
    ScratchBuffer scratch(n);
    ring.exact_drop_row(last, i, last_row.data(), offsets.data(), in + i * n, nullptr, out + i * n, scratch.data());
  });
}

void encrypt_zero_symmetric(const RingTools& ring, std::size_t L, const u64* secret, const u64* a, const std::int64_t* e,
                            u64* c0, u64 noise_factor) {
  const std::size_t n = ring.n();
  small_to_ntt_rows(ring, L, e, c0);
  scale_rows(ring, L, noise_factor, c0);
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = ring.mod(j);
    u64* out = c0 + j * n;
    rows::multiply_add(a + j * n, secret + j * n, out, out, n, m);
    rows::negate(out, out, n, m);
  }
}

void div_round_last_ntt(const RingTools& ring, std::size_t L, const u64* in, u64* out) {
  const std::size_t n = ring.n();
  const std::size_t last = L - 1;
  ScratchBuffer last_row(n);
  std::memcpy(last_row.data(), in + last * n, n * sizeof(u64));
  ring.ntt_inverse(last_row.data(), last);
  ring.shift_by_half(last_row.data(), last);
  const u64* shifted = last_row.data();
  parallel_for(last, [&](std::size_t i) {
    ScratchBuffer scratch(n);
    ring.round_drop_row(last, i, shifted, in + i * n, nullptr, out + i * n, scratch.data());
  });
}

void encrypt_zero_public(const RingTools& ring, std::size_t L_up, const u64* pk, const std::int64_t* u,
                         const std::int64_t* e0, const std::int64_t* e1, u64* c0, u64* c1, u64 plain_modulus) {
  const std::size_t n = ring.n();
  const std::size_t k = ring.key_count();
  // Every level's primes are a prefix of the key primes, so row j of the level is key row j (the key
  // level's last row is the special prime).
  // Per-thread scratch: fresh megabyte vectors per encryption would be zero-filled and page-faulted each time.
  ScratchBuffer u_ntt(L_up * n), poly(L_up * n);
  small_to_ntt_rows(ring, L_up, u, u_ntt.data());
  for (int which = 0; which < 2; which++) {
    small_to_ntt_rows(ring, L_up, which == 0 ? e0 : e1, poly.data());
    if (plain_modulus != 0) scale_rows(ring, L_up, plain_modulus, poly.data());
    for (std::size_t j = 0; j < L_up; j++) {
      u64* out = poly.data() + j * n;
      rows::multiply_add(pk + (which * k + j) * n, u_ntt.data() + j * n, out, out, n, ring.mod(j));
    }
    u64* dst = which == 0 ? c0 : c1;
    if (L_up == 1) {
      std::memcpy(dst, poly.data(), n * sizeof(u64));
    } else {
      if (plain_modulus != 0) {
        div_exact_last_ntt(ring, L_up, poly.data(), poly.data(), plain_modulus);
      } else {
        div_round_last_ntt(ring, L_up, poly.data(), poly.data());
      }
      std::memcpy(dst, poly.data(), (L_up - 1) * n * sizeof(u64));
    }
  }
}

void decrypt_ntt(const RingTools& ring, std::size_t L, const u64* ct, std::size_t size, const u64* secret, u64* m) {
  const std::size_t n = ring.n();
  parallel_for(L, [&](std::size_t j) {
    const Mod& mod = ring.mod(j);
    const u64* s = secret + j * n;
    u64* out = m + j * n;
    if (size < 2) {
      std::memcpy(out, ct + j * n, n * sizeof(u64));
      return;
    }
    // c0 + c1 ⊙ s in one pass (the common size-2 case needs nothing else), then c_p ⊙ s^p for larger sizes.
    rows::multiply_add(ct + (L + j) * n, s, ct + j * n, out, n, mod);
    if (size == 2) return;
    ScratchBuffer power(n);
    rows::multiply(s, s, power.data(), n, mod);
    for (std::size_t p = 2; p < size; p++) {
      rows::multiply_add(ct + (p * L + j) * n, power.data(), out, out, n, mod);
      if (p + 1 < size) rows::multiply(power.data(), s, power.data(), n, mod);
    }
  });
}

void add_key_switching_target(const RingTools& ring, std::size_t j, const u64* target_rows, u64* b) {
  const std::size_t n = ring.n();
  const Mod& m = ring.mod(j);
  const u64 factor = m.reduce(ring.mod(ring.key_count() - 1).q);
  const u64* t = target_rows + j * n;
  u64* row = b + j * n;
  for (std::size_t i = 0; i < n; i++) row[i] = m.add(row[i], m.mul(factor, t[i]));
}

}  // namespace hefty::rlwe
