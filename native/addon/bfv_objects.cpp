// BFV entry points for contexts, the batch encoder, SEAL-format load/save, key generation, encryption and
// decryption. Key generation is the rlwe layer's, shared with CKKS. Seeded variants return SEAL bytes directly.
#include <algorithm>
#include <cstring>

#include "../bfv/batch_encoder.h"
#include "../bfv/encryptor.h"
#include "../bfv/serialization.h"
#include "../rlwe/keys.h"
#include "../rlwe/op_error.h"
#include "bfv_handles.h"

namespace hefty::addon {

namespace {

using rlwe::u64;

bool arg_flag(const Napi::CallbackInfo& info, std::size_t i) { return info.Length() > i && info[i].ToBoolean().Value(); }

u64 arg_bigint(const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || !info[i].IsBigInt()) rlwe::fail("E_INVALID_ARGUMENT", "expected a bigint");
  bool lossless = false;
  const u64 v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) rlwe::fail("E_INVALID_PARAMS", "value does not fit 64 bits");
  return v;
}

// A secret key of this context (a key of another context is refused before any arithmetic).
std::shared_ptr<ckks::CkksPlain> unwrap_secret(const BfvContextState& state, const Napi::Value& v) {
  auto sk = unwrap<ckks::CkksPlain>(v, Kind::SecretKey);
  if (sk->parms_id != state.ctx->chain().key_level().parms_id) rlwe::fail("E_PARAMS_MISMATCH", "secret key is not valid for encryption parameters");
  return sk;
}

Napi::Value context_create(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double n = arg_number(info, 0);
    if (!(n >= 2 && n <= 131072) || n != static_cast<double>(static_cast<std::size_t>(n))) {
      rlwe::fail("E_INVALID_PARAMS", "poly_modulus_degree out of range");
    }
    auto ctx = std::make_shared<bfv::Context>(static_cast<std::size_t>(n), arg_u64s(info, 1), arg_bigint(info, 2));
    return wrap(info.Env(), Kind::BfvContext, std::make_shared<BfvContextState>(std::move(ctx)));
  });
}

Napi::Value context_levels(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    const bfv::Context& ctx = *state->ctx;
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    const ckks::Level* level = &ctx.chain().key_level();
    for (std::uint32_t i = 0; level != nullptr; i++, level = ctx.chain().next(*level)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("parmsId", to_u64_array(env, level->parms_id.data(), 4));
      o.Set("primes", to_u64_array(env, ctx.primes().data(), level->prime_count));
      o.Set("chainIndex", Napi::Number::New(env, static_cast<double>(level->chain_index)));
      o.Set("totalBits", Napi::Number::New(env, level->total_bits));
      out.Set(i, o);
    }
    return out;
  });
}

// Test hook, as ckksSetTestSeed: a 64-byte seed replays one Blake2xb stream for every draw; null restores the OS.
Napi::Value set_test_seed(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
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

Napi::Value encode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    const std::vector<u64> values = arg_u64s(info, 1);
    return wrap_value(info.Env(), Kind::Plain, bfv::batch_encode(*state->ctx, values.data(), values.size()));
  });
}

Napi::Value decode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto pt = unwrap_plain(info[1]);
    std::vector<u64> values(state->ctx->n());
    bfv::batch_decode(*state->ctx, *pt, values.data());
    return to_u64_array(info.Env(), values.data(), values.size());
  });
}

// The plaintext's coefficients (for plaintexts that are not batched).
Napi::Value plain_coefficients(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto pt = unwrap_plain(info[0]);
    return to_u64_array(info.Env(), pt->data.data(), pt->data.size());
  });
}

Napi::Value save(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    const bfv::Context& ctx = *state->ctx;
    Napi::Value v = info[1];
    if (!v.IsExternal()) rlwe::fail("E_INVALID_ARGUMENT", "expected a native engine object");
    const Kind kind = v.As<Napi::External<Handle>>().Data()->kind;
    switch (kind) {
      case Kind::Cipher:
      case Kind::PublicKey: {
        auto ct = unwrap<ckks::CkksCipher>(v, kind);
        return to_bytes(info.Env(), [&](std::uint8_t* out) { return bfv::save_ciphertext(ctx, *ct, out); });
      }
      case Kind::Plain:
      case Kind::SecretKey: {
        auto pt = unwrap<ckks::CkksPlain>(v, kind);
        return to_bytes(info.Env(), [&](std::uint8_t* out) { return ckks::save_plaintext(*pt, out); });
      }
      case Kind::KeySwitch: {
        auto keys = unwrap<KeySet>(v, Kind::KeySwitch);
        return to_bytes(info.Env(), [&](std::uint8_t* out) { return ckks::save_kswitch_keys(keys->stored, ctx.n(), out); });
      }
      default:
        rlwe::fail("E_INVALID_ARGUMENT", "this object cannot be saved");
    }
  });
}

