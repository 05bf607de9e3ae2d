// Addon entry point: registers every group of native functions on the module's exports.
#include <napi.h>

#include "ckks_handles.h"
#include "integer_handles.h"
#include "rlwe/ntt_ifma.h"
#include "rlwe/ntt_simd.h"
#include "seal_functions.h"

namespace {

// The vector code path this CPU runs (chosen at run time): reported by `hefty info` and the service's info metric.
Napi::Value simd_path(const Napi::CallbackInfo& info) {
  const char* path = hefty::rlwe::ifma::available()   ? "avx512-ifma"
                     : hefty::rlwe::simd::available() ? "avx512"
                                                      : "scalar";
  return Napi::String::New(info.Env(), path);
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  hefty::addon::register_ckks(env, exports);
  hefty::addon::register_integer_schemes(env, exports);
  hefty::addon::register_params_functions(env, exports);
  hefty::addon::register_ntt_functions(env, exports);
  exports.Set("simdPath", Napi::Function::New(env, simd_path));
  return exports;
}

}  // namespace

NODE_API_MODULE(hefty, init)
