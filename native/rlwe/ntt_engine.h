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

  std::size_t n() const { return n_; }
  std::size_t prime_count() const { return tables_.size(); }
  // The tables of spec §5 for one prime: R[i] and Rinv[i] (i < N; psi = R[N/2]) and N^-1 mod q.
  u64 root_power(std::size_t prime, std::size_t i) const { return tables_[prime].roots[i].w; }
  u64 inv_root_power(std::size_t prime, std::size_t i) const { return tables_[prime].inv_roots[i].w; }
  u64 inv_n(std::size_t prime) const { return tables_[prime].inv_n.w; }

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
