// Context-level entry points: prime search, context creation and chain description, threads, test seeds,
// and releasing any handle.
#include <cstring>

#include "../rlwe/op_error.h"
#include "../rlwe/thread_pool.h"
#include "../seal/primes.h"
#include "ckks_handles.h"
#include "key_sets.h"

namespace hefty::addon {

namespace {

Napi::Value coeff_modulus_create(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double n = arg_number(info, 0);
    if (info.Length() < 2 || !info[1].IsArray()) rlwe::fail("E_INVALID_ARGUMENT", "expected an array of bit sizes");
    Napi::Array sizes = info[1].As<Napi::Array>();
    if (sizes.Length() > 256) rlwe::fail("E_INVALID_PARAMS", "at most 256 bit sizes");
    std::vector<int> bits;
    for (std::uint32_t i = 0; i < sizes.Length(); i++) {
      Napi::Value v = sizes.Get(i);
      if (!v.IsNumber()) rlwe::fail("E_INVALID_PARAMS", "bit sizes must be numbers");
      bits.push_back(v.As<Napi::Number>().Int32Value());
    }
    if (!(n >= 2 && n <= 131072)) rlwe::fail("E_INVALID_PARAMS", "poly_modulus_degree out of range");
    const auto primes = seal::coeff_modulus_create(static_cast<std::size_t>(n), bits);
    return to_u64_array(info.Env(), primes.data(), primes.size());
  });
}

Napi::Value context_create(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double n = arg_number(info, 0);
    if (!(n >= 2 && n <= 131072) || n != static_cast<double>(static_cast<std::size_t>(n))) {
      rlwe::fail("E_INVALID_PARAMS", "poly_modulus_degree out of range");
    }
    auto ctx = std::make_shared<ckks::Context>(static_cast<std::size_t>(n), arg_u64s(info, 1));
    return wrap(info.Env(), Kind::Context, std::make_shared<ContextState>(std::move(ctx)));
  });
}

Napi::Value context_levels(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    return levels_array(info.Env(), state->ctx->chain(), state->ctx->primes());
  });
}

Napi::Value set_threads(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const double threads = arg_number(info, 0);
    if (!(threads >= 0 && threads <= 256)) rlwe::fail("E_INVALID_ARGUMENT", "threads must be in [0, 256]");
    const std::size_t applied = rlwe::ThreadPool::instance().set_threads(static_cast<std::size_t>(threads));
    return Napi::Number::New(info.Env(), static_cast<double>(applied));
  });
}

Napi::Value get_threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rlwe::ThreadPool::instance().threads()));
}

Napi::Value get_live_handles(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(addon::live_handles()));
}

// Test hook: a 64-byte seed makes every randomness draw of this context replay that Blake2xb stream (as SEAL's
// fixed-seed factory does); null restores OS randomness.
Napi::Value set_test_seed(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
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

Napi::Value dispose(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsExternal()) {
    Handle* h = info[0].As<Napi::External<Handle>>().Data();
    if (h != nullptr && h->magic == Handle::kMagic) h->value.reset();
  }
  return info.Env().Undefined();
}

}  // namespace

void register_context_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("ckksCoeffModulusCreate", Napi::Function::New(env, coeff_modulus_create));
  exports.Set("ckksContextCreate", Napi::Function::New(env, context_create));
  exports.Set("ckksContextLevels", Napi::Function::New(env, context_levels));
  exports.Set("ckksSetThreads", Napi::Function::New(env, set_threads));
  exports.Set("ckksGetThreads", Napi::Function::New(env, get_threads));
  exports.Set("ckksLiveHandles", Napi::Function::New(env, get_live_handles));
  exports.Set("ckksSetTestSeed", Napi::Function::New(env, set_test_seed));
  exports.Set("ckksDispose", Napi::Function::New(env, dispose));
}

}  // namespace hefty::addon