Napi::Value load(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    const bfv::Context& ctx = *state->ctx;
    if (info.Length() < 2 || !info[1].IsString()) rlwe::fail("E_INVALID_ARGUMENT", "expected an object kind");
    const std::string kind = info[1].As<Napi::String>().Utf8Value();
    const auto [data, size] = arg_bytes(info, 2);
    Napi::Env env = info.Env();
    if (kind == "ciphertext") return wrap_value(env, Kind::Cipher, bfv::load_ciphertext(ctx, data, size, false));
    if (kind == "public-key") return wrap_value(env, Kind::PublicKey, bfv::load_ciphertext(ctx, data, size, true));
    if (kind == "plaintext") return wrap_value(env, Kind::Plain, bfv::load_plaintext(ctx, data, size));
    if (kind == "secret-key") return wrap_value(env, Kind::SecretKey, bfv::load_secret_key(ctx, data, size));
    if (kind == "keys") {
      KeySet set;
      set.stored = bfv::load_kswitch_keys(ctx, data, size);
      set.rebuild_views();
      return wrap(env, Kind::KeySwitch, std::make_shared<KeySet>(std::move(set)));
    }
    rlwe::fail("E_INVALID_ARGUMENT", "unknown object kind");
  });
}

void require_key_switching(const bfv::Context& ctx) {
  if (!ctx.chain().has_key_switching()) rlwe::fail("E_UNSUPPORTED", "keyswitching is not supported by the context");
}

struct GeneratedKeys {
  KeySet set;
  std::vector<std::vector<rlwe::Seed>> seeds;
};

// One key-switching key per (index, target) pair, stored at `index`; duplicates are generated once.
GeneratedKeys generate_keys(const bfv::Context& ctx, const ckks::CkksPlain& sk, std::size_t dim1,
                            const std::vector<std::pair<std::size_t, std::vector<u64>>>& targets) {
  GeneratedKeys out;
  const ckks::ParmsId key_id = ctx.chain().key_level().parms_id;
  out.set.stored.parms_id = key_id;
  out.set.stored.keys.resize(dim1);
  out.seeds.resize(dim1);
  for (const auto& [index, target] : targets) {
    if (!out.set.stored.keys[index].empty()) continue;
    for (rlwe::ZeroCipher& part : rlwe::generate_kswitch_key(ctx.ring(), sk.data, target, ctx.randomness())) {
      out.seeds[index].push_back(part.seed);
      out.set.stored.keys[index].push_back(ckks::CkksCipher{key_id, 2, 1.0, true, std::move(part.data)});
    }
  }
  out.set.rebuild_views();
  return out;
}

GeneratedKeys relin_keys(const bfv::Context& ctx, const ckks::CkksPlain& sk) {
  return generate_keys(ctx, sk, 1, {{0, rlwe::secret_squared(ctx.ring(), sk.data)}});
}

GeneratedKeys galois_keys(const bfv::Context& ctx, const ckks::CkksPlain& sk, const std::vector<std::uint32_t>& elts) {
  std::vector<std::pair<std::size_t, std::vector<u64>>> targets;
  for (const std::uint32_t g : elts) {
    const std::size_t index = (g - 1) / 2;
    const bool seen = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == index; });
    if (!seen) targets.emplace_back(index, rlwe::secret_galois(ctx.ring(), ctx.galois(), sk.data, g));
  }
  return generate_keys(ctx, sk, ctx.n(), targets);
}

std::vector<std::uint32_t> arg_galois_elements(const Napi::CallbackInfo& info, std::size_t i, const bfv::Context& ctx) {
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

Napi::Value finish_keys(Napi::Env env, const bfv::Context& ctx, GeneratedKeys&& keys, bool seeded) {
  if (seeded) {
    return to_bytes(env, [&](std::uint8_t* out) { return ckks::save_kswitch_keys_seeded(keys.set.stored, keys.seeds, ctx.n(), out); });
  }
  return wrap(env, Kind::KeySwitch, std::make_shared<KeySet>(std::move(keys.set)));
}

Napi::Value keygen_secret(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    const bfv::Context& ctx = *state->ctx;
    ckks::CkksPlain sk{ctx.chain().key_level().parms_id, 1.0, rlwe::generate_secret(ctx.ring(), ctx.randomness())};
    return wrap_value(info.Env(), Kind::SecretKey, std::move(sk));
  });
}

