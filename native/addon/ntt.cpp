// The ring NTT on JavaScript-owned words: `nttCreate(n, primes)` builds the tables once (an External handle),
// `nttForward/nttInverse(handle, prime, words)` transform a BigUint64Array of N canonical residues in place.
#include <memory>

#include "../rlwe/ntt_engine.h"
#include "../rlwe/op_error.h"
#include "../seal/primes.h"
#include "ckks_handles.h"
#include "seal_functions.h"

namespace hefty::addon {

namespace {

using rlwe::NttEngine;
using rlwe::u64;

struct NttState {
  std::unique_ptr<NttEngine> engine;
  std::vector<u64> primes;
};

Napi::Value ntt_create(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double n = arg_number(info, 0);
    if (!(n >= 2 && n <= 131072) || n != static_cast<double>(static_cast<std::size_t>(n)) ||
        (static_cast<std::size_t>(n) & (static_cast<std::size_t>(n) - 1)) != 0) {
      rlwe::fail("E_INVALID_PARAMS", "N must be a power of two in [2, 131072]");
    }
    auto state = std::make_shared<NttState>();
    state->primes = arg_u64s(info, 1);
    if (state->primes.empty() || state->primes.size() > 256) rlwe::fail("E_INVALID_PARAMS", "between 1 and 256 primes");
    for (u64 q : state->primes) {
      if (q >= (u64{1} << 61) || !seal::is_prime(q)) rlwe::fail("E_INVALID_PARAMS", "NTT moduli must be primes below 2^61");
    }
    state->engine = std::make_unique<NttEngine>(static_cast<std::size_t>(n), state->primes);
    return wrap(info.Env(), Kind::Ntt, std::move(state));
  });
}

std::size_t arg_prime(const Napi::CallbackInfo& info, std::size_t i, const NttState& state) {
  const double prime = arg_number(info, i);
  if (!(prime >= 0 && prime < static_cast<double>(state.primes.size())) || prime != static_cast<std::size_t>(prime)) {
    rlwe::fail("E_INVALID_ARGUMENT", "prime index out of range");
  }
  return static_cast<std::size_t>(prime);
}

// The words to transform in place: exactly N residues below the prime (the NTT's input contract).
u64* arg_row(const Napi::CallbackInfo& info, std::size_t i, const NttState& state, std::size_t prime) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array) {
    rlwe::fail("E_INVALID_ARGUMENT", "expected a BigUint64Array");
  }
  auto words = info[i].As<Napi::TypedArrayOf<u64>>();
  if (words.ElementLength() != state.engine->n()) rlwe::fail("E_LENGTH_MISMATCH", "expected N words");
  u64* data = words.Data();
  const u64 q = state.primes[prime];
  for (std::size_t j = 0; j < words.ElementLength(); j++) {
    if (data[j] >= q) rlwe::fail("E_INVALID_ARGUMENT", "words must be reduced modulo the prime");
  }
  return data;
}

Napi::Value ntt_transform(const Napi::CallbackInfo& info, bool forward) {
  return guarded(info, [&] {
    auto state = unwrap<NttState>(info[0], Kind::Ntt);
    const std::size_t prime = arg_prime(info, 1, *state);
    u64* row = arg_row(info, 2, *state, prime);
    if (forward) {
      state->engine->forward(row, prime);
    } else {
      state->engine->inverse(row, prime);
    }
    return info.Env().Undefined();
  });
}

Napi::Value ntt_forward(const Napi::CallbackInfo& info) { return ntt_transform(info, true); }
Napi::Value ntt_inverse(const Napi::CallbackInfo& info) { return ntt_transform(info, false); }

Napi::Value ntt_tables(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap<NttState>(info[0], Kind::Ntt);
    const std::size_t prime = arg_prime(info, 1, *state);
    const NttEngine& e = *state->engine;
    const std::size_t n = e.n();
    std::vector<u64> roots(n), inv_roots(n);
    for (std::size_t i = 0; i < n; i++) {
      roots[i] = e.root_power(prime, i);
      inv_roots[i] = e.inv_root_power(prime, i);
    }
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rootPowers", to_u64_array(env, roots.data(), n));
    o.Set("invRootPowers", to_u64_array(env, inv_roots.data(), n));
    o.Set("nInv", Napi::BigInt::New(env, e.inv_n(prime)));
    return o;
  });
}

}  // namespace

void register_ntt_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("nttCreate", Napi::Function::New(env, ntt_create));
  exports.Set("nttForward", Napi::Function::New(env, ntt_forward));
  exports.Set("nttInverse", Napi::Function::New(env, ntt_inverse));
  exports.Set("nttTables", Napi::Function::New(env, ntt_tables));
}

}  // namespace hefty::addon
