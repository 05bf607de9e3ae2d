// The NTT's fast paths (AVX-512, and IFMA for primes below 2^50) against a plain textbook NTT (spec §5:
// minimal primitive 2N-th root, bit-reversed powers, Cooley-Tukey), on random inputs, for primes at the
// edges of each path: just below 2^50 (the IFMA bound), just above it, 40-bit and 60-bit.
#include <cstdio>
#include <random>
#include <vector>

#include "../rlwe/modarith.h"
#include "../rlwe/ntt_engine.h"

using namespace hefty;
using rlwe::u64;

namespace {

int failures = 0;

bool is_prime(u64 q) {
  if (q < 2 || q % 2 == 0) return q == 2;
  const rlwe::Mod m(q);
  u64 d = q - 1;
  int r = 0;
  while (d % 2 == 0) d /= 2, r++;
  for (u64 a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    u64 x = m.pow(a, d);
    if (x == 1 || x == q - 1) continue;
    bool composite = true;
    for (int i = 1; i < r && composite; i++) {
      x = m.mul(x, x);
      composite = x != q - 1;
    }
    if (composite) return false;
  }
  return true;
}

// The largest prime below `bound` that is 1 mod 2n.
u64 prime_below(u64 bound, std::size_t n) {
  u64 q = bound - (bound - 1) % (2 * n);
  while (!is_prime(q)) q -= 2 * n;
  return q;
}

std::vector<u64> textbook_forward(std::vector<u64> a, u64 q) {
  const std::size_t n = a.size();
  const rlwe::Mod m(q);
  int logn = 0;
  while ((std::size_t{1} << logn) < n) logn++;
  u64 psi = 0;  // the minimal primitive 2n-th root
  for (u64 x = 2; psi == 0; x++) {
    const u64 r = m.pow(x, (q - 1) / (2 * n));
    if (m.pow(r, n) != q - 1) continue;
    u64 best = r, current = r;
    for (std::size_t i = 1; i < n; i++) current = m.mul(current, m.mul(r, r)), best = current < best ? current : best;
    psi = best;
  }
  std::vector<u64> roots(n);
  for (std::size_t i = 0; i < n; i++) {
    std::size_t rev = 0;
    for (int b = 0; b < logn; b++) rev |= ((i >> b) & 1) << (logn - 1 - b);
    roots[rev] = m.pow(psi, i);
  }
  for (std::size_t len = 1, gap = n / 2, k = 1; len < n; len *= 2, gap /= 2) {
    for (std::size_t g = 0; g < len; g++) {
      const u64 w = roots[k++];
      for (std::size_t i = 2 * g * gap; i < 2 * g * gap + gap; i++) {
        const u64 x = a[i], y = m.mul(a[i + gap], w);
        a[i] = m.add(x, y);
        a[i + gap] = m.sub(x, y);
      }
    }
  }
  return a;
}

void check(std::size_t n, u64 q, bool all_top = false) {
  std::mt19937_64 rng(n * 31 + q);
  std::vector<u64> a(n);
  for (auto& x : a) x = all_top ? q - 1 : rng() % q;
  // The extremes too: every lazy bound is reached when inputs sit at q - 1.
  a[0] = q - 1;
  a[n - 1] = q - 1;
  rlwe::NttEngine engine(n, {q});
  std::vector<u64> b = a;
  engine.forward(b.data(), 0);
  if (b != textbook_forward(a, q)) {
    std::printf("FAIL forward n=%zu q=%llu\n", n, static_cast<unsigned long long>(q));
    failures++;
  }
  engine.inverse(b.data(), 0);
  if (b != a) {
    std::printf("FAIL inverse n=%zu q=%llu\n", n, static_cast<unsigned long long>(q));
    failures++;
  }
}

}  // namespace

int main() {
  for (std::size_t n : {32, 64, 1024, 8192, 32768}) {
    for (u64 bound : {u64{1} << 40, u64{1} << 50, (u64{1} << 50) + (u64{1} << 40), u64{1} << 60}) {
      check(n, prime_below(bound, n));
    }
    // The IFMA forward NTT runs lazily while (4 + 2 log2 n) q < 2^52: the largest prime that does, and the
    // smallest above, with every input at q - 1 as well.
    std::size_t log_n = 0;
    while ((std::size_t{1} << log_n) < n) log_n++;
    const u64 lazy_bound = ((u64{1} << 52) - 1) / (4 + 2 * log_n) + 1;
    const u64 largest_lazy = prime_below(lazy_bound - 1, n);
    u64 smallest_eager = lazy_bound + (2 * n - (lazy_bound - 1) % (2 * n));
    while (!is_prime(smallest_eager)) smallest_eager += 2 * n;
    for (u64 q : {largest_lazy, smallest_eager}) {
      check(n, q);
      check(n, q, true);
    }
  }
  if (failures == 0) std::printf("ntt_paths_test: ok\n");
  return failures == 0 ? 0 : 1;
}
