#include "key_switch.h"

#include <cstring>
#include <vector>

#include "ifma_products.h"
#include "ntt_simd.h"
#include "op_error.h"
#include "scratch.h"
#include "thread_pool.h"

namespace hefty::rlwe {

namespace {

void switch_keys(const RingTools& ring, std::size_t L, const u64* target, const TargetRowMaker* make_row,
                 const KSwitchKeyView& key, u64* c0, u64* c1, bool replace_c1) {
  const std::size_t n = ring.n();
  const std::size_t k = ring.key_count();
  const std::size_t special = k - 1;
  const bool vector = n % 8 == 0 && simd::available();
  if (L == 0 || L > special || key.entries.size() < L) fail("E_PARAMS_MISMATCH", "key-switching key does not fit this level");

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
  // brings every digit to its modulus in NTT form, then makes one pass with 128-bit register accumulators:
  // products are below 2^120, so up to 256 of them (more than any level has) sum without overflow.
  // Tasks run longest first so that threads finish together: P needs one more NTT than the others, and primes
  // above the IFMA bound take the slower 64-bit NTT.
  std::vector<std::size_t> order;
  order.reserve(L + 1);
  order.push_back(L);
  for (int fast = 0; fast < 2; fast++) {
    for (std::size_t i = 0; i < L; i++) {
      if (ifma::products_fit(ring.mod(i).q) == (fast == 1)) order.push_back(i);
    }
  }
  ScratchBuffer products(2 * (L + 1) * n);
  parallel_for(L + 1, [&](std::size_t task) {
    const std::size_t out = order[task];
    const std::size_t prime = out < L ? out : special;
    const Mod& m = ring.mod(prime);
    ScratchBuffer digit_rows(L * n);
    std::vector<const u64*> x(L), key0(L), key1(L);
    for (std::size_t j = 0; j < L; j++) {
      if (j == prime) {
        x[j] = target + j * n;
      } else {
        const u64* src = digits.data() + j * n;
        u64* dst = digit_rows.data() + j * n;
        if (ring.mod(j).q > m.q && vector) {
          simd::reduce_row(src, dst, n, m);
        } else if (ring.mod(j).q > m.q) {
          for (std::size_t i = 0; i < n; i++) dst[i] = m.reduce(src[i]);
        } else {
          std::memcpy(dst, src, n * sizeof(u64));
        }
        ring.ntt_forward(dst, prime);
        x[j] = dst;
      }
      key0[j] = key.entries[j] + prime * n;
      key1[j] = key.entries[j] + (k + prime) * n;
    }
    u64* p0 = products.data() + out * n;
    u64* p1 = products.data() + (L + 1 + out) * n;
    if (n % 8 == 0 && simd::available()) {
      simd::key_products(x.data(), key0.data(), key1.data(), L, p0, p1, n, m);
    } else {
      for (std::size_t i = 0; i < n; i++) {
        u128 acc0 = 0, acc1 = 0;
        for (std::size_t j = 0; j < L; j++) {
          const u64 v = x[j][i];
          acc0 += static_cast<u128>(v) * key0[j][i];
          acc1 += static_cast<u128>(v) * key1[j][i];
        }
        p0[i] = m.reduce(acc0);
        p1[i] = m.reduce(acc1);
      }
    }
    // The P rows go back to coefficient form here, in the same task (it runs first, so the others cover it).
    if (out == L) {
      for (u64* last : {p0, p1}) {
        ring.ntt_inverse(last, special);
        ring.shift_by_half(last, special);
      }
    }
  });

  // Step 3: divide by P with rounding and add to (c0, c1).
  const u64* last0 = products.data() + L * n;
  const u64* last1 = products.data() + (2 * L + 1) * n;
  parallel_for(2 * L, [&](std::size_t task) {
    const std::size_t poly = task / L;
    const std::size_t i = task % L;
    ScratchBuffer scratch(n);
    const u64* last = poly == 0 ? last0 : last1;
    const u64* acc = products.data() + (poly * (L + 1) + i) * n;
    u64* out = (poly == 0 ? c0 : c1) + i * n;
    ring.round_drop_row(special, i, last, acc, out, !(poly == 1 && replace_c1), scratch.data());
  });
}

}  // namespace

void key_switch(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key, u64* c0, u64* c1,
                bool replace_c1) {
  switch_keys(ring, L, target, nullptr, key, c0, c1, replace_c1);
}

void key_switch(const RingTools& ring, std::size_t L, const TargetRowMaker& make_row, const KSwitchKeyView& key, u64* c0,
                u64* c1, bool replace_c1) {
  switch_keys(ring, L, nullptr, &make_row, key, c0, c1, replace_c1);
}

}  // namespace hefty::rlwe
