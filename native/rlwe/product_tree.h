// SEAL's multiply_many and exponentiate for the integer schemes (BFV and BGV share them): products of
// neighbours, each relinearized, appended to the list until one remains.
#pragma once
#include <cstdint>
#include <vector>

#include "objects.h"
#include "op_error.h"

namespace hefty::rlwe {

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

}  // namespace hefty::rlwe
