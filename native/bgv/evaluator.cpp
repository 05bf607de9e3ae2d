#include "evaluator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "../ckks/kernels.h"
#include "../rlwe/batch_encoder.h"
#include "../rlwe/crypto_core.h"
#include "../rlwe/key_switch.h"
#include "../rlwe/op_error.h"
#include "../rlwe/integer_ops.h"
#include "../rlwe/scratch.h"
#include "../rlwe/thread_pool.h"

namespace hefty::bgv {

using rlwe::fail;

const Level& data_level_of(const Context& ctx, const Cipher& ct) {
  const Level& level = rlwe::checked_data_level(ctx.chain(), ctx.n(), ct, true, "BGV ciphertexts must be in NTT form");
  if (ct.correction_factor == 0 || ct.correction_factor >= ctx.plain_modulus()) {
    fail("E_INVALID_ARGUMENT", "correction factor is not in [1, t)");
  }
  return level;
}

namespace {

// Every polynomial of `c` (L rows each) times a scalar below t.
void scale(const rlwe::RingTools& ring, std::size_t L, std::uint64_t factor, Cipher& c) {
  const std::size_t n = ring.n();
  for (std::size_t p = 0; p < c.size; p++) {
    for (std::size_t j = 0; j < L; j++) {
      const Mod& m = ring.mod(j);
      const ShoupMul f(m.reduce(factor), m.q);
      u64* row = c.data.data() + (p * L + j) * n;
      for (std::size_t i = 0; i < n; i++) row[i] = f.apply(row[i], m.q);
    }
  }
}

}  // namespace

BalancedFactors balance_correction_factors(std::uint64_t f1, std::uint64_t f2, std::uint64_t t) {
  const Mod mt(t);
  const std::uint64_t half = t / 2;
  const auto centered = [&](std::uint64_t x) {
    return x > half ? -static_cast<std::int64_t>(t - x) : static_cast<std::int64_t>(x);
  };
  const auto sum_abs = [&](std::uint64_t x, std::uint64_t y) { return std::llabs(centered(x)) + std::llabs(centered(y)); };
  const auto residue = [&](std::int64_t v) {
    const std::uint64_t r = mt.reduce(static_cast<std::uint64_t>(std::llabs(v)));
    return v < 0 ? mt.neg(r) : r;
  };
  const std::uint64_t inv = rlwe::inverse_mod(f1, t);
  if (inv == 0) fail("E_INVALID_ARGUMENT", "invalid correction factor");
  const std::uint64_t ratio = mt.mul(inv, f2);
  std::uint64_t e1 = ratio, e2 = 1;
  long long best = sum_abs(e1, e2);
  // Extended Euclid on (t, ratio): every remainder a and coefficient b satisfy a = b·ratio (mod t).
  std::int64_t prev_a = static_cast<std::int64_t>(t), prev_b = 0;
  std::int64_t a = static_cast<std::int64_t>(ratio), b = 1;
  while (a != 0) {
    const std::int64_t q = prev_a / a;
    std::int64_t next = prev_a % a;
    prev_a = a;
    a = next;
    next = prev_b - b * q;
    prev_b = b;
    b = next;
    const std::uint64_t a_mod = residue(a), b_mod = residue(b);
    if (a_mod != 0 && std::gcd(a_mod, t) == 1) {
      const long long sum = sum_abs(a_mod, b_mod);
      if (sum < best) {
        best = sum;
        e1 = a_mod;
        e2 = b_mod;
      }
    }
  }
  return {mt.mul(e1, f1), e1, e2};
}

Cipher Evaluator::negate(const Cipher& a) const {
  const Level& level = data_level_of(ctx_, a);
  const std::size_t L = level.prime_count;
  Cipher out = a;
  ckks::negate_polys(ctx_.ring(), L, a.size, a.data.data(), out.data.data());
  rlwe::check_not_transparent(out, L * ctx_.n());
  return out;
}

Cipher Evaluator::add_or_sub(const Cipher& a, const Cipher& b, bool subtract) const {
  const Level& level = pair_level(a, b);
  const rlwe::RingTools& ring = ctx_.ring();
  const std::size_t L = level.prime_count;
  const std::size_t poly_words = L * ctx_.n();
  if (a.correction_factor != b.correction_factor) {
    // Both sides times their balancing factor, then an ordinary sum at the common factor.
    const BalancedFactors f = balance_correction_factors(a.correction_factor, b.correction_factor, ctx_.plain_modulus());
    Cipher x = a, y = b;
    scale(ring, L, f.e1, x);
    scale(ring, L, f.e2, y);
    x.correction_factor = y.correction_factor = f.factor;
    return add_or_sub(x, y, subtract);
  }
  const std::size_t common = std::min(a.size, b.size);
  const std::size_t size = std::max(a.size, b.size);
  Cipher out{a.parms_id, size, 1.0, true, rlwe::Words(size * poly_words), a.correction_factor};
  if (subtract) {
    ckks::sub_polys(ring, L, common, a.data.data(), b.data.data(), out.data.data());
  } else {
    ckks::add_polys(ring, L, common, a.data.data(), b.data.data(), out.data.data());
  }
  const std::size_t rest = size - common;
  const u64* tail = (a.size > b.size ? a.data.data() : b.data.data()) + common * poly_words;
  u64* dst = out.data.data() + common * poly_words;
  if (subtract && b.size > a.size) {
    ckks::negate_polys(ring, L, rest, tail, dst);
  } else if (rest != 0) {
    std::memcpy(dst, tail, rest * poly_words * sizeof(u64));
  }
  rlwe::check_not_transparent(out, poly_words);
  return out;
}

Cipher Evaluator::plain_add_or_sub(const Cipher& a, const Plain& p, bool subtract) const {
  const Level& level = data_level_of(ctx_, a);
  rlwe::check_plain(ctx_.plain_space(), p);
  const std::size_t L = level.prime_count, n = ctx_.n();
  // The plaintext carries the ciphertext's correction factor: m·f mod t, lifted and in NTT form.
  const Mod mt(ctx_.plain_modulus());
  std::vector<u64> scaled(p.data.begin(), p.data.end());
  for (u64& c : scaled) c = mt.mul(c, a.correction_factor);
  rlwe::ScratchBuffer lifted(L * n);
  ctx_.tools(level).lift_ntt(scaled.data(), scaled.size(), lifted.data());
  Cipher out = a;
  if (subtract) {
    ckks::sub_polys(ctx_.ring(), L, 1, out.data.data(), lifted.data(), out.data.data());
  } else {
    ckks::add_polys(ctx_.ring(), L, 1, out.data.data(), lifted.data(), out.data.data());
  }
  rlwe::check_not_transparent(out, L * n);
  return out;
}

Cipher Evaluator::multiply(const Cipher& a, const Cipher& b) const {
  const Level& level = pair_level(a, b);
  const std::size_t size = a.size + b.size - 1;
  if (size > 16) fail("E_INVALID_ARGUMENT", "ciphertext size would exceed 16");
  const std::size_t L = level.prime_count;
  const Mod mt(ctx_.plain_modulus());
  Cipher out{a.parms_id, size, 1.0, true, rlwe::Words(size * L * ctx_.n()),
             mt.mul(a.correction_factor, b.correction_factor)};
  ckks::tensor(ctx_.ring(), L, a.data.data(), a.size, b.data.data(), b.size, out.data.data());
  rlwe::check_not_transparent(out, L * ctx_.n());
  return out;
}

Cipher Evaluator::multiply_plain(const Cipher& a, const Plain& p) const {
  const Level& level = data_level_of(ctx_, a);
  rlwe::check_plain(ctx_.plain_space(), p);
  const std::size_t L = level.prime_count, n = ctx_.n();
  rlwe::ScratchBuffer lifted(L * n);
  ctx_.tools(level).lift_ntt(p.data.data(), p.data.size(), lifted.data());
  Cipher out{a.parms_id, a.size, 1.0, true, rlwe::Words(a.data.size()), a.correction_factor};
  ckks::multiply_polys_by(ctx_.ring(), L, a.size, a.data.data(), lifted.data(), out.data.data());
  rlwe::check_not_transparent(out, L * n);
  return out;
}

Cipher Evaluator::relinearize(const Cipher& a, const KeySwitchingKeys& relin) const {
  // The key switch divides exactly modulo t, in NTT form like the ciphertext.
  return relinearize_with(a, relin, [&](std::size_t L, const u64* target, const auto& key, u64* c0, u64* c1) {
    rlwe::key_switch(ctx_.ring(), L, target, key, c0, c1, false, ctx_.plain_modulus());
  });
}

Cipher Evaluator::mod_switch_to_next(const Cipher& a) const {
  const Level& level = data_level_of(ctx_, a);
  const Level* next = ctx_.chain().next(level);
  if (next == nullptr) fail("E_LEVEL_EXHAUSTED", "end of modulus switching chain reached");
  const std::size_t n = ctx_.n(), L = level.prime_count;
  const Mod mt(ctx_.plain_modulus());
  Cipher out{next->parms_id, a.size, 1.0, true, rlwe::Words(a.size * (L - 1) * n),
             mt.mul(a.correction_factor, ctx_.tools(level).inv_q_last_mod_t())};
  rlwe::ScratchBuffer poly(L * n);
  for (std::size_t p = 0; p < a.size; p++) {
    std::memcpy(poly.data(), a.data.data() + p * L * n, L * n * sizeof(u64));
    rlwe::div_exact_last_ntt(ctx_.ring(), L, poly.data(), poly.data(), ctx_.plain_modulus());
    std::memcpy(out.data.data() + p * (L - 1) * n, poly.data(), (L - 1) * n * sizeof(u64));
  }
  rlwe::check_not_transparent(out, (L - 1) * n);
  return out;
}

Cipher Evaluator::apply_galois(const Cipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const {
  const Level& level = data_level_of(ctx_, a);
  const rlwe::GaloisStep step = rlwe::check_galois_step(ctx_.chain(), ctx_.galois(), a.size, galois_elt, galois);
  const std::vector<std::uint32_t>& table = step.ntt_permutation;
  const std::size_t index = step.key_index;
  const std::size_t n = ctx_.n(), L = level.prime_count;
  const std::size_t poly_words = L * n;
  Cipher out{a.parms_id, 2, 1.0, true, rlwe::Words(2 * poly_words), a.correction_factor};
  // Row j of both permuted polynomials, made inside the key switch's first parallel phase: c0 goes straight to
  // the output, c1 is the key-switching target.
  const rlwe::TargetRowMaker permuted_c1 = [&](std::size_t j, u64* dst) {
    ctx_.galois().permute_row(table, a.data.data() + j * n, out.data.data() + j * n);
    ctx_.galois().permute_row(table, a.data.data() + poly_words + j * n, dst);
  };
  rlwe::key_switch(ctx_.ring(), L, permuted_c1, galois.keys[index], out.data.data(), out.data.data() + poly_words, true,
                   ctx_.plain_modulus());
  rlwe::check_not_transparent(out, poly_words);
  return out;
}

}  // namespace hefty::bgv