Napi::Value keygen_public(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    const bfv::Context& ctx = *state->ctx;
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
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    require_key_switching(*state->ctx);
    return finish_keys(info.Env(), *state->ctx, relin_keys(*state->ctx, *sk), arg_flag(info, 2));
  });
}

Napi::Value keygen_galois(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    require_key_switching(*state->ctx);
    const auto elts = arg_galois_elements(info, 2, *state->ctx);
    return finish_keys(info.Env(), *state->ctx, galois_keys(*state->ctx, *sk, elts), arg_flag(info, 3));
  });
}

Napi::Value keygen_relin_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    require_key_switching(*state->ctx);
    return run_async(info.Env(), Kind::KeySwitch, [state, sk]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(relin_keys(*state->ctx, *sk).set);
    });
  });
}

Napi::Value keygen_galois_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    require_key_switching(*state->ctx);
    const auto elts = arg_galois_elements(info, 2, *state->ctx);
    return run_async(info.Env(), Kind::KeySwitch, [state, sk, elts]() -> std::shared_ptr<void> {
      return std::make_shared<KeySet>(galois_keys(*state->ctx, *sk, elts).set);
    });
  });
}

Napi::Value encrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto pk = unwrap<ckks::CkksCipher>(info[1], Kind::PublicKey);
    if (pk->parms_id != state->ctx->chain().key_level().parms_id) rlwe::fail("E_PARAMS_MISMATCH", "public key is not valid for encryption parameters");
    auto pt = unwrap_plain(info[2]);
    return wrap_value(info.Env(), Kind::Cipher, bfv::encrypt_public(*state->ctx, pk->data, *pt));
  });
}

Napi::Value encrypt_symmetric(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    auto pt = unwrap_plain(info[2]);
    const bfv::Context& ctx = *state->ctx;
    if (arg_flag(info, 3)) {
      rlwe::Seed seed;
      const bfv::Cipher ct = bfv::encrypt_symmetric(ctx, sk->data, *pt, &seed);
      return to_bytes(info.Env(), [&](std::uint8_t* out) { return bfv::save_ciphertext_seeded(ctx, ct, seed, out); });
    }
    return wrap_value(info.Env(), Kind::Cipher, bfv::encrypt_symmetric(ctx, sk->data, *pt, nullptr));
  });
}

Napi::Value decrypt(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    auto ct = unwrap_cipher(info[2]);
    return wrap_value(info.Env(), Kind::Plain, bfv::decrypt(*state->ctx, sk->data, *ct));
  });
}

Napi::Value noise_budget(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_bfv_context(info[0]);
    auto sk = unwrap_secret(*state, info[1]);
    auto ct = unwrap_cipher(info[2]);
    return Napi::Number::New(info.Env(), bfv::invariant_noise_budget(*state->ctx, sk->data, *ct));
  });
}

}  // namespace

void register_bfv_object_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("bfvContextCreate", Napi::Function::New(env, context_create));
  exports.Set("bfvContextLevels", Napi::Function::New(env, context_levels));
  exports.Set("bfvSetTestSeed", Napi::Function::New(env, set_test_seed));
  exports.Set("bfvEncode", Napi::Function::New(env, encode));
  exports.Set("bfvDecode", Napi::Function::New(env, decode));
  exports.Set("bfvPlainCoefficients", Napi::Function::New(env, plain_coefficients));
  exports.Set("bfvSave", Napi::Function::New(env, save));
  exports.Set("bfvLoad", Napi::Function::New(env, load));
  exports.Set("bfvKeygenSecret", Napi::Function::New(env, keygen_secret));
  exports.Set("bfvKeygenPublic", Napi::Function::New(env, keygen_public));
  exports.Set("bfvKeygenRelin", Napi::Function::New(env, keygen_relin));
  exports.Set("bfvKeygenGalois", Napi::Function::New(env, keygen_galois));
  exports.Set("bfvKeygenRelinAsync", Napi::Function::New(env, keygen_relin_async));
  exports.Set("bfvKeygenGaloisAsync", Napi::Function::New(env, keygen_galois_async));
  exports.Set("bfvEncrypt", Napi::Function::New(env, encrypt));
  exports.Set("bfvEncryptSymmetric", Napi::Function::New(env, encrypt_symmetric));
  exports.Set("bfvDecrypt", Napi::Function::New(env, decrypt));
  exports.Set("bfvNoiseBudget", Napi::Function::New(env, noise_budget));
}

}  // namespace hefty::addon
