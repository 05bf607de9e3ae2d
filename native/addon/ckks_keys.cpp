// Key generation, encryption and decryption entry points. Seeded variants return SEAL bytes directly.
#include <algorithm>

#include "../rlwe/crypto_core.h"
#include "../rlwe/keys.h"
#include "../rlwe/op_error.h"
#include "../rlwe/row_ops.h"
#include "ckks_handles.h"
#include "key_sets.h"

namespace hefty::addon {

namespace {

using rlwe::u64;

std::shared_ptr<ckks::CkksPlain> unwrap_secret(const Napi::Value& v) { return unwrap<ckks::CkksPlain>(v, Kind::SecretKey); }

KeyMaterial key_material(const ckks::Context& ctx) { return {ctx.ring(), ctx.galois(), ctx.chain(), ctx.randomness(), 1}; }

Napi::Value keygen_secret(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    return wrap_value(info.Env(), Kind::SecretKey, generate_secret_key(key_material(*state->ctx)));
  });
}

Napi::Value keygen_public(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    return generate_public_key(info.Env(), key_material(*state->ctx), *sk, arg_flag(info, 2));
  });
}

Napi::Value keygen_relin(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    const ckks::Context& ctx = *state->ctx;
    require_key_switching(ctx.chain());
    return finish_keys(info.Env(), ctx.n(), relin_keys(key_material(ctx), *sk), arg_flag(info, 2));
  });
}

Napi::Value keygen_galois(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    const ckks::Context& ctx = *state->ctx;
    require_key_switching(ctx.chain());
    const auto elts = arg_galois_elements(info, 2, ctx.galois());
    return finish_keys(info.Env(), ctx.n(), galois_keys(key_material(ctx), *sk, elts), arg_flag(info, 3));
  });
}

// Key generation off the event loop (full keys; seeded bytes are cheap to make synchronously).
Napi::Value keygen_galois_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    require_key_switching(state->ctx->chain());
    const auto elts = arg_galois_elements(info, 2, state->ctx->galois());
    return run_async(info.Env(), Kind::KeySwitch, [state, sk, elts]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(galois_keys(key_material(*state->ctx), *sk, elts).set);
    });
  });
}

Napi::Value keygen_relin_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    require_key_switching(state->ctx->chain());
    return run_async(info.Env(), Kind::KeySwitch, [state, sk]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(relin_keys(key_material(*state->ctx), *sk).set);
    });
  });
}

void add_plain_rows(const ckks::Context& ctx, std::size_t rows, const ckks::CkksPlain& pt, u64* c0) {
  const std::size_t n = ctx.n();
  for (std::size_t j = 0; j < rows; j++) rlwe::rows::add(c0 + j * n, pt.data.data() + j * n, c0 + j * n, n, ctx.ring().mod(j));
}

Napi::Value encrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto pk = unwrap<ckks::CkksCipher>(info[1], Kind::PublicKey);
    auto pt = unwrap_plain(info[2]);
    const ckks::Context& ctx = *state->ctx;
    const ckks::Level& level = state->evaluator.level_of(*pt);
    ckks::CkksCipher ct{pt->parms_id, 2, pt->scale, true,
                        rlwe::encrypt_zero_public_key(ctx.ring(), level.prime_count, pk->data, ctx.randomness())};
    add_plain_rows(ctx, level.prime_count, *pt, ct.data.data());
    return wrap_value(info.Env(), Kind::Cipher, std::move(ct));
  });
}

Napi::Value encrypt_symmetric(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    auto pt = unwrap_plain(info[2]);
    const ckks::Context& ctx = *state->ctx;
    const ckks::Level& level = state->evaluator.level_of(*pt);
    rlwe::ZeroCipher zero = rlwe::encrypt_zero_symmetric(ctx.ring(), level.prime_count, sk->data, ctx.randomness());
    add_plain_rows(ctx, level.prime_count, *pt, zero.data.data());
    if (arg_flag(info, 3)) {
      return to_bytes(info.Env(), [&](std::uint8_t* out) {
        return ckks::save_ciphertext_seeded(pt->parms_id, ctx.n(), level.prime_count, pt->scale, zero.data.data(), zero.seed, out);
      });
    }
    return wrap_value(info.Env(), Kind::Cipher, ckks::CkksCipher{pt->parms_id, 2, pt->scale, true, std::move(zero.data)});
  });
}

Napi::Value decrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    auto ct = unwrap_cipher(info[2]);
    const ckks::Context& ctx = *state->ctx;
    const ckks::Level& level = state->evaluator.level_of(*ct);
    ckks::CkksPlain pt{ct->parms_id, ct->scale, rlwe::Words(level.prime_count * ctx.n())};
    rlwe::decrypt_ntt(ctx.ring(), level.prime_count, ct->data.data(), ct->size, sk->data.data(), pt.data.data());
    return wrap_value(info.Env(), Kind::Plain, std::move(pt));
  });
}

}  // namespace

void register_key_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("ckksKeygenSecret", Napi::Function::New(env, keygen_secret));
  exports.Set("ckksKeygenPublic", Napi::Function::New(env, keygen_public));
  exports.Set("ckksKeygenRelin", Napi::Function::New(env, keygen_relin));
  exports.Set("ckksKeygenGalois", Napi::Function::New(env, keygen_galois));
  exports.Set("ckksKeygenRelinAsync", Napi::Function::New(env, keygen_relin_async));
  exports.Set("ckksKeygenGaloisAsync", Napi::Function::New(env, keygen_galois_async));
  exports.Set("ckksEncrypt", Napi::Function::New(env, encrypt));
  exports.Set("ckksEncryptSymmetric", Napi::Function::New(env, encrypt_symmetric));
  exports.Set("ckksDecrypt", Napi::Function::New(env, decrypt));
}

}  // namespace hefty::addon
