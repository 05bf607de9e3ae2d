#include "encryptor.h"

#include <algorithm>
#include <cstring>

#include "../rlwe/crypto_core.h"
#include "../rlwe/integer_ops.h"
#include "../rlwe/op_error.h"
#include "../rlwe/scratch.h"
#include "../rlwe/thread_pool.h"
#include "../rlwe/batch_encoder.h"
#include "evaluator.h"

namespace hefty::bfv {

using rlwe::check_secret;
using rlwe::fail;
using rlwe::u64;

namespace {

// x = c0 + INTT(Σ_{i>=1} NTT(c_i) ⊙ s^i), per row (coefficient form, L rows).
std::vector<u64> dot_with_secret(const Context& ctx, const rlwe::Words& secret, const Cipher& ct, std::size_t L) {
  const std::size_t n = ctx.n();
  const rlwe::RingTools& ring = ctx.ring();
  std::vector<u64> x(L * n);
  rlwe::parallel_for(L, [&](std::size_t j) {
    const Mod& m = ring.mod(j);
    const u64* s = secret.data() + j * n;
    rlwe::ScratchBuffer acc_buffer(n), term_buffer(n), power_buffer(n);
    u64* acc = acc_buffer.data();
    u64* term = term_buffer.data();
    u64* power = power_buffer.data();
    std::fill(acc, acc + n, 0);
    std::memcpy(power, s, n * sizeof(u64));
    for (std::size_t p = 1; p < ct.size; p++) {
      std::memcpy(term, ct.data.data() + (p * L + j) * n, n * sizeof(u64));
      ring.ntt_forward(term, j);
      for (std::size_t i = 0; i < n; i++) acc[i] = m.add(acc[i], m.mul(term[i], power[i]));
      if (p + 1 < ct.size) {
        for (std::size_t i = 0; i < n; i++) power[i] = m.mul(power[i], s[i]);
      }
    }
    ring.ntt_inverse(acc, j);
    const u64* c0 = ct.data.data() + j * n;
    u64* out = x.data() + j * n;
    for (std::size_t i = 0; i < n; i++) out[i] = m.add(c0[i], acc[i]);
  });
  return x;
}

}  // namespace

Cipher encrypt_symmetric(const Context& ctx, const rlwe::Words& secret, const Plain& plain, rlwe::Seed* seed_out) {
  check_secret(ctx, secret);
  rlwe::check_plain(ctx.plain_space(), plain);
  const Level& level = ctx.first_data_level();
  const std::size_t L = level.prime_count;
  const std::size_t n = ctx.n();
  const rlwe::RingTools& ring = ctx.ring();
  Cipher ct{level.parms_id, 2, 1.0, false, rlwe::Words(2 * L * n, 0)};
  u64* c0 = ct.data.data();
  u64* c1 = c0 + L * n;
  // Spec §7.2: the public seed, its uniform expansion a, then the noise from the bootstrap stream.
  auto bootstrap = ctx.randomness().create();
  rlwe::Seed seed;
  bootstrap->read(seed.data(), seed.size());
  auto expansion = rlwe::blake2xb_stream(seed);
  rlwe::sample_uniform(*expansion, ring, L, c1);
  std::vector<std::int64_t> e(n);
  rlwe::sample_cbd(*bootstrap, n, e.data());
  std::vector<u64> a_ntt(c1, c1 + L * n);
  if (seed_out != nullptr) {
    // a is the coefficient form of c1: multiply with s through its NTT.
    rlwe::parallel_for(L, [&](std::size_t j) { ring.ntt_forward(a_ntt.data() + j * n, j); });
    *seed_out = seed;
  }
  // c0 = -(a ⊙ s + NTT(e)) in NTT form, then both to coefficient form.
  rlwe::encrypt_zero_symmetric(ring, L, secret.data(), a_ntt.data(), e.data(), c0);
  rlwe::parallel_for(seed_out != nullptr ? L : 2 * L, [&](std::size_t task) {
    ring.ntt_inverse(ct.data.data() + task * n, task % L);
  });
  ctx.tools(level).add_scaled_plain(plain.data.data(), plain.data.size(), c0, false);
  return ct;
}

Cipher encrypt_public(const Context& ctx, const rlwe::Words& pk, const Plain& plain) {
  rlwe::check_plain(ctx.plain_space(), plain);
  const std::size_t n = ctx.n();
  const std::size_t k = ctx.primes().size();
  if (pk.size() != 2 * k * n) fail("E_INVALID_ARGUMENT", "public key has the wrong size");
  const rlwe::RingTools& ring = ctx.ring();
  const Level& level = ctx.first_data_level();
  const std::size_t L = level.prime_count;
  const std::size_t L_up = L < k ? L + 1 : L;
  auto stream = ctx.randomness().create();
  std::vector<std::int64_t> u(n), e0(n), e1(n);
  rlwe::sample_ternary(*stream, n, u.data());
  rlwe::sample_cbd(*stream, n, e0.data());
  rlwe::sample_cbd(*stream, n, e1.data());
  rlwe::ScratchBuffer u_ntt(L_up * n), poly(L_up * n), noise(L_up * n);
  rlwe::small_to_ntt_rows(ring, L_up, u.data(), u_ntt.data());
  Cipher ct{level.parms_id, 2, 1.0, false, rlwe::Words(2 * L * n, 0)};
  for (std::size_t which = 0; which < 2; which++) {
    rlwe::small_to_rows(ring, L_up, which == 0 ? e0.data() : e1.data(), noise.data());
    // c = INTT(pk ⊙ NTT(u)) + e over L_up rows, then rounding away the last prime in coefficient form.
    rlwe::parallel_for(L_up, [&](std::size_t j) {
      const Mod& m = ring.mod(j);
      const u64* key = pk.data() + (which * k + j) * n;
      const u64* ur = u_ntt.data() + j * n;
      u64* row = poly.data() + j * n;
      for (std::size_t i = 0; i < n; i++) row[i] = m.mul(key[i], ur[i]);
      ring.ntt_inverse(row, j);
      const u64* e = noise.data() + j * n;
      for (std::size_t i = 0; i < n; i++) row[i] = m.add(row[i], e[i]);
    });
    u64* dst = ct.data.data() + which * L * n;
    if (L_up == L) {
      std::memcpy(dst, poly.data(), L * n * sizeof(u64));
    } else {
      div_round_last_coeff(ring, L_up, poly.data(), dst);
    }
  }
  ctx.tools(level).add_scaled_plain(plain.data.data(), plain.data.size(), ct.data.data(), false);
  return ct;
}

Plain decrypt(const Context& ctx, const rlwe::Words& secret, const Cipher& ct) {
  check_secret(ctx, secret);
  const Level& level = data_level_of(ctx, ct);
  const std::size_t n = ctx.n();
  const std::vector<u64> x = dot_with_secret(ctx, secret, ct, level.prime_count);
  Plain pt{ParmsId{}, 1.0, rlwe::Words(n, 0)};
  ctx.tools(level).scale_and_round(x.data(), pt.data.data());
  rlwe::trim_trailing_zeros(pt);
  return pt;
}

int invariant_noise_budget(const Context& ctx, const rlwe::Words& secret, const Cipher& ct) {
  check_secret(ctx, secret);
  const Level& level = data_level_of(ctx, ct);
  const std::size_t n = ctx.n();
  const std::size_t L = level.prime_count;
  std::vector<u64> x = dot_with_secret(ctx, secret, ct, L);
  // t·(c0 + c1·s + ...) mod Q is Q times the invariant noise; its largest centered coefficient gives the budget.
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = ctx.ring().mod(j);
    const u64 t = m.reduce(ctx.plain_modulus());
    for (std::size_t i = 0; i < n; i++) x[j * n + i] = m.mul(x[j * n + i], t);
  }
  const int norm_bits = rlwe::centered_norm_bits(ctx.ring(), L, x.data());
  const int budget = level.total_bits - norm_bits - 1;
  return budget > 0 ? budget : 0;
}

}  // namespace hefty::bfv
