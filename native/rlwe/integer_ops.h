// Evaluation steps BFV and BGV share, written once over either scheme's evaluator (its multiply, relinearize,
// apply_galois and mod_switch_to_next): SEAL's operand and key checks, decryption's secret-size check and
// plaintext trimming, multiply_many, exponentiate, rotate_rows
// and mod_switch_to, and IntegerEvaluator, the base that gives both evaluators these operations.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../seal/chain.h"
#include "galois.h"
#include "objects.h"
#include "op_error.h"

namespace hefty::rlwe {

// SEAL refuses to return a ciphertext whose polynomials after c0 are all zero (it would not hide c0).
inline void check_not_transparent(const Cipher& c, std::size_t poly_words) {
  const u64* begin = c.data.data() + poly_words;
  const u64* end = c.data.data() + c.size * poly_words;
  if (std::all_of(begin, end, [](u64 w) { return w == 0; })) fail("E_TRANSPARENT_RESULT", "result ciphertext is transparent");
}

// Key-switching keys (relinearization or Galois, `what`) must be of this chain's key level, and the chain must
// have a special prime.
template <typename Keys>
void check_keys(const seal::Chain& chain, const Keys& keys, const char* what) {
  if (keys.parms_id != chain.key_level().parms_id) {
    fail("E_PARAMS_MISMATCH", std::string(what) + " are not valid for encryption parameters");
  }
  if (!chain.has_key_switching()) fail("E_UNSUPPORTED", "keyswitching is not supported by the context");
}

// The checks both schemes make on a ciphertext operand, in SEAL's order: a level of the chain, not the key level
// (when there is key switching), in the scheme's form (`ntt_form`; `form_error` otherwise), size >= 2 with the
// words of that size. Returns its level.
inline const seal::Level& checked_data_level(const seal::Chain& chain, std::size_t n, const Cipher& ct, bool ntt_form,
                                             const char* form_error) {
  const seal::Level* level = chain.find(ct.parms_id);
  if (level == nullptr) fail("E_PARAMS_MISMATCH", "ciphertext is not valid for encryption parameters");
  if (level == &chain.key_level() && chain.has_key_switching()) {
    fail("E_PARAMS_MISMATCH", "ciphertext is at the key level");
  }
  if (ct.ntt_form != ntt_form) fail("E_INVALID_ARGUMENT", form_error);
  if (ct.size < 2 || ct.data.size() != ct.size * level->prime_count * n) {
    fail("E_INVALID_ARGUMENT", "ciphertext has an invalid size");
  }
  return *level;
}

// A secret key is the NTT form of s over all primes of the context's chain.
template <typename Context>
void check_secret(const Context& ctx, const Words& secret) {
  if (secret.size() != ctx.primes().size() * ctx.n()) fail("E_INVALID_ARGUMENT", "secret key has the wrong size");
}

// A decrypted plaintext keeps its coefficients up to the last non-zero one (at least one), as SEAL's does.
inline void trim_trailing_zeros(Plain& pt) {
  std::size_t count = pt.data.size();
  while (count > 1 && pt.data[count - 1] == 0) count--;
  pt.data.resize(count);
}

// Relinearization's key checks for a ciphertext of `size` polynomials: keys of the key level, one for every power
// of the secret from 2 to size - 1.
template <typename Keys>
void check_relin_keys(const seal::Chain& chain, const Keys& relin, std::size_t size) {
  check_keys(chain, relin, "relinearization keys");
  for (std::size_t power = 2; power < size; power++) {
    if (!relin.has(power - 2)) fail("E_MISSING_KEY", "not enough relinearization keys");
  }
}

// apply_galois's checks on a ciphertext of `size` polynomials: Galois keys of the key level, size 2, a valid
// element (odd, below 2N) and its key. Returns the element's NTT-form permutation and the index of its key.
struct GaloisStep {
  const std::vector<std::uint32_t>& ntt_permutation;
  std::size_t key_index;
};
template <typename Keys>
GaloisStep check_galois_step(const seal::Chain& chain, const GaloisTables& tables, std::size_t size,
                             std::uint32_t galois_elt, const Keys& galois) {
  check_keys(chain, galois, "Galois keys");
  if (size != 2) fail("E_INVALID_ARGUMENT", "encrypted size must be 2");
  const std::vector<std::uint32_t>& table = tables.ntt_permutation(galois_elt);  // validates the element
  const std::size_t index = (galois_elt - 1) / 2;
  if (!galois.has(index)) fail("E_MISSING_GALOIS_KEY", "Galois key not present");
  return {table, index};
}

template <typename Evaluator, typename Keys>
Cipher multiply_many(const Evaluator& ev, const std::vector<const Cipher*>& list, const Keys& relin) {
  if (list.empty()) fail("E_INVALID_ARGUMENT", "multiply_many needs at least one ciphertext");
  for (const Cipher* c : list) {
    if (c->parms_id != list.front()->parms_id) fail("E_PARAMS_MISMATCH", "encrypteds parameter mismatch");
  }
  if (list.size() == 1) return *list.front();
  std::vector<Cipher> products;
  products.reserve(2 * list.size());
  for (std::size_t i = 0; i + 1 < list.size(); i += 2) products.push_back(ev.relinearize(ev.multiply(*list[i], *list[i + 1]), relin));
  if (list.size() % 2 == 1) products.push_back(*list.back());
  for (std::size_t i = 0; i + 1 < products.size(); i += 2) {
    Cipher product = ev.relinearize(ev.multiply(products[i], products[i + 1]), relin);
    products.push_back(std::move(product));
  }
  return products.back();
}

// a^exponent as multiply_many over `exponent` copies (at most 4096: the copies are pointers, the products not).
template <typename Evaluator, typename Keys>
Cipher exponentiate(const Evaluator& ev, const Cipher& a, std::uint64_t exponent, const Keys& relin) {
  if (exponent == 0) fail("E_INVALID_ARGUMENT", "exponent cannot be 0");
  if (exponent > 4096) fail("E_INVALID_ARGUMENT", "exponent is too large");
  if (exponent == 1) return a;
  const std::vector<const Cipher*> copies(exponent, &a);
  return multiply_many(ev, copies, relin);
}

// Rotates both batching rows by `steps` (left for positive). Without a key for the step, SEAL composes it from
// the non-adjacent form of the step (digits of magnitude N/2 are skipped: they rotate a row onto itself).
template <typename Evaluator, typename Keys>
Cipher rotate_rows(const Evaluator& ev, const Cipher& a, int steps, const Keys& galois, std::size_t n) {
  if (steps == 0) return a;
  const std::uint32_t elt = galois_elt_from_step(steps, n);
  const std::vector<int> digits = non_adjacent_form(steps);
  // A step with its own key, or a power of two without one (apply_galois then reports the missing key).
  if (galois.has((elt - 1) / 2) || digits.size() == 1) return ev.apply_galois(a, elt, galois);
  Cipher out = a;
  for (const int digit : digits) {
    if (static_cast<std::size_t>(std::abs(digit)) == n / 2) continue;
    out = rotate_rows(ev, out, digit, galois, n);
  }
  return out;
}

// mod_switch_to_next from `level` (the level of `a`) until the target level; E_PARAMS_MISMATCH for a parms_id
// outside the chain, E_INVALID_ARGUMENT for a level above.
template <typename Evaluator>
Cipher mod_switch_to(const Evaluator& ev, const seal::Chain& chain, const Cipher& a, const seal::Level& level,
                     const seal::ParmsId& target) {
  const seal::Level* to = chain.find(target);
  if (to == nullptr) fail("E_PARAMS_MISMATCH", "parms_id is not valid for encryption parameters");
  if (to->chain_index > level.chain_index) fail("E_INVALID_ARGUMENT", "cannot switch to higher level modulus");
  Cipher out = a;
  while (out.parms_id != target) out = ev.mod_switch_to_next(out);
  return out;
}

// The operations BFV's and BGV's evaluators derive from their own (CRTP): `Derived` provides multiply,
// relinearize, apply_galois, mod_switch_to_next, context() (with chain() and n()), data_level(a) and, to this
// base only, add_or_sub and plain_add_or_sub.
template <typename Derived, typename Keys>
class IntegerEvaluator {
 public:
  Cipher add(const Cipher& a, const Cipher& b) const { return self().add_or_sub(a, b, false); }
  Cipher sub(const Cipher& a, const Cipher& b) const { return self().add_or_sub(a, b, true); }
  Cipher add_plain(const Cipher& a, const Plain& p) const { return self().plain_add_or_sub(a, p, false); }
  Cipher sub_plain(const Cipher& a, const Plain& p) const { return self().plain_add_or_sub(a, p, true); }
  Cipher square(const Cipher& a) const { return self().multiply(a, a); }
  Cipher mod_switch_to(const Cipher& a, const seal::ParmsId& target) const {
    return rlwe::mod_switch_to(self(), self().context().chain(), a, self().data_level(a), target);
  }
  // Rotates both rows by `steps` (left for positive); without a key for the step, composes it from the
  // non-adjacent form of the step as SEAL does.
  Cipher rotate_rows(const Cipher& a, int steps, const Keys& galois) const {
    self().data_level(a);
    return rlwe::rotate_rows(self(), a, steps, galois, self().context().n());
  }
  Cipher rotate_columns(const Cipher& a, const Keys& galois) const {
    return self().apply_galois(a, static_cast<std::uint32_t>(2 * self().context().n() - 1), galois);
  }
  // SEAL's pairing order: products of neighbours, each relinearized, appended until one remains.
  Cipher multiply_many(const std::vector<const Cipher*>& list, const Keys& relin) const {
    return rlwe::multiply_many(self(), list, relin);
  }
  Cipher exponentiate(const Cipher& a, std::uint64_t exponent, const Keys& relin) const {
    self().data_level(a);
    return rlwe::exponentiate(self(), a, exponent, relin);
  }

