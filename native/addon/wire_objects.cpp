#include "wire_objects.h"

#include <string>

#include "../rlwe/op_error.h"
#include "ckks_handles.h"

namespace hefty::addon {

Napi::Value save_object(const Napi::CallbackInfo& info, const rlwe::WireContext& wire) {
  Napi::Value v = info[1];
  if (!v.IsExternal()) rlwe::fail("E_INVALID_ARGUMENT", "expected a native engine object");
  const Kind kind = v.As<Napi::External<Handle>>().Data()->kind;
  switch (kind) {
    case Kind::Cipher:
    case Kind::PublicKey: {
      auto ct = unwrap<rlwe::Cipher>(v, kind);
      return to_bytes(info.Env(), [&](std::uint8_t* out) { return rlwe::save_ciphertext(wire, *ct, out); });
    }
    case Kind::Plain:
    case Kind::SecretKey: {
      auto pt = unwrap<rlwe::Plain>(v, kind);
      return to_bytes(info.Env(), [&](std::uint8_t* out) { return rlwe::save_plaintext(*pt, out); });
    }
    case Kind::KeySwitch: {
      auto keys = unwrap<KeySet>(v, Kind::KeySwitch);
      return to_bytes(info.Env(), [&](std::uint8_t* out) { return rlwe::save_kswitch_keys(keys->stored, wire.ring.n(), out); });
    }
    default:
      rlwe::fail("E_INVALID_ARGUMENT", "this object cannot be saved");
  }
}

Napi::Value load_object(const Napi::CallbackInfo& info, const rlwe::WireContext& wire) {
  if (info.Length() < 2 || !info[1].IsString()) rlwe::fail("E_INVALID_ARGUMENT", "expected an object kind");
  const std::string kind = info[1].As<Napi::String>().Utf8Value();
  const auto [data, size] = arg_bytes(info, 2);
  Napi::Env env = info.Env();
  if (kind == "ciphertext") return wrap_value(env, Kind::Cipher, rlwe::load_ciphertext(wire, data, size, false));
  if (kind == "public-key") return wrap_value(env, Kind::PublicKey, rlwe::load_ciphertext(wire, data, size, true));
  if (kind == "plaintext") return wrap_value(env, Kind::Plain, rlwe::load_plaintext(wire, data, size));
  if (kind == "secret-key") return wrap_value(env, Kind::SecretKey, rlwe::load_secret_key(wire, data, size));
  if (kind == "keys") {
    KeySet set;
    set.stored = rlwe::load_kswitch_keys(wire, data, size);
    set.rebuild_views();
    return wrap(env, Kind::KeySwitch, std::make_shared<KeySet>(std::move(set)));
  }
  rlwe::fail("E_INVALID_ARGUMENT", "unknown object kind");
}

}  // namespace hefty::addon
