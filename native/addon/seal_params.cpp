// Parameters of every scheme through native/seal: (scheme, N, primes, plain modulus) tuples cross as numbers,
// a BigUint64Array and a BigInt; serialized forms are uncompressed SEAL bytes (compression is JS-side).
#include "../rlwe/op_error.h"
#include "../seal/params.h"
#include "../seal/primes.h"
#include "ckks_handles.h"
#include "seal_functions.h"

namespace hefty::addon {

namespace {

std::uint64_t arg_bigint(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsBigInt()) rlwe::fail("E_INVALID_ARGUMENT", "expected a BigInt");
  bool lossless = false;
  const std::uint64_t value = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) rlwe::fail("E_INVALID_PARAMS", "modulus must be a non-negative 64-bit integer");
  return value;
}

std::size_t arg_degree(const Napi::CallbackInfo& info, std::size_t i) {
  const double n = arg_number(info, i);
  if (!(n >= 0 && n <= 131072) || n != static_cast<double>(static_cast<std::size_t>(n))) {
    rlwe::fail("E_INVALID_PARAMS", "poly_modulus_degree out of range");
  }
  return static_cast<std::size_t>(n);
}

int arg_security(const Napi::CallbackInfo& info, std::size_t i) { return static_cast<int>(arg_number(info, i)); }

// (scheme, n, primes, plain) -> EncryptionParameters; only the shape is checked (SEAL checks values later).
seal::EncryptionParameters arg_params(const Napi::CallbackInfo& info) {
  const double scheme = arg_number(info, 0);
  if (scheme != 1 && scheme != 2 && scheme != 3) rlwe::fail("E_INVALID_PARAMS", "scheme must be 1 (BFV), 2 (CKKS) or 3 (BGV)");
  seal::EncryptionParameters parms;
  parms.scheme = static_cast<seal::Scheme>(static_cast<int>(scheme));
  parms.n = arg_degree(info, 1);
  parms.coeff_modulus = arg_u64s(info, 2);
  if (parms.coeff_modulus.size() > 256) rlwe::fail("E_INVALID_PARAMS", "at most 256 primes");
  parms.plain_modulus = arg_bigint(info, 3);
  if (parms.scheme == seal::Scheme::Ckks && parms.plain_modulus != 0) rlwe::fail("E_INVALID_PARAMS", "CKKS has no plain modulus");
  return parms;
}

Napi::Value params_save(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const seal::EncryptionParameters parms = arg_params(info);
    return to_bytes(info.Env(), [&](std::uint8_t* out) { return seal::save_params(parms, out); });
  });
}

Napi::Value params_load(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const auto [data, size] = arg_bytes(info, 0);
    const seal::EncryptionParameters parms = seal::load_params(data, size);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("scheme", Napi::Number::New(env, static_cast<double>(parms.scheme)));
    o.Set("polyModulusDegree", Napi::Number::New(env, static_cast<double>(parms.n)));
    o.Set("coeffModulus", to_u64_array(env, parms.coeff_modulus.data(), parms.coeff_modulus.size()));
    o.Set("plainModulus", Napi::BigInt::New(env, parms.plain_modulus));
    return o;
  });
}

Napi::Value chain_parms_ids(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const seal::EncryptionParameters parms = arg_params(info);
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    const auto ids = seal::chain_parms_ids(parms);
    for (std::uint32_t i = 0; i < ids.size(); i++) out.Set(i, to_u64_array(env, ids[i].data(), 4));
    return out;
  });
}

Napi::Value max_bit_count(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const int bits = seal::max_bit_count(arg_degree(info, 0), arg_security(info, 1));
    return Napi::Number::New(info.Env(), bits);
  });
}

Napi::Value bfv_default(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const auto primes = seal::bfv_default(arg_degree(info, 0), arg_security(info, 1));
    return to_u64_array(info.Env(), primes.data(), primes.size());
  });
}

Napi::Value plain_modulus_batching(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double bits = arg_number(info, 1);
    if (!(bits >= 2 && bits <= 60) || bits != static_cast<int>(bits)) rlwe::fail("E_INVALID_PARAMS", "bit size must be in [2, 60]");
    return Napi::BigInt::New(info.Env(), seal::plain_modulus_batching(arg_degree(info, 0), static_cast<int>(bits)));
  });
}

}  // namespace

void register_params_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("sealParamsSave", Napi::Function::New(env, params_save));
  exports.Set("sealParamsLoad", Napi::Function::New(env, params_load));
  exports.Set("sealChainParmsIds", Napi::Function::New(env, chain_parms_ids));
  exports.Set("sealMaxBitCount", Napi::Function::New(env, max_bit_count));
  exports.Set("sealBfvDefault", Napi::Function::New(env, bfv_default));
  exports.Set("sealPlainModulusBatching", Napi::Function::New(env, plain_modulus_batching));
}

}  // namespace hefty::addon
