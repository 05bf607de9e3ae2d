// Evaluation steps BFV and BGV share, written once over either scheme's evaluator (its multiply, relinearize,
// apply_galois and mod_switch_to_next): SEAL's multiply_many, exponentiate, rotate_rows and mod_switch_to.
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

}  // namespace hefty::rlwe
