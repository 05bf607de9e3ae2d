#include "encryptor.h"

#include <cstring>

#include "../rlwe/batch_encoder.h"
#include "../rlwe/crypto_core.h"
#include "../rlwe/keys.h"
#include "../rlwe/integer_ops.h"
#include "../rlwe/op_error.h"
#include "../rlwe/scratch.h"
#include "../rlwe/thread_pool.h"
#include "evaluator.h"

namespace hefty::bgv {

using rlwe::check_secret;
using rlwe::fail;

namespace {

// c0 += NTT(lift(m)) at the first data level.
void add_plain(const Context& ctx, const Plain& plain, Cipher& ct) {
  const Level& level = ctx.first_data_level();
  const std::size_t n = ctx.n(), L = level.prime_count;
  rlwe::ScratchBuffer lifted(L * n);
  ctx.tools(level).lift_ntt(plain.data.data(), plain.data.size(), lifted.data());
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = ctx.ring().mod(j);
    u64* row = ct.data.data() + j * n;
    const u64* p = lifted.data() + j * n;
    for (std::size_t i = 0; i < n; i++) row[i] = m.add(row[i], p[i]);
  }
}

// (c0 + c1·s + ...) in coefficient form, L rows.
std::vector<u64> phase(const Context& ctx, const rlwe::Words& secret, const Cipher& ct, std::size_t L) {
  const std::size_t n = ctx.n();
  std::vector<u64> x(L * n);
  rlwe::decrypt_ntt(ctx.ring(), L, ct.data.data(), ct.size, secret.data(), x.data());
  rlwe::parallel_for(L, [&](std::size_t j) { ctx.ring().ntt_inverse(x.data() + j * n, j); });
  return x;
}

}  // namespace

Cipher encrypt_symmetric(const Context& ctx, const rlwe::Words& secret, const Plain& plain, rlwe::Seed* seed_out) {
  check_secret(ctx, secret);
  rlwe::check_plain(ctx.plain_space(), plain);
  const Level& level = ctx.first_data_level();
  rlwe::ZeroCipher zero =
      rlwe::encrypt_zero_symmetric(ctx.ring(), level.prime_count, secret, ctx.randomness(), ctx.plain_modulus());
  Cipher ct{level.parms_id, 2, 1.0, true, std::move(zero.data)};
  add_plain(ctx, plain, ct);
  if (seed_out != nullptr) *seed_out = zero.seed;
  return ct;
}

Cipher encrypt_public(const Context& ctx, const rlwe::Words& pk, const Plain& plain) {
  rlwe::check_plain(ctx.plain_space(), plain);
  const std::size_t k = ctx.primes().size();
  if (pk.size() != 2 * k * ctx.n()) fail("E_INVALID_ARGUMENT", "public key has the wrong size");
  const Level& level = ctx.first_data_level();
  Cipher ct{level.parms_id, 2, 1.0, true,
            rlwe::encrypt_zero_public_key(ctx.ring(), level.prime_count, pk, ctx.randomness(), ctx.plain_modulus())};
  add_plain(ctx, plain, ct);
  return ct;
}

Plain decrypt(const Context& ctx, const rlwe::Words& secret, const Cipher& ct) {
  check_secret(ctx, secret);
  const Level& level = data_level_of(ctx, ct);
  const std::size_t n = ctx.n();
  const std::vector<u64> x = phase(ctx, secret, ct, level.prime_count);
  Plain pt{ParmsId{}, 1.0, rlwe::Words(n, 0)};
  ctx.tools(level).to_plain(x.data(), pt.data.data());
  if (ct.correction_factor != 1) {
    const Mod mt(ctx.plain_modulus());
    const u64 fix = rlwe::inverse_mod(ct.correction_factor, ctx.plain_modulus());
    if (fix == 0) fail("E_INVALID_ARGUMENT", "invalid correction factor");
    for (u64& c : pt.data) c = mt.mul(c, fix);
  }
  rlwe::trim_trailing_zeros(pt);
  return pt;
}

int invariant_noise_budget(const Context& ctx, const rlwe::Words& secret, const Cipher& ct) {
  check_secret(ctx, secret);
  const Level& level = data_level_of(ctx, ct);
  const std::vector<u64> x = phase(ctx, secret, ct, level.prime_count);
  const int budget = level.total_bits - rlwe::centered_norm_bits(ctx.ring(), level.prime_count, x.data()) - 1;
  return budget > 0 ? budget : 0;
}

}  // namespace hefty::bgv
