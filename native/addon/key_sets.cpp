#include "key_sets.h"

#include <algorithm>

#include "../rlwe/keys.h"
#include "../rlwe/op_error.h"
#include "../rlwe/serialization.h"

namespace hefty::addon {

namespace {

// One key-switching key per (index, target) pair, stored at `index`; duplicates are generated once.
GeneratedKeys generate_keys(const KeyMaterial& keys, const rlwe::Plain& sk, std::size_t dim1,
                            const std::vector<std::pair<std::size_t, rlwe::Words>>& targets) {
  GeneratedKeys out;
  const seal::ParmsId key_id = keys.chain.key_level().parms_id;
  out.set.stored.parms_id = key_id;
  out.set.stored.keys.resize(dim1);
  out.seeds.resize(dim1);
  for (const auto& [index, target] : targets) {
    if (!out.set.stored.keys[index].empty()) continue;
    for (rlwe::ZeroCipher& part : rlwe::generate_kswitch_key(keys.ring, sk.data, target, keys.randomness, keys.noise_factor)) {
      out.seeds[index].push_back(part.seed);
      out.set.stored.keys[index].push_back(rlwe::Cipher{key_id, 2, 1.0, true, std::move(part.data)});
    }
  }
  out.set.rebuild_views();
  return out;
}

}  // namespace

bool arg_flag(const Napi::CallbackInfo& info, std::size_t i) { return info.Length() > i && info[i].ToBoolean().Value(); }

std::vector<std::uint32_t> arg_galois_elements(const Napi::CallbackInfo& info, std::size_t i, const rlwe::GaloisTables& galois) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    rlwe::fail("E_INVALID_ARGUMENT", "galois elements must be a Uint32Array");
  }
  Napi::Uint32Array elts = info[i].As<Napi::Uint32Array>();
  std::vector<std::uint32_t> out;
  for (std::size_t j = 0; j < elts.ElementLength(); j++) {
    galois.ntt_permutation(elts[j]);  // validates the element
    out.push_back(elts[j]);
  }
  return out;
}

void require_key_switching(const seal::Chain& chain) {
  if (!chain.has_key_switching()) rlwe::fail("E_UNSUPPORTED", "keyswitching is not supported by the context");
}

std::shared_ptr<rlwe::Plain> unwrap_secret(const seal::Chain& chain, const Napi::Value& v) {
  auto sk = unwrap<rlwe::Plain>(v, Kind::SecretKey);
  if (sk->parms_id != chain.key_level().parms_id) rlwe::fail("E_PARAMS_MISMATCH", "secret key is not valid for encryption parameters");
  return sk;
}

rlwe::Plain generate_secret_key(const KeyMaterial& keys) {
  return rlwe::Plain{keys.chain.key_level().parms_id, 1.0, rlwe::generate_secret(keys.ring, keys.randomness)};
}

Napi::Value generate_public_key(Napi::Env env, const KeyMaterial& keys, const rlwe::Plain& sk, bool seeded) {
  const seal::Level& key = keys.chain.key_level();
  rlwe::ZeroCipher zero = rlwe::encrypt_zero_symmetric(keys.ring, key.prime_count, sk.data, keys.randomness, keys.noise_factor);
  if (seeded) {
    return to_bytes(env, [&](std::uint8_t* out) {
      return rlwe::save_ciphertext_seeded({key.parms_id, true, keys.ring.n(), key.prime_count, 1.0, 1}, zero.data.data(),
                                          zero.seed, out);
    });
  }
  return wrap_value(env, Kind::PublicKey, rlwe::Cipher{key.parms_id, 2, 1.0, true, std::move(zero.data)});
}

GeneratedKeys relin_keys(const KeyMaterial& keys, const rlwe::Plain& sk) {
  return generate_keys(keys, sk, 1, {{0, rlwe::secret_squared(keys.ring, sk.data)}});
}

GeneratedKeys galois_keys(const KeyMaterial& keys, const rlwe::Plain& sk, const std::vector<std::uint32_t>& elts) {
  std::vector<std::pair<std::size_t, rlwe::Words>> targets;
  for (const std::uint32_t g : elts) {
    const std::size_t index = (g - 1) / 2;
    const bool seen = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == index; });
    if (!seen) targets.emplace_back(index, rlwe::secret_galois(keys.ring, keys.galois, sk.data, g));
  }
  return generate_keys(keys, sk, keys.ring.n(), targets);
}

Napi::Value finish_keys(Napi::Env env, std::size_t n, GeneratedKeys&& keys, bool seeded) {
  if (seeded) {
    return to_bytes(env, [&](std::uint8_t* out) { return rlwe::save_kswitch_keys_seeded(keys.set.stored, keys.seeds, n, out); });
  }
  return wrap(env, Kind::KeySwitch, std::make_shared<KeySet>(std::move(keys.set)));
}

Napi::Value levels_array(Napi::Env env, const seal::Chain& chain, const std::vector<std::uint64_t>& primes) {
  Napi::Array out = Napi::Array::New(env);
  const seal::Level* level = &chain.key_level();
  for (std::uint32_t i = 0; level != nullptr; i++, level = chain.next(*level)) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("parmsId", to_u64_array(env, level->parms_id.data(), 4));
    o.Set("primes", to_u64_array(env, primes.data(), level->prime_count));
    o.Set("chainIndex", Napi::Number::New(env, static_cast<double>(level->chain_index)));
    o.Set("totalBits", Napi::Number::New(env, level->total_bits));
    out.Set(i, o);
  }
  return out;
}

}  // namespace hefty::addon
