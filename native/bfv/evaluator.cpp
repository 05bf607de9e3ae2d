#include "evaluator.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../rlwe/key_switch.h"
#include "../rlwe/op_error.h"
#include "../rlwe/integer_ops.h"
#include "../rlwe/row_ops.h"
#include "../rlwe/scratch.h"
#include "../rlwe/thread_pool.h"
#include "../rlwe/batch_encoder.h"

namespace hefty::bfv {

using rlwe::fail;

const Level& data_level_of(const Context& ctx, const Cipher& ct) {
  return rlwe::checked_data_level(ctx.chain(), ctx.n(), ct, false, "BFV ciphertexts cannot be in NTT form");
}

void div_round_last_coeff(const rlwe::RingTools& ring, std::size_t L, const u64* in, u64* out) {
  const std::size_t n = ring.n();
  const std::size_t last = L - 1;
  rlwe::ScratchBuffer shifted(n);
  std::memcpy(shifted.data(), in + last * n, n * sizeof(u64));
  ring.shift_by_half(shifted.data(), last);
  rlwe::parallel_for(last, [&](std::size_t i) {
    rlwe::ScratchBuffer scratch(n);
    ring.round_drop_row_coefficients(last, i, shifted.data(), in + i * n, out + i * n, scratch.data());
  });
}

namespace {

// out = a^g (X -> X^g) on one coefficient-form row modulo m.
void automorphism_row(const u64* in, std::size_t n, std::uint32_t g, const Mod& m, u64* out) {
  const std::size_t mask = 2 * n - 1;
  for (std::size_t i = 0; i < n; i++) {
    const std::size_t e = (i * g) & mask;
    if (e < n) {
      out[e] = in[i];
    } else {
      out[e - n] = m.neg(in[i]);
    }
  }
}

// The calling thread's multiply workspace, grown to the largest size asked for and kept: the general scratch pool
// hands out buffers of other sizes, and regrowing them (fresh pages fault one by one) cost more than the math.
u64* multiply_workspace(std::size_t words) {
  thread_local std::vector<u64> buffer;
  if (buffer.size() < words) buffer.resize(words);
  return buffer.data();
}

}  // namespace

Cipher Evaluator::negate(const Cipher& a) const {
  const Level& level = data_level_of(ctx_, a);
  const std::size_t n = ctx_.n(), L = level.prime_count;
  Cipher out = a;
  for (std::size_t p = 0; p < a.size; p++) {
    for (std::size_t j = 0; j < L; j++) {
      u64* row = out.data.data() + (p * L + j) * n;
      rlwe::rows::negate(row, row, n, ctx_.ring().mod(j));
    }
  }
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

Cipher Evaluator::add_or_sub(const Cipher& a, const Cipher& b, bool subtract) const {
  const Level& level = pair_level(a, b);
  const std::size_t n = ctx_.n(), L = level.prime_count;
  const std::size_t poly_words = L * n;
  const std::size_t size = std::max(a.size, b.size);
  Cipher out{a.parms_id, size, 1.0, false, rlwe::Words(size * poly_words)};  // every word written below
  for (std::size_t p = 0; p < size; p++) {
    for (std::size_t j = 0; j < L; j++) {
      const Mod& m = ctx_.ring().mod(j);
      const std::size_t offset = (p * L + j) * n;
      u64* dst = out.data.data() + offset;
      if (p < a.size && p < b.size) {
        const u64* x = a.data.data() + offset;
        const u64* y = b.data.data() + offset;
        if (subtract) {
          rlwe::rows::sub(x, y, dst, n, m);
        } else {
          rlwe::rows::add(x, y, dst, n, m);
        }
      } else if (p < a.size) {
        std::memcpy(dst, a.data.data() + offset, n * sizeof(u64));
      } else if (subtract) {
        rlwe::rows::negate(b.data.data() + offset, dst, n, m);
      } else {
        std::memcpy(dst, b.data.data() + offset, n * sizeof(u64));
      }
    }
  }
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

Cipher Evaluator::plain_add_or_sub(const Cipher& a, const Plain& p, bool subtract) const {
  const Level& level = data_level_of(ctx_, a);
  rlwe::check_plain(ctx_.plain_space(), p);
  Cipher out = a;
  ctx_.tools(level).add_scaled_plain(p.data.data(), p.data.size(), out.data.data(), subtract);
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

namespace {

// d_k = Σ_{i+j=k} a_i ⊙ b_j for `rows` rows per polynomial (NTT form), rows modulo ring.mod(row).
void tensor(const rlwe::RingTools& ring, std::size_t rows, const u64* a, std::size_t s1, const u64* b, std::size_t s2,
            u64* out) {
  const std::size_t n = ring.n();
  if (s1 == 2 && s2 == 2) {  // the common case in one pass per row
    rlwe::parallel_for(rows, [&](std::size_t j) {
      rlwe::rows::tensor(a + j * n, a + (rows + j) * n, b + j * n, b + (rows + j) * n, out + j * n,
                         out + (rows + j) * n, out + (2 * rows + j) * n, n, ring.mod(j));
    });
    return;
  }
  const std::size_t size = s1 + s2 - 1;
  rlwe::parallel_for(size * rows, [&](std::size_t task) {
    const std::size_t k = task / rows, j = task % rows;
    const Mod& m = ring.mod(j);
    u64* dst = out + (k * rows + j) * n;
    const std::size_t first = k >= s2 - 1 ? k - (s2 - 1) : 0;
    const std::size_t last = std::min(k, s1 - 1);
    if (first == last) {  // one product
      rlwe::rows::multiply(a + (first * rows + j) * n, b + ((k - first) * rows + j) * n, dst, n, m);
      return;
    }
    for (std::size_t i = 0; i < n; i++) {
      u128 acc = 0;
      for (std::size_t x = first; x <= last; x++) {
        acc += static_cast<u128>(a[(x * rows + j) * n + i]) * b[((k - x) * rows + j) * n + i];
      }
      dst[i] = m.reduce(acc);
    }
  });
}

}  // namespace

Cipher Evaluator::multiply(const Cipher& a, const Cipher& b) const {
  const Level& level = pair_level(a, b);
  const std::size_t size = a.size + b.size - 1;
  if (size > 16) fail("E_INVALID_ARGUMENT", "ciphertext size would exceed 16");
  const LevelTools& tools = ctx_.tools(level);
  const rlwe::RingTools& ring = ctx_.ring();
  const rlwe::RingTools& bsk_ring = tools.bsk_ring();
  const std::size_t n = ctx_.n(), L = level.prime_count, K = tools.bsk_size();
  // Every input polynomial over q and over Bsk, in NTT form. Temporaries are per-thread scratch: fresh pages
  // cost a page fault each, which would dominate the arithmetic.
  // One workspace: both inputs over q and Bsk, the product over both, and per-polynomial conversion scratch.
  const bool same = &a == &b;
  const std::size_t per_poly = tools.scratch_words();
  const std::size_t inputs = (a.size + (same ? 0 : b.size)) * (L + K) * n;
  u64* workspace = multiply_workspace(inputs + size * (L + K) * n + std::max(a.size + b.size, size) * per_poly);
  u64* a_q = workspace;
  u64* a_bsk = a_q + a.size * L * n;
  u64* b_q = same ? a_q : a_bsk + a.size * K * n;
  u64* b_bsk = same ? a_bsk : b_q + b.size * L * n;
  u64* d_q = workspace + inputs;
  u64* d_bsk = d_q + size * L * n;
  u64* conversion = d_bsk + size * K * n;
  auto lift = [&](const Cipher& c, u64* q_part, u64* bsk_part) {
    std::memcpy(q_part, c.data.data(), c.size * L * n * sizeof(u64));
    rlwe::parallel_for(c.size, [&](std::size_t p) {
      tools.lift_to_bsk(c.data.data() + p * L * n, bsk_part + p * K * n, conversion + p * per_poly);
    });
    rlwe::parallel_for(c.size * (L + K), [&](std::size_t task) {
      const std::size_t p = task / (L + K), r = task % (L + K);
      if (r < L) {
        ring.ntt_forward(q_part + (p * L + r) * n, r);
      } else {
        bsk_ring.ntt_forward(bsk_part + (p * K + r - L) * n, r - L);
      }
    });
  };
  lift(a, a_q, a_bsk);
  if (!same) lift(b, b_q, b_bsk);
  tensor(ring, L, a_q, a.size, b_q, b.size, d_q);
  tensor(bsk_ring, K, a_bsk, a.size, b_bsk, b.size, d_bsk);
  rlwe::parallel_for(size * (L + K), [&](std::size_t task) {
    const std::size_t p = task / (L + K), r = task % (L + K);
    if (r < L) {
      ring.ntt_inverse(d_q + (p * L + r) * n, r);
    } else {
      bsk_ring.ntt_inverse(d_bsk + (p * K + r - L) * n, r - L);
    }
  });
  Cipher out{a.parms_id, size, 1.0, false, rlwe::Words(size * L * n)};  // every word written below
  rlwe::parallel_for(size, [&](std::size_t p) {
    tools.floor_to_q(d_q + p * L * n, d_bsk + p * K * n, out.data.data() + p * L * n, conversion + p * per_poly);
  });
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

Cipher Evaluator::multiply_plain(const Cipher& a, const Plain& p) const {
  const Level& level = data_level_of(ctx_, a);
  rlwe::check_plain(ctx_.plain_space(), p);
  const LevelTools& tools = ctx_.tools(level);
  const rlwe::RingTools& ring = ctx_.ring();
  const std::size_t n = ctx_.n(), L = level.prime_count;
  Cipher out = a;
  // SEAL multiplies by a one-term plaintext's coefficient as stored, not centered, when every prime exceeds t
  // (its monomial path with the fast plain lift): t - 1 stays t - 1 rather than -1. The same value mod t; the
  // bytes (and noise) are SEAL's only this way.
  const std::size_t terms =
      static_cast<std::size_t>(std::count_if(p.data.begin(), p.data.end(), [](u64 c) { return c != 0; }));
  const bool as_stored = terms == 1 && tools.primes_exceed_plain();
  rlwe::parallel_for(L, [&](std::size_t j) {
    const Mod& m = ring.mod(j);
    rlwe::ScratchBuffer plain_row(n);
    u64* pr = plain_row.data();
    std::fill(pr, pr + n, 0);
    for (std::size_t i = 0; i < p.data.size(); i++)
      pr[i] = as_stored ? p.data[i] : tools.centered_plain(p.data[i], j);
    ring.ntt_forward(pr, j);
    for (std::size_t poly = 0; poly < a.size; poly++) {
      u64* row = out.data.data() + (poly * L + j) * n;
      ring.ntt_forward(row, j);
      rlwe::rows::multiply(row, pr, row, n, m);
      ring.ntt_inverse(row, j);
    }
  });
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

void Evaluator::switch_key(std::size_t L, const u64* target, const rlwe::KSwitchKeyView& key, u64* c0, u64* c1,
                           bool replace_c1) const {
  const rlwe::RingTools& ring = ctx_.ring();
  const std::size_t n = ctx_.n();
  // The rlwe key switch takes an NTT-form target and returns (r0, r1) in NTT form; both are exact, so their
  // coefficient forms are SEAL's coefficient-form key switch.
  rlwe::ScratchBuffer scratch(2 * L * n);
  u64* r = scratch.data();
  std::fill(r, r + 2 * L * n, 0);
  const rlwe::TargetRowMaker make_row = [&](std::size_t j, u64* dst) {
    std::memcpy(dst, target + j * n, n * sizeof(u64));
    ring.ntt_forward(dst, j);
  };
  rlwe::key_switch(ring, L, make_row, key, r, r + L * n, true);
  rlwe::parallel_for(2 * L, [&](std::size_t task) {
    const std::size_t poly = task / L, j = task % L;
    const Mod& m = ring.mod(j);
    u64* row = r + task * n;
    ring.ntt_inverse(row, j);
    u64* dst = (poly == 0 ? c0 : c1) + j * n;
    if (poly == 1 && replace_c1) {
      std::memcpy(dst, row, n * sizeof(u64));
    } else {
      for (std::size_t i = 0; i < n; i++) dst[i] = m.add(dst[i], row[i]);
    }
  });
}

Cipher Evaluator::relinearize(const Cipher& a, const KeySwitchingKeys& relin) const {
  return relinearize_with(a, relin, [&](std::size_t L, const u64* target, const auto& key, u64* c0, u64* c1) {
    switch_key(L, target, key, c0, c1, false);
  });
}

Cipher Evaluator::mod_switch_to_next(const Cipher& a) const {
  const Level& level = data_level_of(ctx_, a);
  const Level* next = ctx_.chain().next(level);
  if (next == nullptr) fail("E_LEVEL_EXHAUSTED", "end of modulus switching chain reached");
  const std::size_t n = ctx_.n(), L = level.prime_count;
  Cipher out{next->parms_id, a.size, 1.0, false, rlwe::Words(a.size * (L - 1) * n, 0)};
  for (std::size_t p = 0; p < a.size; p++) {
    div_round_last_coeff(ctx_.ring(), L, a.data.data() + p * L * n, out.data.data() + p * (L - 1) * n);
  }
  rlwe::check_not_transparent(out, next->prime_count * ctx_.n());
  return out;
}

Cipher Evaluator::apply_galois(const Cipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const {
  const Level& level = data_level_of(ctx_, a);
  const std::size_t index = rlwe::check_galois_step(ctx_.chain(), ctx_.galois(), a.size, galois_elt, galois).key_index;
  const std::size_t n = ctx_.n(), L = level.prime_count;
  Cipher out{a.parms_id, 2, 1.0, false, rlwe::Words(2 * L * n, 0)};
  rlwe::ScratchBuffer target(L * n);
  rlwe::parallel_for(2 * L, [&](std::size_t task) {
    const std::size_t poly = task / L, j = task % L;
    const u64* src = a.data.data() + task * n;
    automorphism_row(src, n, galois_elt, ctx_.ring().mod(j), poly == 0 ? out.data.data() + j * n : target.data() + j * n);
  });
  switch_key(L, target.data(), galois.keys[index], out.data.data(), out.data.data() + L * n, true);
  rlwe::check_not_transparent(out, level.prime_count * ctx_.n());
  return out;
}

}  // namespace hefty::bfv
