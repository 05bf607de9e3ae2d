// Runs hefty's native NTT engine (native/rlwe, linked from build/libhefty_core.a) over a batch for the GPU
// cross-check in test/gpu: `ntt-driver N forward|inverse q0 q1 ...`, stdin and stdout are polys × K × N
// little-endian u64 words, row r transformed with prime r mod K. With HEFTY_NTT_DRIVER_TIME set, stderr gets
// `ns=<time>` for the transforms alone (one thread, no I/O), for bench/gpu-ntt.ts.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rlwe/ntt_engine.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: ntt-driver N forward|inverse q...\n");
    return 2;
  }
  const std::size_t n = std::strtoull(argv[1], nullptr, 10);
  const bool forward = std::string(argv[2]) == "forward";
  std::vector<hefty::rlwe::u64> primes;
  for (int i = 3; i < argc; i++) primes.push_back(std::strtoull(argv[i], nullptr, 10));
  std::vector<hefty::rlwe::u64> data;
  hefty::rlwe::u64 word;
  while (std::fread(&word, sizeof word, 1, stdin) == 1) data.push_back(word);
  if (n == 0 || data.size() % (n * primes.size()) != 0) {
    std::fprintf(stderr, "input is not a whole number of polys x K x N words\n");
    return 2;
  }
  const hefty::rlwe::NttEngine engine(n, primes);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t row = 0; row < data.size() / n; row++) {
    if (forward) engine.forward(data.data() + row * n, row % primes.size());
    else engine.inverse(data.data() + row * n, row % primes.size());
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (std::getenv("HEFTY_NTT_DRIVER_TIME")) {
    std::fprintf(stderr, "ns=%lld\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
  }
  std::fwrite(data.data(), sizeof(hefty::rlwe::u64), data.size(), stdout);
  return 0;
}
