// How the integer schemes (BFV and BGV) travel through JavaScript: a context is a handle of kind BfvContext or
// BgvContext holding the scheme's context and evaluator; ciphertexts, plaintexts and keys use the same kinds and
// layouts as CKKS, so the generic entry points (info, copy, key indices, dispose) serve every scheme. One
// implementation of the entry points (integer_objects.cpp, integer_evaluator.cpp) is instantiated per scheme.
#pragma once
#include <napi.h>

#include <memory>
#include <utility>

#include "../bfv/context.h"
#include "../bfv/encryptor.h"
#include "../bfv/evaluator.h"
#include "../bfv/serialization.h"
#include "../bgv/context.h"
#include "../bgv/encryptor.h"
#include "../bgv/evaluator.h"
#include "../bgv/serialization.h"
#include "ckks_handles.h"
#include "key_sets.h"

namespace hefty::addon {

template <typename Scheme>
struct IntegerContextState {
  explicit IntegerContextState(std::shared_ptr<typename Scheme::Context> c) : ctx(std::move(c)), evaluator(*ctx) {}
  std::shared_ptr<typename Scheme::Context> ctx;
  typename Scheme::Evaluator evaluator;
};

// What differs between the two schemes at the glue level: names, handle kind, the noise factor of keys (t for
// BGV) and the scheme's encryptor.
struct BfvScheme {
  using Context = bfv::Context;
  using Evaluator = bfv::Evaluator;
  static constexpr const char* prefix = "bfv";
  static constexpr Kind kind = Kind::BfvContext;
  static std::uint64_t noise_factor(const Context&) { return 1; }
  static rlwe::WireContext wire(const Context& ctx) { return bfv::wire(ctx); }
  static rlwe::Cipher encrypt_public(const Context& c, const rlwe::Words& pk, const rlwe::Plain& p) { return bfv::encrypt_public(c, pk, p); }
  static rlwe::Cipher encrypt_symmetric(const Context& c, const rlwe::Words& sk, const rlwe::Plain& p, rlwe::Seed* seed) {
    return bfv::encrypt_symmetric(c, sk, p, seed);
  }
  static rlwe::Plain decrypt(const Context& c, const rlwe::Words& sk, const rlwe::Cipher& ct) { return bfv::decrypt(c, sk, ct); }
  static int noise_budget(const Context& c, const rlwe::Words& sk, const rlwe::Cipher& ct) {
    return bfv::invariant_noise_budget(c, sk, ct);
  }
};

struct BgvScheme {
  using Context = bgv::Context;
  using Evaluator = bgv::Evaluator;
  static constexpr const char* prefix = "bgv";
  static constexpr Kind kind = Kind::BgvContext;
  static std::uint64_t noise_factor(const Context& ctx) { return ctx.plain_modulus(); }
  static rlwe::WireContext wire(const Context& ctx) { return bgv::wire(ctx); }
  static rlwe::Cipher encrypt_public(const Context& c, const rlwe::Words& pk, const rlwe::Plain& p) { return bgv::encrypt_public(c, pk, p); }
  static rlwe::Cipher encrypt_symmetric(const Context& c, const rlwe::Words& sk, const rlwe::Plain& p, rlwe::Seed* seed) {
    return bgv::encrypt_symmetric(c, sk, p, seed);
  }
  static rlwe::Plain decrypt(const Context& c, const rlwe::Words& sk, const rlwe::Cipher& ct) { return bgv::decrypt(c, sk, ct); }
  static int noise_budget(const Context& c, const rlwe::Words& sk, const rlwe::Cipher& ct) {
    return bgv::invariant_noise_budget(c, sk, ct);
  }
};

template <typename Scheme>
std::shared_ptr<IntegerContextState<Scheme>> unwrap_integer_context(const Napi::Value& v) {
  return unwrap<IntegerContextState<Scheme>>(v, Scheme::kind);
}

// Registration of one scheme's entry points (<prefix>ContextCreate, ... <prefix>Eval, <prefix>EvalAsync).
template <typename Scheme>
void register_integer_object_functions(Napi::Env env, Napi::Object exports);
template <typename Scheme>
void register_integer_evaluator_functions(Napi::Env env, Napi::Object exports);

inline void register_integer_schemes(Napi::Env env, Napi::Object exports) {
  register_integer_object_functions<BfvScheme>(env, exports);
  register_integer_evaluator_functions<BfvScheme>(env, exports);
  register_integer_object_functions<BgvScheme>(env, exports);
  register_integer_evaluator_functions<BgvScheme>(env, exports);
}

}  // namespace hefty::addon
