// Shared by the libFuzzer targets: the context every target loads into (CKKS, N = 64, primes
// CoeffModulus::Create(64, {40, 30, 40}), the spec's small end-to-end parameters; scripts/fuzz-corpus.ts makes
// the seed corpora for the same parameters), and the contract each input is checked against: a loader either
// returns an object or throws OpError (a HeftyError code); anything else aborts, and so does an accepted
// object whose re-saved bytes do not load back and re-save to the same bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <vector>

#include "../../ckks/context.h"
#include "../../ckks/serialization.h"
#include "../../rlwe/op_error.h"
#include "../../seal/primes.h"

namespace hefty::fuzz {

inline const ckks::Context& context() {
  static const ckks::Context ctx(64, seal::coeff_modulus_create(64, {40, 30, 40}));
  return ctx;
}

// Runs an operation on a loaded object: a typed rejection (OpError) is an allowed outcome; anything else escapes
// and fails the run.
template <typename F>
void exercise(F&& use) {
  try {
    use();
  } catch (const rlwe::OpError&) {
  }
}

// `save(object, out)` returns the size and writes when out is not null; `load(bytes, size)` returns an object.
template <typename T, typename Save, typename Load>
int check_loader(const std::uint8_t* data, std::size_t size, Save save, Load load, const char* what) {
  std::optional<T> object;
  try {
    object = load(data, size);
  } catch (const rlwe::OpError&) {
    return 0;  // a typed rejection: what hostile input must get
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: loader threw a non-OpError exception: %s\n", what, e.what());
    std::abort();
  }
  const auto bytes_of = [&](const T& value) {
    std::vector<std::uint8_t> out(save(value, nullptr));
    save(value, out.data());
    return out;
  };
  try {
    const std::vector<std::uint8_t> first = bytes_of(*object);
    const T again = load(first.data(), first.size());
    if (bytes_of(again) != first) {
      std::fprintf(stderr, "%s: re-saving a loaded object is not stable\n", what);
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: an accepted object does not load back after re-saving: %s\n", what, e.what());
    std::abort();
  }
  return 0;
}

}  // namespace hefty::fuzz
