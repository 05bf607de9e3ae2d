// NTT for the rlwe layer: spec §5 tables (minimal primitive 2N-th root, bit-reversed order) with Harvey
// butterflies and Shoup precomputation, lazy inside, canonical at the edges.
#pragma once
#include <cstddef>
#include <vector>

#include "modarith.h"

namespace hefty::rlwe {

class NttEngine {
 public:
  NttEngine(std::size_t n, const std::vector<u64>& primes);
  void forward(u64* a, std::size_t prime) const;
  void inverse(u64* a, std::size_t prime) const;

 private:
  struct Table {
    u64 q;
    std::vector<ShoupMul> roots;      // R[k], k = 1..N-1 in use order
    std::vector<ShoupMul> inv_roots;  // Rinv[k]
    ShoupMul inv_n;
    ShoupMul inv_n_last;  // Rinv[N-1] * N^-1
    // The same with 52-bit Shoup quotients, for the IFMA passes (primes below 2^50 on CPUs that have them).
    bool ifma = false;
    std::vector<ShoupMul> roots52, inv_roots52;
    ShoupMul inv_n52, inv_n_last52;
  };
  std::size_t n_;
  std::vector<Table> tables_;
};

}  // namespace hefty::rlwe
