// BFV and BGV entry points for contexts, the batch encoder (shared), SEAL-format load/save, key generation,
// encryption and decryption: one implementation, instantiated per scheme (integer_handles.h). Key generation and
// wire I/O are shared with CKKS (key_sets.h, rlwe/serialization.h). Seeded variants return SEAL bytes directly.
#include <cstring>
#include <string>

#include "../rlwe/batch_encoder.h"
#include "../rlwe/op_error.h"
#include "../rlwe/serialization.h"
#include "integer_handles.h"
#include "wire_objects.h"

namespace hefty::addon {

namespace {

using rlwe::u64;

u64 arg_bigint(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsBigInt()) rlwe::fail("E_INVALID_ARGUMENT", "expected a bigint");
  bool lossless = false;
  const u64 v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) rlwe::fail("E_INVALID_PARAMS", "value does not fit 64 bits");
  return v;
}

template <typename S>
KeyMaterial key_material(const typename S::Context& ctx) {
  return {ctx.ring(), ctx.galois(), ctx.chain(), ctx.randomness(), S::noise_factor(ctx)};
}

template <typename S>
Napi::Value context_create(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double n = arg_number(info, 0);
    if (!(n >= 2 && n <= 131072) || n != static_cast<double>(static_cast<std::size_t>(n))) {
      rlwe::fail("E_INVALID_PARAMS", "poly_modulus_degree out of range");
    }
    auto ctx = std::make_shared<typename S::Context>(static_cast<std::size_t>(n), arg_u64s(info, 1), arg_bigint(info, 2));
    return wrap(info.Env(), S::kind, std::make_shared<IntegerContextState<S>>(std::move(ctx)));
  });
}

template <typename S>
Napi::Value context_levels(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    return levels_array(info.Env(), state->ctx->chain(), state->ctx->primes());
  });
}

// Test hook, as ckksSetTestSeed: a 64-byte seed replays one Blake2xb stream for every draw; null restores the OS.
template <typename S>
Napi::Value set_test_seed(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    if (info.Length() < 2 || info[1].IsNull() || info[1].IsUndefined()) {
      state->ctx->set_randomness(rlwe::os_randomness());
    } else {
      const auto [data, size] = arg_bytes(info, 1);
      if (size != 64) rlwe::fail("E_INVALID_ARGUMENT", "a test seed has 64 bytes");
      rlwe::Seed seed;
      std::memcpy(seed.data(), data, 64);
      state->ctx->set_randomness(rlwe::fixed_seed_randomness(seed));
    }
    return info.Env().Undefined();
  });
}

// Slot values travel as signed integers in (-t/2, t/2] (a BigInt64Array both ways): the range check and the
// mapping to residues below t happen here, not element by element through BigInt in JS.
template <typename S>
Napi::Value encode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    if (info.Length() <= 1 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array)
      rlwe::fail("E_INVALID_ARGUMENT", "values must be a BigInt64Array");
    auto signed_values = info[1].As<Napi::TypedArrayOf<std::int64_t>>();
    const rlwe::PlainSpace& space = state->ctx->plain_space();
    const u64 t = space.t();
    const auto half = static_cast<std::int64_t>(t / 2);
    std::vector<u64> residues(signed_values.ElementLength());
    for (std::size_t i = 0; i < residues.size(); i++) {
      const std::int64_t v = signed_values[i];
      if (v > half || v < -half)
        rlwe::fail("E_VALUE_OUT_OF_RANGE",
                   "value " + std::to_string(v) + " is outside (-t/2, t/2] for t = " + std::to_string(t));
      residues[i] = v < 0 ? t - static_cast<u64>(-v) : static_cast<u64>(v);
    }
    return wrap_value(info.Env(), Kind::Plain, rlwe::batch_encode(space, residues.data(), residues.size()));
  });
}

template <typename S>
Napi::Value decode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto pt = unwrap_plain(info[1]);
    const rlwe::PlainSpace& space = state->ctx->plain_space();
    const u64 t = space.t();
    auto out = Napi::TypedArrayOf<std::int64_t>::New(info.Env(), state->ctx->n(), napi_bigint64_array);
    auto* residues = reinterpret_cast<u64*>(out.Data());
    rlwe::batch_decode(space, *pt, residues);
    for (std::size_t i = 0; i < out.ElementLength(); i++) {
      const u64 r = residues[i];
      out[i] = r > t / 2 ? -static_cast<std::int64_t>(t - r) : static_cast<std::int64_t>(r);
    }
    return out;
  });
}

// The plaintext's coefficients (for plaintexts that are not batched).
Napi::Value plain_coefficients(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto pt = unwrap_plain(info[0]);
    return to_u64_array(info.Env(), pt->data.data(), pt->data.size());
  });
}

// The correction factor of a ciphertext (BGV; 1 for every other scheme).
Napi::Value correction_factor(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto ct = unwrap_cipher(info[0]);
    return Napi::BigInt::New(info.Env(), static_cast<std::uint64_t>(ct->correction_factor));
  });
}

template <typename S>
Napi::Value save(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return save_object(info, S::wire(*unwrap_integer_context<S>(info[0])->ctx)); });
}

template <typename S>
Napi::Value load(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return load_object(info, S::wire(*unwrap_integer_context<S>(info[0])->ctx)); });
}

template <typename S>
Napi::Value keygen_secret(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    return wrap_value(info.Env(), Kind::SecretKey, generate_secret_key(key_material<S>(*state->ctx)));
  });
}

