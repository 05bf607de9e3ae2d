// The BFV evaluator (spec §9.5, §9.6) with SEAL's checks. Ciphertexts are in coefficient form; products use
// SEAL 4.1's BEHZ RNS multiplication; relinearization and Galois automorphisms go through the rlwe layer's key
// switching (which works in NTT form: its result, brought back to coefficient form, is exactly SEAL's
// coefficient-form key switch). Operations are functional: inputs are never modified. Errors are rlwe::OpError.
#pragma once
#include <cstdint>
#include <vector>

#include "../ckks/evaluator.h"
#include "../rlwe/integer_ops.h"
#include "context.h"

namespace hefty::bfv {

using KeySwitchingKeys = ckks::KeySwitchingKeys;

// The validated data level of a ciphertext (in the chain, not the key level, coefficient form, size >= 2).
const Level& data_level_of(const Context& ctx, const Cipher& ct);

// Rounding division by the last prime in coefficient form (spec §8.4): `in` has L rows, `out` gets L-1.
void div_round_last_coeff(const rlwe::RingTools& ring, std::size_t L, const u64* in, u64* out);

// add, sub, add_plain, sub_plain, square, mod_switch_to, rotate_rows, rotate_columns, multiply_many and
// exponentiate come from the shared base.
class Evaluator : public rlwe::IntegerEvaluator<Evaluator, KeySwitchingKeys> {
 public:
  explicit Evaluator(const Context& ctx) : ctx_(ctx) {}

  const Context& context() const { return ctx_; }
  const Level& data_level(const Cipher& a) const { return data_level_of(ctx_, a); }

  Cipher negate(const Cipher& a) const;
  Cipher multiply(const Cipher& a, const Cipher& b) const;
  Cipher multiply_plain(const Cipher& a, const Plain& p) const;
  Cipher relinearize(const Cipher& a, const KeySwitchingKeys& relin) const;
  Cipher mod_switch_to_next(const Cipher& a) const;
  Cipher apply_galois(const Cipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const;

 private:
  friend class rlwe::IntegerEvaluator<Evaluator, KeySwitchingKeys>;
  Cipher add_or_sub(const Cipher& a, const Cipher& b, bool subtract) const;
  Cipher plain_add_or_sub(const Cipher& a, const Plain& p, bool subtract) const;
  // Adds the key switch of `target` (L rows, coefficient form) to c0 and c1 (c1 replaced when `replace_c1`).
  void switch_key(std::size_t L, const u64* target, const rlwe::KSwitchKeyView& key, u64* c0, u64* c1,
                  bool replace_c1) const;

  const Context& ctx_;
};

}  // namespace hefty::bfv
