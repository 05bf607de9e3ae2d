// Addon entry point: registers every group of native functions on the module's exports.
#include <napi.h>

#include "bfv_handles.h"
#include "ckks_handles.h"
#include "seal_functions.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  hefty::addon::register_ckks(env, exports);
  hefty::addon::register_bfv(env, exports);
  hefty::addon::register_params_functions(env, exports);
  hefty::addon::register_ntt_functions(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(hefty, init)