template <typename S>
Napi::Value keygen_public(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    return generate_public_key(info.Env(), key_material<S>(*state->ctx), *sk, arg_flag(info, 2));
  });
}

template <typename S>
Napi::Value keygen_relin(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    require_key_switching(state->ctx->chain());
    return finish_keys(info.Env(), state->ctx->n(), relin_keys(key_material<S>(*state->ctx), *sk), arg_flag(info, 2));
  });
}

template <typename S>
Napi::Value keygen_galois(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    require_key_switching(state->ctx->chain());
    const auto elts = arg_galois_elements(info, 2, state->ctx->galois());
    return finish_keys(info.Env(), state->ctx->n(), galois_keys(key_material<S>(*state->ctx), *sk, elts), arg_flag(info, 3));
  });
}

template <typename S>
Napi::Value keygen_relin_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    require_key_switching(state->ctx->chain());
    return run_async(info.Env(), Kind::KeySwitch, [state, sk]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(relin_keys(key_material<S>(*state->ctx), *sk).set);
    });
  });
}

template <typename S>
Napi::Value keygen_galois_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    require_key_switching(state->ctx->chain());
    const auto elts = arg_galois_elements(info, 2, state->ctx->galois());
    return run_async(info.Env(), Kind::KeySwitch, [state, sk, elts]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(galois_keys(key_material<S>(*state->ctx), *sk, elts).set);
    });
  });
}

template <typename S>
Napi::Value encrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto pk = unwrap<rlwe::Cipher>(info[1], Kind::PublicKey);
    if (pk->parms_id != state->ctx->chain().key_level().parms_id) rlwe::fail("E_PARAMS_MISMATCH", "public key is not valid for encryption parameters");
    auto pt = unwrap_plain(info[2]);
    return wrap_value(info.Env(), Kind::Cipher, S::encrypt_public(*state->ctx, pk->data, *pt));
  });
}

template <typename S>
Napi::Value encrypt_symmetric(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    auto pt = unwrap_plain(info[2]);
    const typename S::Context& ctx = *state->ctx;
    if (arg_flag(info, 3)) {
      rlwe::Seed seed;
      const rlwe::Cipher ct = S::encrypt_symmetric(ctx, sk->data, *pt, &seed);
      const std::size_t rows = ctx.chain().find(ct.parms_id)->prime_count;
      return to_bytes(info.Env(), [&](std::uint8_t* out) {
        return rlwe::save_ciphertext_seeded({ct.parms_id, ct.ntt_form, ctx.n(), rows, 1.0, 1}, ct.data.data(), seed, out);
      });
    }
    return wrap_value(info.Env(), Kind::Cipher, S::encrypt_symmetric(ctx, sk->data, *pt, nullptr));
  });
}

template <typename S>
Napi::Value decrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    auto ct = unwrap_cipher(info[2]);
    return wrap_value(info.Env(), Kind::Plain, S::decrypt(*state->ctx, sk->data, *ct));
  });
}

template <typename S>
Napi::Value noise_budget(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_integer_context<S>(info[0]);
    auto sk = unwrap_secret(state->ctx->chain(), info[1]);
    auto ct = unwrap_cipher(info[2]);
    return Napi::Number::New(info.Env(), S::noise_budget(*state->ctx, sk->data, *ct));
  });
}

}  // namespace

template <typename S>
void register_integer_object_functions(Napi::Env env, Napi::Object exports) {
  const std::string p = S::prefix;
  exports.Set(p + "ContextCreate", Napi::Function::New(env, context_create<S>));
  exports.Set(p + "ContextLevels", Napi::Function::New(env, context_levels<S>));
  exports.Set(p + "SetTestSeed", Napi::Function::New(env, set_test_seed<S>));
  exports.Set(p + "Encode", Napi::Function::New(env, encode<S>));
  exports.Set(p + "Decode", Napi::Function::New(env, decode<S>));
  exports.Set(p + "PlainCoefficients", Napi::Function::New(env, plain_coefficients));
  exports.Set(p + "CorrectionFactor", Napi::Function::New(env, correction_factor));
  exports.Set(p + "Save", Napi::Function::New(env, save<S>));
  exports.Set(p + "Load", Napi::Function::New(env, load<S>));
  exports.Set(p + "KeygenSecret", Napi::Function::New(env, keygen_secret<S>));
  exports.Set(p + "KeygenPublic", Napi::Function::New(env, keygen_public<S>));
  exports.Set(p + "KeygenRelin", Napi::Function::New(env, keygen_relin<S>));
  exports.Set(p + "KeygenGalois", Napi::Function::New(env, keygen_galois<S>));
  exports.Set(p + "KeygenRelinAsync", Napi::Function::New(env, keygen_relin_async<S>));
  exports.Set(p + "KeygenGaloisAsync", Napi::Function::New(env, keygen_galois_async<S>));
  exports.Set(p + "Encrypt", Napi::Function::New(env, encrypt<S>));
  exports.Set(p + "EncryptSymmetric", Napi::Function::New(env, encrypt_symmetric<S>));
  exports.Set(p + "Decrypt", Napi::Function::New(env, decrypt<S>));
  exports.Set(p + "NoiseBudget", Napi::Function::New(env, noise_budget<S>));
}

template void register_integer_object_functions<BfvScheme>(Napi::Env, Napi::Object);
template void register_integer_object_functions<BgvScheme>(Napi::Env, Napi::Object);

}  // namespace hefty::addon
