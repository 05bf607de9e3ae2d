// An immutable RNS base q_0..q_{L-1} with what CRT needs precomputed: the product Q, the punctured products
// Q/q_i and their inverses mod q_i (with Shoup quotients). Integers are little-endian multiword values of
// size() words; residue arrays are laid out [prime][coeff], `count` coefficients per prime. Batched calls
// allocate once per call, never per coefficient.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../rlwe/modarith.h"
#include "multiword.h"

namespace hefty::ring {

using u64 = std::uint64_t;

// out[k] = values[k] mod q for signed 64-bit values: a negative x maps to q - (|x| mod q). The one-modulus step
// of RnsBase::decompose, for callers that hold a Mod per row rather than a base.
void reduce_signed(const rlwe::Mod& mod, const std::int64_t* values, std::size_t count, u64* out);

class RnsBase {
 public:
  static constexpr int kMaxModulusBits = 61;

  // Throws rlwe::OpError (E_INVALID_PARAMS) unless `moduli` is non-empty and its entries are pairwise coprime,
  // each in [2, 2^61).
  explicit RnsBase(std::vector<u64> moduli);

  std::size_t size() const { return moduli_.size(); }
  const std::vector<u64>& moduli() const { return moduli_; }
  const rlwe::Mod& mod(std::size_t i) const { return mods_[i]; }
  const u64* modulus() const { return modulus_.data(); }  // Q, size() words
  int modulus_bits() const { return bit_length(modulus_.data(), size()); }
  const u64* punctured(std::size_t i) const { return punctured_.data() + i * size(); }  // Q/q_i, size() words
  const rlwe::ShoupMul& inv_punctured(std::size_t i) const { return inv_punctured_[i]; }

  // residues[i*count + k] = values[k] mod q_i for `count` multiword values (size() words each, any magnitude).
  void decompose(const u64* values, std::size_t count, u64* residues) const;
  // The same for signed 64-bit values: a negative x maps to q_i - (|x| mod q_i).
  void decompose(const std::int64_t* values, std::size_t count, u64* residues) const;
  // The same for finite integer-valued doubles of any magnitude (callers round first).
  void decompose(const double* values, std::size_t count, u64* residues) const;

  // values[k] (size() words) = the x in [0, Q) congruent to residues[i*count + k] mod every q_i. Residues
  // must be canonical (< q_i).
  void compose(const u64* residues, std::size_t count, u64* values) const;
  // The centered lift of each composed x (x - Q when x >= (Q+1)/2), times `factor`, as a double.
  void compose_centered(const u64* residues, std::size_t count, double factor, double* out) const;

 private:
  // x (size() words, zeroed by the caller) = the composed value of coefficient k.
  void compose_one(const u64* residues, std::size_t count, std::size_t k, u64* x) const;

  std::vector<u64> moduli_;
  std::vector<rlwe::Mod> mods_;
  Words modulus_;                                  // Q
  Words half_;                                     // (Q + 1) >> 1
  Words punctured_;                                // [i][word] = Q/q_i
  std::vector<rlwe::ShoupMul> inv_punctured_;      // (Q/q_i)^-1 mod q_i
};

}  // namespace hefty::ring
