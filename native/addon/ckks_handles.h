// How the CKKS engine's C++ objects travel through JavaScript: every object is an External holding a
// shared_ptr (so background work keeps it alive after dispose()), tagged with its kind; and every entry point
// runs inside `guarded`, which turns C++ exceptions into JS errors carrying a HeftyError code.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../ckks/context.h"
#include "../ckks/evaluator.h"
#include "../ckks/serialization.h"

namespace hefty::addon {

// Ciphertexts, plaintexts and keys have one in-memory layout for every scheme; only contexts differ by kind.
enum class Kind : std::uint32_t { Context = 1, Cipher, Plain, SecretKey, PublicKey, KeySwitch, Ntt, BfvContext, BgvContext };

// Key-switching keys plus the views the evaluator reads (pointing into `stored`).
struct KeySet {
  ckks::KSwitchKeys stored;
  ckks::KeySwitchingKeys views;
  void rebuild_views();
};

struct ContextState {
  explicit ContextState(std::shared_ptr<ckks::Context> c) : ctx(std::move(c)), evaluator(ctx->ring(), ctx->chain(), ctx->galois()) {}
  std::shared_ptr<ckks::Context> ctx;
  ckks::Evaluator evaluator;
};

struct Handle {
  static constexpr std::uint32_t kMagic = 0x48454654;  // "HEFT"
  Handle();
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  std::uint32_t magic = kMagic;
  Kind kind = Kind::Context;
  std::shared_ptr<void> value;
};

// Handles whose JS wrappers have not been finalized yet, in every thread of the process. A wrapper is finalized
// only after a GC and a turn of its thread's event loop, so a thread that never yields piles them up.
std::int64_t live_handles();

// Wrapping a ciphertext or plaintext also writes its metadata into the environment's result-info block (exported
// once as `resultInfo`, an ArrayBuffer): parms_id (4 u64), then size, scale, NTT form (f64; 0 for plaintexts).
// A synchronous call that returns one such handle leaves that handle's info there, so JS reads it without a
// second crossing into the addon. Async completions write it too, so JS must not read it after an await.
constexpr std::size_t kResultInfoParmsIdBytes = 32;
constexpr std::size_t kResultInfoBytes = kResultInfoParmsIdBytes + 3 * sizeof(double);
Napi::Value wrap(Napi::Env env, Kind kind, std::shared_ptr<void> value);

template <typename T>
Napi::Value wrap_value(Napi::Env env, Kind kind, T&& value) {
  return wrap(env, kind, std::make_shared<std::decay_t<T>>(std::forward<T>(value)));
}

// Throws E_INVALID_ARGUMENT for a foreign value, E_DISPOSED for a released handle.
std::shared_ptr<void> unwrap_any(const Napi::Value& value, Kind kind);

template <typename T>
std::shared_ptr<T> unwrap(const Napi::Value& value, Kind kind) {
  return std::static_pointer_cast<T>(unwrap_any(value, kind));
}

inline std::shared_ptr<ContextState> unwrap_context(const Napi::Value& v) { return unwrap<ContextState>(v, Kind::Context); }
inline std::shared_ptr<ckks::CkksCipher> unwrap_cipher(const Napi::Value& v) { return unwrap<ckks::CkksCipher>(v, Kind::Cipher); }
inline std::shared_ptr<ckks::CkksPlain> unwrap_plain(const Napi::Value& v) { return unwrap<ckks::CkksPlain>(v, Kind::Plain); }

// Runs `body`; C++ exceptions become JS exceptions with a `code` property.
Napi::Value guarded(const Napi::CallbackInfo& info, const std::function<Napi::Value()>& body);
void throw_coded(Napi::Env env, const char* code, const std::string& message);
Napi::Error coded_error(Napi::Env env, const char* code, const std::string& message);

// Argument helpers (throw E_INVALID_ARGUMENT).
double arg_number(const Napi::CallbackInfo& info, std::size_t i);
std::vector<std::uint64_t> arg_u64s(const Napi::CallbackInfo& info, std::size_t i);
std::pair<const std::uint8_t*, std::size_t> arg_bytes(const Napi::CallbackInfo& info, std::size_t i);
ckks::ParmsId arg_parms_id(const Napi::CallbackInfo& info, std::size_t i);
Napi::Value to_u64_array(Napi::Env env, const std::uint64_t* words, std::size_t count);
// Serializes into a fresh, transferable Uint8Array of the exact size: `write(nullptr)` returns the size,
// `write(buffer)` writes the bytes.
Napi::Value to_bytes(Napi::Env env, const std::function<std::size_t(std::uint8_t*)>& write);

// Runs `work` on a libuv worker thread and settles a promise with the handle it returns.
Napi::Value run_async(Napi::Env env, Kind kind, std::function<std::shared_ptr<void>()> work);
// The same with the JS value made from the result by `to_js` (on the JS thread), e.g. an array of handles.
using ToJs = std::function<Napi::Value(Napi::Env, std::shared_ptr<void>)>;
Napi::Value run_async(Napi::Env env, ToJs to_js, std::function<std::shared_ptr<void>()> work);

// Registration of each group of functions.
void register_context_functions(Napi::Env env, Napi::Object exports);
void register_object_functions(Napi::Env env, Napi::Object exports);
void register_key_functions(Napi::Env env, Napi::Object exports);
void register_evaluator_functions(Napi::Env env, Napi::Object exports);

// Registers everything above (called from module.cpp).
void register_ckks(Napi::Env env, Napi::Object exports);

}  // namespace hefty::addon
