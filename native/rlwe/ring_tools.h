// Per-context arithmetic the rlwe and ckks layers share: one Mod and one NTT per key-level prime (every
// level's primes are a prefix of them) and the constants for dropping a last prime with rounding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "modarith.h"

namespace hefty::rlwe {

class NttEngine;  // wraps the ring layer's NTT tables

class RingTools {
 public:
  RingTools(std::size_t n, const std::vector<u64>& key_primes);
  ~RingTools();
  RingTools(const RingTools&) = delete;
  RingTools& operator=(const RingTools&) = delete;

  std::size_t n() const { return n_; }
  std::size_t key_count() const { return mods_.size(); }
  const Mod& mod(std::size_t i) const { return mods_[i]; }

  // In-place negacyclic NTT of one row modulo prime i (canonical input and output).
  void ntt_forward(u64* row, std::size_t i) const;
  void ntt_inverse(u64* row, std::size_t i) const;

  // Rounding division by q_last of one output row i < last (spec §8.4 step 2, also §8.3 step 3):
  // `last_shifted` = (x + floor(q_last/2)) mod q_last, where x is the last row in coefficient form.
  // out = (in - NTT_i(last_shifted - floor(q_last/2))) * q_last^-1 mod q_i, plus `base` when given.
  // `scratch` holds N words. `in`, `base` and `out` may alias.
  void round_drop_row(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in, const u64* base,
                      u64* out, u64* scratch) const;
  // The same for a coefficient-form row (BFV's modulus switching): out = (in - (last_shifted -
  // floor(q_last/2))) * q_last^-1 mod q_i, without the NTT.
  void round_drop_row_coefficients(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in, u64* out,
                                   u64* scratch) const;

  // BGV's division by q_last (it keeps the plaintext modulo t) of one output row i < last: `x` is the last row in
  // coefficient form and `k` = [-x·q_last^-1]_t (plain_offsets); the subtracted δ = x + k·q_last is x modulo
  // q_last and 0 modulo t. out = (in - NTT_i(δ))·q_last^-1 mod q_i, plus `base` when given (it may alias out).
  void exact_drop_row(std::size_t last, std::size_t i, const u64* x, const u64* k, const u64* in, const u64* base,
                      u64* out, u64* scratch) const;

  // (x + floor(q_last/2)) mod q_last for a coefficient-form row, in place.
  void shift_by_half(u64* row, std::size_t last) const;

 private:
  void round_drop(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in, const u64* base, u64* out,
                  u64* scratch, bool ntt_form) const;
  // out = (in - subtracted)·inv mod q, plus `base` when given.
  void finish_drop(const Mod& m, const ShoupMul& inv, const u64* in, const u64* subtracted, const u64* base,
                   u64* out) const;

  std::size_t n_;
  std::vector<Mod> mods_;
  std::vector<std::vector<ShoupMul>> inv_last_;  // [last][i] = q_last^-1 mod q_i
  std::vector<std::vector<u64>> half_last_;      // [last][i] = floor(q_last/2) mod q_i
  std::unique_ptr<NttEngine> ntt_;
};

}  // namespace hefty::rlwe
