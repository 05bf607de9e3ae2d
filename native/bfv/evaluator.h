// The BFV evaluator (spec §9.5, §9.6) with SEAL's checks. Ciphertexts are in coefficient form; products use
// SEAL 4.1's BEHZ RNS multiplication; relinearization and Galois automorphisms go through the rlwe layer's key
// switching (which works in NTT form: its result, brought back to coefficient form, is exactly SEAL's
// coefficient-form key switch). Operations are functional: inputs are never modified. Errors are rlwe::OpError.
#pragma once
#include <cstdint>
#include <vector>

#include "../ckks/evaluator.h"
#include "context.h"

namespace hefty::bfv {

using KeySwitchingKeys = ckks::KeySwitchingKeys;

// The validated data level of a ciphertext (in the chain, not the key level, coefficient form, size >= 2).
const Level& data_level_of(const Context& ctx, const Cipher& ct);

// Rounding division by the last prime in coefficient form (spec §8.4): `in` has L rows, `out` gets L-1.
void div_round_last_coeff(const rlwe::RingTools& ring, std::size_t L, const u64* in, u64* out);

class Evaluator {
 public:
  explicit Evaluator(const Context& ctx) : ctx_(ctx) {}

  Cipher negate(const Cipher& a) const;
  Cipher add(const Cipher& a, const Cipher& b) const;
  Cipher sub(const Cipher& a, const Cipher& b) const;
  Cipher add_plain(const Cipher& a, const Plain& p) const;
  Cipher sub_plain(const Cipher& a, const Plain& p) const;
  Cipher multiply(const Cipher& a, const Cipher& b) const;
  Cipher square(const Cipher& a) const { return multiply(a, a); }
  Cipher multiply_plain(const Cipher& a, const Plain& p) const;
  Cipher relinearize(const Cipher& a, const KeySwitchingKeys& relin) const;
  Cipher mod_switch_to_next(const Cipher& a) const;
  Cipher mod_switch_to(const Cipher& a, const ParmsId& target) const;
  Cipher apply_galois(const Cipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const;
  // Rotates both rows by `steps` (left for positive); without a key for the step, composes it from the
  // non-adjacent form of the step as SEAL does.
  Cipher rotate_rows(const Cipher& a, int steps, const KeySwitchingKeys& galois) const;
  Cipher rotate_columns(const Cipher& a, const KeySwitchingKeys& galois) const;
  // SEAL's pairing order: products of neighbours, each relinearized, appended until one remains.
  Cipher multiply_many(const std::vector<const Cipher*>& list, const KeySwitchingKeys& relin) const;
  Cipher exponentiate(const Cipher& a, std::uint64_t exponent, const KeySwitchingKeys& relin) const;

 private:
  Cipher add_or_sub(const Cipher& a, const Cipher& b, bool subtract) const;
  Cipher plain_add_or_sub(const Cipher& a, const Plain& p, bool subtract) const;
  // Adds the key switch of `target` (L rows, coefficient form) to c0 and c1 (c1 replaced when `replace_c1`).
  void switch_key(std::size_t L, const u64* target, const rlwe::KSwitchKeyView& key, u64* c0, u64* c1,
                  bool replace_c1) const;

  const Context& ctx_;
};

}  // namespace hefty::bfv
