// Runs hefty's native engine (native/rlwe, linked from build/libhefty_core.a) over a batch for the GPU
// cross-check in test/gpu: `ntt-driver N op q0 q1 ...` with op one of forward, inverse (NttEngine) or add, sub,
// mul, mac (the engine's Mod arithmetic). stdin holds the operands back to back (1 for the transforms, 2 for
// add/sub/mul: a || b, 3 for mac: acc || a || b), each polys x K x N little-endian u64 words with row r
// modulo prime r mod K; stdout gets the result in the same layout. With HEFTY_NTT_DRIVER_TIME set, stderr gets
// `ns=<time>` for the computation alone (one thread, no I/O), for bench/gpu-ntt.ts.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rlwe/modarith.h"
#include "rlwe/ntt_engine.h"

namespace {

using hefty::rlwe::u64;

int operand_count(const std::string& op) {
  if (op == "forward" || op == "inverse") return 1;
  if (op == "add" || op == "sub" || op == "mul") return 2;
  if (op == "mac") return 3;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: ntt-driver N forward|inverse|add|sub|mul|mac q...\n");
    return 2;
  }
  const std::size_t n = std::strtoull(argv[1], nullptr, 10);
  const std::string op = argv[2];
  const int operands = operand_count(op);
  std::vector<u64> primes;
  for (int i = 3; i < argc; i++) primes.push_back(std::strtoull(argv[i], nullptr, 10));
  std::vector<u64> data;
  u64 word;
  while (std::fread(&word, sizeof word, 1, stdin) == 1) data.push_back(word);
  if (operands == 0 || n == 0 || data.size() % (operands * n * primes.size()) != 0) {
    std::fprintf(stderr, "unknown op, or input is not %d operand(s) of polys x K x N words\n", operands);
    return 2;
  }
  const std::size_t words = data.size() / operands;
  const std::size_t rows = words / n;
  u64* out = data.data();
  const auto start = std::chrono::steady_clock::now();
  if (operands == 1) {
    const hefty::rlwe::NttEngine engine(n, primes);
    for (std::size_t row = 0; row < rows; row++) {
      if (op == "forward") engine.forward(out + row * n, row % primes.size());
      else engine.inverse(out + row * n, row % primes.size());
    }
  } else {
    std::vector<hefty::rlwe::Mod> mods(primes.begin(), primes.end());
    const u64* a = operands == 3 ? data.data() + words : data.data();
    const u64* b = a + words;
    for (std::size_t row = 0; row < rows; row++) {
      const hefty::rlwe::Mod& m = mods[row % primes.size()];
      for (std::size_t i = row * n; i < (row + 1) * n; i++) {
        if (op == "add") out[i] = m.add(a[i], b[i]);
        else if (op == "sub") out[i] = m.sub(a[i], b[i]);
        else if (op == "mul") out[i] = m.mul(a[i], b[i]);
        else out[i] = m.add(out[i], m.mul(a[i], b[i]));
      }
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (std::getenv("HEFTY_NTT_DRIVER_TIME")) {
    std::fprintf(stderr, "ns=%lld\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
  }
  std::fwrite(out, sizeof(u64), words, stdout);
  return 0;
}
