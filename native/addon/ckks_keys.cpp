// Key generation, encryption and decryption entry points. Seeded variants return SEAL bytes directly.
#include <algorithm>

#include "../rlwe/crypto_core.h"
#include "../rlwe/keys.h"
#include "../rlwe/op_error.h"
#include "../rlwe/row_ops.h"
#include "ckks_handles.h"

namespace hefty::addon {

namespace {

using rlwe::u64;

bool arg_flag(const Napi::CallbackInfo& info, std::size_t i) { return info.Length() > i && info[i].ToBoolean().Value(); }

std::shared_ptr<ckks::CkksPlain> unwrap_secret(const Napi::Value& v) { return unwrap<ckks::CkksPlain>(v, Kind::SecretKey); }

void require_key_switching(const ckks::Context& ctx) {
  if (!ctx.chain().has_key_switching()) rlwe::fail("E_UNSUPPORTED", "keyswitching is not supported by the context");
}

// A key set for the given targets: one key-switching key per (index, target) pair, stored at `index`.
struct GeneratedKeys {
  KeySet set;
  std::vector<std::vector<rlwe::Seed>> seeds;
};

GeneratedKeys generate_keys(const ckks::Context& ctx, const ckks::CkksPlain& sk, std::size_t dim1,
                            const std::vector<std::pair<std::size_t, rlwe::Words>>& targets) {
  GeneratedKeys out;
  const ckks::ParmsId key_id = ctx.chain().key_level().parms_id;
  out.set.stored.parms_id = key_id;
  out.set.stored.keys.resize(dim1);
  out.seeds.resize(dim1);
  for (const auto& [index, target] : targets) {
    if (!out.set.stored.keys[index].empty()) continue;  // duplicates are generated once
    for (rlwe::ZeroCipher& part : rlwe::generate_kswitch_key(ctx.ring(), sk.data, target, ctx.randomness())) {
      out.seeds[index].push_back(part.seed);
      out.set.stored.keys[index].push_back(ckks::CkksCipher{key_id, 2, 1.0, true, std::move(part.data)});
    }
  }
  out.set.rebuild_views();
  return out;
}

GeneratedKeys relin_keys(const ckks::Context& ctx, const ckks::CkksPlain& sk);

Napi::Value finish_keys(Napi::Env env, const ckks::Context& ctx, GeneratedKeys&& keys, bool seeded) {
  if (seeded) {
    return to_bytes(env, [&](std::uint8_t* out) { return ckks::save_kswitch_keys_seeded(keys.set.stored, keys.seeds, ctx.n(), out); });
  }
  return wrap(env, Kind::KeySwitch, std::make_shared<KeySet>(std::move(keys.set)));
}

Napi::Value keygen_secret(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    const ckks::Context& ctx = *state->ctx;
    ckks::CkksPlain sk{ctx.chain().key_level().parms_id, 1.0, rlwe::generate_secret(ctx.ring(), ctx.randomness())};
    return wrap_value(info.Env(), Kind::SecretKey, std::move(sk));
  });
}

Napi::Value keygen_public(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    const ckks::Context& ctx = *state->ctx;
    const ckks::Level& key = ctx.chain().key_level();
    rlwe::ZeroCipher zero = rlwe::encrypt_zero_symmetric(ctx.ring(), key.prime_count, sk->data, ctx.randomness());
    if (arg_flag(info, 2)) {
      return to_bytes(info.Env(), [&](std::uint8_t* out) {
        return ckks::save_ciphertext_seeded(key.parms_id, ctx.n(), key.prime_count, 1.0, zero.data.data(), zero.seed, out);
      });
    }
    return wrap_value(info.Env(), Kind::PublicKey, ckks::CkksCipher{key.parms_id, 2, 1.0, true, std::move(zero.data)});
  });
}

Napi::Value keygen_relin(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    const ckks::Context& ctx = *state->ctx;
    require_key_switching(ctx);
    return finish_keys(info.Env(), ctx, relin_keys(ctx, *sk), arg_flag(info, 2));
  });
}

std::vector<std::uint32_t> arg_galois_elements(const Napi::CallbackInfo& info, std::size_t i, const ckks::Context& ctx) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    rlwe::fail("E_INVALID_ARGUMENT", "galois elements must be a Uint32Array");
  }
  Napi::Uint32Array elts = info[i].As<Napi::Uint32Array>();
  std::vector<std::uint32_t> out;
  for (std::size_t j = 0; j < elts.ElementLength(); j++) {
    ctx.galois().ntt_permutation(elts[j]);  // validates the element
    out.push_back(elts[j]);
  }
  return out;
}

GeneratedKeys galois_keys(const ckks::Context& ctx, const ckks::CkksPlain& sk, const std::vector<std::uint32_t>& elts) {
  std::vector<std::pair<std::size_t, rlwe::Words>> targets;
  for (const std::uint32_t g : elts) {
    const std::size_t index = (g - 1) / 2;
    const bool seen = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == index; });
    if (!seen) targets.emplace_back(index, rlwe::secret_galois(ctx.ring(), ctx.galois(), sk.data, g));
  }
  return generate_keys(ctx, sk, ctx.n(), targets);
}

GeneratedKeys relin_keys(const ckks::Context& ctx, const ckks::CkksPlain& sk) {
  std::vector<std::pair<std::size_t, rlwe::Words>> targets;
  targets.emplace_back(0, rlwe::secret_squared(ctx.ring(), sk.data));
  return generate_keys(ctx, sk, 1, targets);
}

Napi::Value keygen_galois(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    const ckks::Context& ctx = *state->ctx;
    require_key_switching(ctx);
    const auto elts = arg_galois_elements(info, 2, ctx);
    return finish_keys(info.Env(), ctx, galois_keys(ctx, *sk, elts), arg_flag(info, 3));
  });
}

// Key generation off the event loop (full keys; seeded bytes are cheap to make synchronously).
Napi::Value keygen_galois_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    require_key_switching(*state->ctx);
    const auto elts = arg_galois_elements(info, 2, *state->ctx);
    return run_async(info.Env(), Kind::KeySwitch, [state, sk, elts]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(galois_keys(*state->ctx, *sk, elts).set);
    });
  });
}

Napi::Value keygen_relin_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto sk = unwrap_secret(info[1]);
    require_key_switching(*state->ctx);
    return run_async(info.Env(), Kind::KeySwitch, [state, sk]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(relin_keys(*state->ctx, *sk).set);
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