 protected:
  // Relinearization down to size 2: each power of the secret above 1 in `a`, highest first as SEAL does, goes
  // through the scheme's key switch `switch_key(L, target, key, c0, c1)`, which adds onto c0 and c1.
  template <typename SwitchKey>
  Cipher relinearize_with(const Cipher& a, const Keys& relin, const SwitchKey& switch_key) const {
    const seal::Level& level = self().data_level(a);
    check_relin_keys(self().context().chain(), relin, a.size);
    if (a.size == 2) return a;
    const std::size_t L = level.prime_count;
    const std::size_t poly_words = L * self().context().n();
    Cipher out{a.parms_id, 2, 1.0, a.ntt_form, Words(a.data.begin(), a.data.begin() + 2 * poly_words),
               a.correction_factor};
    for (std::size_t power = a.size - 1; power >= 2; power--) {
      switch_key(L, a.data.data() + power * poly_words, relin.keys[power - 2], out.data.data(),
                 out.data.data() + poly_words);
    }
    check_not_transparent(out, poly_words);
    return out;
  }

  // The level of two ciphertext operands, which must both be valid and at the same level.
  const seal::Level& pair_level(const Cipher& a, const Cipher& b) const {
    const seal::Level& level = self().data_level(a);
    self().data_level(b);
    if (a.parms_id != b.parms_id) fail("E_PARAMS_MISMATCH", "encrypted1 and encrypted2 parameter mismatch");
    return level;
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace hefty::rlwe
