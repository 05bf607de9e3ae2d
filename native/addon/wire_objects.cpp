#include "wire_objects.h"

#include <functional>
#include <string>

#include "../rlwe/op_error.h"
#include "ckks_handles.h"

namespace hefty::addon {

namespace {

// Writes one saved object: its SEAL bytes into `out`, or (out null) only their count.
using Writer = std::function<std::size_t(std::uint8_t*)>;

Writer object_writer(const Napi::Value& v, const rlwe::WireContext& wire) {
  if (!v.IsExternal()) rlwe::fail("E_INVALID_ARGUMENT", "expected a native engine object");
  const Kind kind = v.As<Napi::External<Handle>>().Data()->kind;
  switch (kind) {
    case Kind::Cipher:
    case Kind::PublicKey: {
      auto ct = unwrap<rlwe::Cipher>(v, kind);
      return [ct, &wire](std::uint8_t* out) { return rlwe::save_ciphertext(wire, *ct, out); };
    }
    case Kind::Plain:
    case Kind::SecretKey: {
      auto pt = unwrap<rlwe::Plain>(v, kind);
      return [pt](std::uint8_t* out) { return rlwe::save_plaintext(*pt, out); };
    }
    case Kind::KeySwitch: {
      auto keys = unwrap<KeySet>(v, Kind::KeySwitch);
      const std::size_t n = wire.ring.n();
      return [keys, n](std::uint8_t* out) { return rlwe::save_kswitch_keys(keys->stored, n, out); };
    }
    default:
      rlwe::fail("E_INVALID_ARGUMENT", "this object cannot be saved");
  }
}

}  // namespace

Napi::Value save_object(const Napi::CallbackInfo& info, const rlwe::WireContext& wire) {
  const Writer write = object_writer(info[1], wire);
  Napi::Env env = info.Env();
  if (info.Length() < 3 || info[2].IsUndefined()) return to_bytes(env, write);
  if (info[2].IsBoolean()) return Napi::Number::New(env, static_cast<double>(write(nullptr)));
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    rlwe::fail("E_INVALID_ARGUMENT", "save target must be a Uint8Array");
  auto target = info[2].As<Napi::Uint8Array>();
  const std::size_t size = write(nullptr);
  if (target.ByteLength() < size) {
    rlwe::fail("E_INVALID_ARGUMENT", "save target holds " + std::to_string(target.ByteLength()) +
                                         " bytes; this object needs " + std::to_string(size));
  }
  write(target.Data());
  return Napi::Number::New(env, static_cast<double>(size));
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
