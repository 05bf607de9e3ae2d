// Galois automorphisms X -> X^g for the NTT (bit-reversed evaluation) layout of spec §8.6.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace hefty::rlwe {

// SEAL's element for a rotation by `step` slots (0 = conjugation). Throws E_INVALID_ARGUMENT if |step| >= N/2.
std::uint32_t galois_elt_from_step(int step, std::size_t n);

// The non-adjacent form of a rotation step as signed powers of two (lowest first): SEAL composes a row rotation
// without its own Galois key from these.
std::vector<int> non_adjacent_form(int value);

// Permutation tables, built once per element: out[i] = in[table[i]].
class GaloisTables {
 public:
  explicit GaloisTables(std::size_t n);
  // Throws E_INVALID_ARGUMENT unless g is odd and < 2N.
  const std::vector<std::uint32_t>& ntt_permutation(std::uint32_t galois_elt) const;
  // Applies the permutation to `rows` rows of N words each (out and in must not alias), rows in parallel.
  void apply_ntt(std::uint32_t galois_elt, const std::uint64_t* in, std::size_t rows, std::uint64_t* out) const;
  // One row: out[i] = in[table[i]] for a table from ntt_permutation.
  void permute_row(const std::vector<std::uint32_t>& table, const std::uint64_t* in, std::uint64_t* out) const;
  std::size_t n() const { return n_; }

 private:
  std::size_t n_;
  int log_n_;
  mutable std::mutex mutex_;
  mutable std::map<std::uint32_t, std::unique_ptr<std::vector<std::uint32_t>>> tables_;
};

}  // namespace hefty::rlwe
