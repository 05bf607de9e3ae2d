// BFV's base conversions (LevelTools::lift_to_bsk, floor_to_q and decryption's scale_and_round): the
// dispatching entry points (AVX-512 kernels for n a multiple of 8 unless HEFTY_NO_SIMD) against the portable
// loops, word for word. Parameter
// sets cover one vector (n = 8), many blocks, a single prime, many primes (long sums), 60-bit primes with a
// 59-bit t (the case that adds a prime to B), a t that is not prime, and n not a multiple of 8 (portable on
// both sides). Inputs are
// random residues, every residue at q - 1 (the largest lazy sums) and zeros, and out == d_q in place.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../bfv/rns_tools.h"
#include "../bfv/rns_tools_simd.h"

using namespace hefty;
using rlwe::u64;

namespace {

int failures = 0;

enum class Fill { random, top, zero };

void expect(bool ok, const std::string& what) {
  if (ok) return;
  std::printf("FAIL %s\n", what.c_str());
  failures++;
}

// `rows` rows of n words, row r below moduli[r].
std::vector<u64> rows_of(std::mt19937_64& rng, std::size_t n, const std::vector<u64>& moduli, Fill fill) {
  std::vector<u64> out(moduli.size() * n);
  for (std::size_t r = 0; r < moduli.size(); r++) {
    for (std::size_t i = 0; i < n; i++) {
      const u64 q = moduli[r];
      out[r * n + i] = fill == Fill::zero ? 0 : fill == Fill::top ? q - 1 : rng() % q;
    }
  }
  return out;
}

void check(std::size_t n, const std::vector<u64>& primes, u64 t, const char* name) {
  const bfv::LevelTools tools(n, primes, t);
  const std::size_t L = primes.size(), K = tools.bsk_size();
  std::vector<u64> bsk;
  for (std::size_t o = 0; o < K; o++) bsk.push_back(tools.bsk_ring().mod(o).q);
  std::mt19937_64 rng(n * 131 + L);
  std::vector<u64> scratch(tools.scratch_words());
  for (Fill fill : {Fill::random, Fill::top, Fill::zero}) {
    const std::string label = std::string(name) + (fill == Fill::random ? " random" : fill == Fill::top ? " q-1" : " zero");
    const std::vector<u64> c = rows_of(rng, n, primes, fill);
    std::vector<u64> lifted(K * n), lifted_ref(K * n);
    tools.lift_to_bsk(c.data(), lifted.data(), scratch.data());
    tools.lift_to_bsk_portable(c.data(), lifted_ref.data(), scratch.data());
    expect(lifted == lifted_ref, label + ": lift_to_bsk");

    const std::vector<u64> d_q = rows_of(rng, n, primes, fill);
    const std::vector<u64> d_bsk = rows_of(rng, n, bsk, fill == Fill::zero ? Fill::random : fill);
    std::vector<u64> floored(L * n), floored_ref(L * n), in_place(d_q);
    tools.floor_to_q(d_q.data(), d_bsk.data(), floored.data(), scratch.data());
    tools.floor_to_q(in_place.data(), d_bsk.data(), in_place.data(), scratch.data());
    tools.floor_to_q_portable(d_q.data(), d_bsk.data(), floored_ref.data(), scratch.data());
    expect(floored == floored_ref, label + ": floor_to_q");
    expect(in_place == floored_ref, label + ": floor_to_q in place");

    std::vector<u64> rounded(n), rounded_ref(n);
    tools.scale_and_round(c.data(), rounded.data());
    tools.scale_and_round_portable(c.data(), rounded_ref.data());
    expect(rounded == rounded_ref, label + ": scale_and_round");
  }
}

}  // namespace

int main() {
  // BFVDefault(4096, 128) without its special prime; t = 65537.
  check(4096, {68719403009ULL, 68719230977ULL}, 65537, "n=4096 two 36-bit primes");
  check(8, bfv::primes_below(16, 30, 1), 17, "n=8 one 30-bit prime");
  check(16, bfv::primes_below(32, 49, 12), 97, "n=16 twelve 49-bit primes");
  check(64, bfv::primes_below(128, 60, 3), bfv::primes_below(128, 59, 1)[0], "n=64 three 60-bit primes, 59-bit t");
  check(1024, bfv::primes_below(2048, 55, 6), 12289, "n=1024 six 55-bit primes");
  check(64, bfv::primes_below(128, 45, 4), 1024, "n=64 four 45-bit primes, t = 2^10");
  check(4, bfv::primes_below(8, 40, 2), 17, "n=4 (portable on both sides)");
  std::printf("bfv_rns_kernels_test: %s (vector kernels %s)\n", failures == 0 ? "ok" : "FAILED",
              bfv::simd::usable(8) ? "on" : "off");
  return failures == 0 ? 0 : 1;
}
