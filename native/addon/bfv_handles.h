// How the BFV engine travels through JavaScript: its context is a handle of kind BfvContext (holding the context
// and its evaluator); ciphertexts, plaintexts and keys use the same kinds and layouts as CKKS, so the generic
// entry points (info, copy, key indices, dispose) serve both schemes.
#pragma once
#include <napi.h>

#include <memory>
#include <utility>

#include "../bfv/context.h"
#include "../bfv/evaluator.h"
#include "ckks_handles.h"

namespace hefty::addon {

struct BfvContextState {
  explicit BfvContextState(std::shared_ptr<bfv::Context> c) : ctx(std::move(c)), evaluator(*ctx) {}
  std::shared_ptr<bfv::Context> ctx;
  bfv::Evaluator evaluator;
};

inline std::shared_ptr<BfvContextState> unwrap_bfv_context(const Napi::Value& v) {
  return unwrap<BfvContextState>(v, Kind::BfvContext);
}

// Registration of the BFV entry points (bfv*): context, encoder, load/save, keys and encryption; evaluator.
void register_bfv_object_functions(Napi::Env env, Napi::Object exports);
void register_bfv_evaluator_functions(Napi::Env env, Napi::Object exports);

inline void register_bfv(Napi::Env env, Napi::Object exports) {
  register_bfv_object_functions(env, exports);
  register_bfv_evaluator_functions(env, exports);
}

}  // namespace hefty::addon
