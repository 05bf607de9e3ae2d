// The BGV evaluator (SPEC.md §5) with SEAL's checks. Ciphertexts are in NTT form: products are tensor products
// of NTT values (the correction factors multiply), plaintexts are lifted centered and transformed, modulus
// switching and key switching divide exactly modulo t (rlwe::div_exact_last_ntt, rlwe::key_switch with the plain
// modulus). Sums of ciphertexts whose correction factors differ are balanced first as SEAL does. Operations are
// functional: inputs are never modified. Errors are rlwe::OpError.
#pragma once
#include <cstdint>
#include <vector>

#include "../ckks/evaluator.h"
#include "context.h"

namespace hefty::bgv {

using KeySwitchingKeys = ckks::KeySwitchingKeys;

// The validated data level of a ciphertext (in the chain, not the key level, NTT form, size >= 2, correction
// factor in [1, t)).
const Level& data_level_of(const Context& ctx, const Cipher& ct);

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
  Cipher multiply_many(const std::vector<const Cipher*>& list, const KeySwitchingKeys& relin) const;
  Cipher exponentiate(const Cipher& a, std::uint64_t exponent, const KeySwitchingKeys& relin) const;

 private:
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
