#include "key_switch.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "crypto_core.h"
#include "ifma_products.h"
#include "ntt_simd.h"
#include "op_error.h"
#include "scratch.h"
#include "thread_pool.h"

namespace hefty::rlwe {

namespace {

bool vector_path(const RingTools& ring) { return ring.n() % 8 == 0 && simd::available(); }

// Returns L when it fits the keys (and `key`, when given, has an entry per digit).
std::size_t check_level(const RingTools& ring, std::size_t L, const KSwitchKeyView* key) {
  const std::size_t special = ring.key_count() - 1;
  if (L == 0 || L > special || (key != nullptr && key->entries.size() < L)) {
    fail("E_PARAMS_MISMATCH", "key-switching key does not fit this level");
  }
  return L;
}

// Output moduli in the order their tasks should start: P first (it needs one more NTT than the others, and its
// rows go back to coefficient form in the same task), then primes above the IFMA bound (slower 64-bit NTT),
// then the rest, so that threads finish together. Index L stands for P.
std::vector<std::size_t> output_order(const RingTools& ring, std::size_t L) {
  std::vector<std::size_t> order;
  order.reserve(L + 1);
  order.push_back(L);
  for (int fast = 0; fast < 2; fast++) {
    for (std::size_t i = 0; i < L; i++) {
      if (ifma::products_fit(ring.mod(i).q) == (fast == 1)) order.push_back(i);
    }
  }
  return order;
}

// dst = NTT_prime(src mod q_prime) for a coefficient-form digit src with entries below q_from; with `centered`,
// entries above q_from/2 stand for entry - q_from.
void digit_to_modulus(const RingTools& ring, const u64* src, u64 q_from, std::size_t prime, u64* dst,
                      bool centered = false) {
  const std::size_t n = ring.n();
  const Mod& m = ring.mod(prime);
  if (q_from > m.q && vector_path(ring)) {
    simd::reduce_row(src, dst, n, m);
  } else if (q_from > m.q) {
    for (std::size_t i = 0; i < n; i++) dst[i] = m.reduce(src[i]);
  } else {
    std::memcpy(dst, src, n * sizeof(u64));
  }
  if (centered) {
    const u64 half = q_from >> 1;
    const u64 q_from_here = m.reduce(q_from);
    for (std::size_t i = 0; i < n; i++) dst[i] = src[i] > half ? m.sub(dst[i], q_from_here) : dst[i];
  }
  ring.ntt_forward(dst, prime);
}

// (p0, p1) = Σ_j x[j] ⊙ key_j rows of `prime`, modulo that prime; with 128-bit register accumulators the
// products (below 2^120) sum without overflow for up to 256 terms, more than any level has.
void inner_products(const RingTools& ring, const std::vector<const u64*>& x, const KSwitchKeyView& key,
                    std::size_t prime, u64* p0, u64* p1) {
  const std::size_t n = ring.n();
  const std::size_t k = ring.key_count();
  const std::size_t count = x.size();
  const Mod& m = ring.mod(prime);
  std::vector<const u64*> key0(count), key1(count);
  for (std::size_t j = 0; j < count; j++) {
    key0[j] = key.entries[j] + prime * n;
    key1[j] = key.entries[j] + (k + prime) * n;
  }
  if (vector_path(ring)) {
    simd::key_products(x.data(), key0.data(), key1.data(), count, p0, p1, n, m);
    return;
  }
  for (std::size_t i = 0; i < n; i++) {
    u128 acc0 = 0, acc1 = 0;
    for (std::size_t j = 0; j < count; j++) {
      const u64 v = x[j][i];
      acc0 += static_cast<u128>(v) * key0[j][i];
      acc1 += static_cast<u128>(v) * key1[j][i];
    }
    p0[i] = m.reduce(acc0);
    p1[i] = m.reduce(acc1);
  }
}

// The P rows of the products back to coefficient form, shifted by floor(P/2) for the rounding division (not
// for BGV's exact one).
void prepare_mod_down(const RingTools& ring, u64* p0, u64* p1, bool rounding) {
  const std::size_t special = ring.key_count() - 1;
  for (u64* last : {p0, p1}) {
    ring.ntt_inverse(last, special);
    if (rounding) ring.shift_by_half(last, special);
  }
}

// Divides the products (layout [poly][output modulus][coeff], L + 1 rows per poly, P last) by P with rounding:
// c0 = base0 + r0, c1 = base1 + r1 (a null base: just r; a base may be the output itself).
// With a plain modulus t the division is BGV's exact one.
void mod_down(const RingTools& ring, std::size_t L, const u64* products, const u64* base0, const u64* base1, u64* c0,
              u64* c1, u64 plain_modulus) {
  const std::size_t n = ring.n();
  const std::size_t special = ring.key_count() - 1;
  const u64* last0 = products + L * n;
  const u64* last1 = products + (2 * L + 1) * n;
  ScratchBuffer offsets(plain_modulus != 0 ? 2 * n : 0);
  if (plain_modulus != 0) {
    plain_offsets(last0, n, ring.mod(special).q, plain_modulus, offsets.data());
    plain_offsets(last1, n, ring.mod(special).q, plain_modulus, offsets.data() + n);
  }
  parallel_for(2 * L, [&](std::size_t task) {
    const std::size_t poly = task / L;
    const std::size_t i = task % L;
    ScratchBuffer scratch(n);
    const u64* last = poly == 0 ? last0 : last1;
    const u64* acc = products + (poly * (L + 1) + i) * n;
    u64* out = (poly == 0 ? c0 : c1) + i * n;
    const u64* base = poly == 0 ? base0 : base1;
    if (base != nullptr) base += i * n;
    if (plain_modulus != 0) {
      ring.exact_drop_row(special, i, last, offsets.data() + poly * n, acc, base, out, scratch.data());
    } else {
      ring.round_drop_row(special, i, last, acc, base, out, scratch.data());
    }
  });
}

void switch_keys(const RingTools& ring, std::size_t L, const u64* target, const TargetRowMaker* make_row,
                 const KSwitchKeyView& key, const u64* base0, const u64* base1, u64* c0, u64* c1, u64 plain_modulus) {
  const std::size_t n = ring.n();
  const std::size_t special = ring.key_count() - 1;
  check_level(ring, L, &key);

  // Step 1: every decomposition digit in coefficient form (the target rows made first when a maker is given).
  ScratchBuffer made(make_row != nullptr ? L * n : 0);
  if (make_row != nullptr) target = made.data();
  ScratchBuffer digits(L * n);
  parallel_for(L, [&](std::size_t j) {
    if (make_row != nullptr) (*make_row)(j, made.data() + j * n);
    u64* d = digits.data() + j * n;
    std::memcpy(d, target + j * n, n * sizeof(u64));
    ring.ntt_inverse(d, j);
  });

  // Step 2: inner products with the key for each output modulus (L data primes, then P). Each task first
  // brings every digit to its modulus in NTT form, then makes one pass over the key rows.
  const std::vector<std::size_t> order = output_order(ring, L);
  ScratchBuffer products(2 * (L + 1) * n);
  parallel_for(L + 1, [&](std::size_t task) {
    const std::size_t out = order[task];
    const std::size_t prime = out < L ? out : special;
    ScratchBuffer digit_rows(L * n);
    std::vector<const u64*> x(L);
    for (std::size_t j = 0; j < L; j++) {
      if (j == prime) {
        x[j] = target + j * n;
      } else {
        u64* dst = digit_rows.data() + j * n;
        digit_to_modulus(ring, digits.data() + j * n, ring.mod(j).q, prime, dst);
        x[j] = dst;
      }
    }
    u64* p0 = products.data() + out * n;
    u64* p1 = products.data() + (L + 1 + out) * n;
    inner_products(ring, x, key, prime, p0, p1);
    if (out == L) prepare_mod_down(ring, p0, p1, plain_modulus == 0);
  });

  // Step 3: divide by P with rounding and add to the bases.
  mod_down(ring, L, products.data(), base0, base1, c0, c1, plain_modulus);
}

// out[i] = in[table[i]]. The decomposed rows come from memory, not cache: the row is first streamed in
// (sequential prefetches the hardware keeps up with), then read at random. Scalar loads beat AVX-512 gathers
// here: measured at N=16384, this halves the time of a whole HoistedTarget::apply against gathers without it.
void permute(const RingTools& ring, const std::uint32_t* table, const u64* in, u64* out) {
  const std::size_t n = ring.n();
  for (std::size_t i = 0; i < n; i += 8) __builtin_prefetch(in + i);
  for (std::size_t i = 0; i < n; i++) out[i] = in[table[i]];
}

}  // namespace

void key_switch(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key, u64* c0, u64* c1,
                bool replace_c1, u64 plain_modulus) {
  switch_keys(ring, L, target, nullptr, key, c0, replace_c1 ? nullptr : c1, c0, c1, plain_modulus);
}

void key_switch_onto(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key,
                     const u64* base0, const u64* base1, u64* c0, u64* c1, u64 plain_modulus) {
  switch_keys(ring, L, target, nullptr, key, base0, base1, c0, c1, plain_modulus);
}

void key_switch(const RingTools& ring, std::size_t L, const TargetRowMaker& make_row, const KSwitchKeyView& key, u64* c0,
                u64* c1, bool replace_c1, u64 plain_modulus) {
  switch_keys(ring, L, nullptr, &make_row, key, c0, replace_c1 ? nullptr : c1, c0, c1, plain_modulus);
}

HoistedTarget::HoistedTarget(const RingTools& ring, std::size_t L, const u64* t)
    : ring_(ring), L_(check_level(ring, L, nullptr)), rows_((L + 1) * L * ring.n()) {
  const std::size_t n = ring.n();
  const std::size_t special = ring.key_count() - 1;
  // Digit j in coefficient form goes where output j keeps its own digit, t[j] itself (copied in after the
  // other outputs have read the coefficient forms).
  const auto row = [&](std::size_t out, std::size_t digit) { return rows_.data() + (out * L + digit) * n; };
  parallel_for(L, [&](std::size_t j) {
    std::memcpy(row(j, j), t + j * n, n * sizeof(u64));
    ring.ntt_inverse(row(j, j), j);
  });
  const std::vector<std::size_t> order = output_order(ring, L);
  parallel_for(L + 1, [&](std::size_t task) {
    const std::size_t out = order[task];
    const std::size_t prime = out < L ? out : special;
    for (std::size_t j = 0; j < L; j++) {
      if (j != out) digit_to_modulus(ring, row(j, j), ring.mod(j).q, prime, row(out, j), true);
    }
  });
  parallel_for(L, [&](std::size_t j) { std::memcpy(row(j, j), t + j * n, n * sizeof(u64)); });
}

void HoistedTarget::apply(const std::vector<Job>& jobs, const u64* c0) const {
  const std::size_t n = ring_.n();
  const std::size_t L = L_;
  const std::size_t special = ring_.key_count() - 1;
  for (const Job& job : jobs) check_level(ring_, L, job.key);
  const std::vector<std::size_t> order = output_order(ring_, L);
  const std::size_t job_words = 2 * (L + 1) * n;  // one job's inner products, [poly][output modulus][coeff]
  const std::size_t group = std::max<std::size_t>(1, std::min(jobs.size(), kGroupWords / job_words));
  ScratchBuffer group_products(group * job_words);
  u64* const products = group_products.data();
  for (std::size_t first = 0; first < jobs.size(); first += group) {
    const std::size_t count = std::min(group, jobs.size() - first);
    parallel_for(L + 1, [&](std::size_t task) {
      const std::size_t out = order[task];
      const std::size_t prime = out < L ? out : special;
      const u64* decomposed = rows_.data() + out * L * n;
      // π of every digit at this modulus (π commutes with reduction and, in NTT form, is a permutation).
      ScratchBuffer permuted(L * n);
      std::vector<const u64*> x(L);
      for (std::size_t r = 0; r < count; r++) {
        const Job& job = jobs[first + r];
        for (std::size_t j = 0; j < L; j++) {
          permute(ring_, job.table, decomposed + j * n, permuted.data() + j * n);
          x[j] = permuted.data() + j * n;
        }
        u64* p0 = products + r * job_words + out * n;
        u64* p1 = products + r * job_words + (L + 1 + out) * n;
        inner_products(ring_, x, *job.key, prime, p0, p1);
        if (out == L) {
          prepare_mod_down(ring_, p0, p1, true);
        } else {
          permute(ring_, job.table, c0 + out * n, job.out0 + out * n);
        }
      }
    });
    for (std::size_t r = 0; r < count; r++) {
      const Job& job = jobs[first + r];
      mod_down(ring_, L, products + r * job_words, job.out0, nullptr, job.out0, job.out1, 0);
    }
  }
}

}  // namespace hefty::rlwe
