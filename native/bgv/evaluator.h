// The BGV evaluator (SPEC.md §5) with SEAL's checks. Ciphertexts are in NTT form: products are tensor products
// of NTT values (the correction factors multiply), plaintexts are lifted centered and transformed, modulus
// switching and key switching divide exactly modulo t (rlwe::div_exact_last_ntt, rlwe::key_switch with the plain
// modulus). Sums of ciphertexts whose correction factors differ are balanced first as SEAL does. Operations are
// functional: inputs are never modified. Errors are rlwe::OpError.
#pragma once
#include <cstdint>
#include <vector>

#include "../ckks/evaluator.h"
#include "../rlwe/integer_ops.h"
#include "context.h"

namespace hefty::bgv {

using KeySwitchingKeys = ckks::KeySwitchingKeys;

// The validated data level of a ciphertext (in the chain, not the key level, NTT form, size >= 2, correction
// factor in [1, t)).
const Level& data_level_of(const Context& ctx, const Cipher& ct);

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

  const Context& ctx_;
};

// SEAL's balancing of two correction factors f1, f2 (mod t): e1, e2 coprime to t with e1·f1 = e2·f2 = factor,
// |e1| + |e2| (centered) smallest among the remainders of the extended Euclidean algorithm on (t, f2/f1).
struct BalancedFactors {
  std::uint64_t factor, e1, e2;
};
BalancedFactors balance_correction_factors(std::uint64_t f1, std::uint64_t f2, std::uint64_t t);

}  // namespace hefty::bgv
