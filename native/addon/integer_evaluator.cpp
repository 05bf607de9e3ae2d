// BFV and BGV evaluator entry points (one implementation, instantiated per scheme): each operation is parsed on
// the JS thread into a closure over shared objects; `<prefix>Eval` runs it at once, `<prefix>EvalAsync` on a libuv
// worker (returning a promise).
#include <string>

#include "../rlwe/op_error.h"
#include "integer_handles.h"

namespace hefty::addon {

namespace {

using Result = std::shared_ptr<void>;
using Work = std::function<Result()>;

template <typename T>
Result boxed(T&& value) {
  return std::make_shared<std::decay_t<T>>(std::forward<T>(value));
}

std::shared_ptr<KeySet> unwrap_keys(const Napi::Value& v) { return unwrap<KeySet>(v, Kind::KeySwitch); }

double arg_integer(const Napi::CallbackInfo& info, std::size_t i, double low, double high) {
  const double v = arg_number(info, i);
  if (v != static_cast<double>(static_cast<std::int64_t>(v)) || v < low || v > high) {
    rlwe::fail("E_INVALID_ARGUMENT", "expected an integer in range");
  }
  return v;
}

// info: (op, ctx, operands...). Operands start at index 2.
template <typename S>
Work prepare(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || !info[0].IsString()) rlwe::fail("E_INVALID_ARGUMENT", "expected an operation name");
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  auto state = unwrap_integer_context<S>(info[1]);
  const typename S::Evaluator* ev = &state->evaluator;
  if (op == "multiplyMany") {
    if (!info[2].IsArray()) rlwe::fail("E_INVALID_ARGUMENT", "expected an array of ciphertexts");
    Napi::Array array = info[2].As<Napi::Array>();
    std::vector<std::shared_ptr<ckks::CkksCipher>> list;
    for (std::uint32_t i = 0; i < array.Length(); i++) list.push_back(unwrap_cipher(array.Get(i)));
    auto k = unwrap_keys(info[3]);
    return [state, ev, list, k] {
      std::vector<const rlwe::Cipher*> pointers;
      for (const auto& c : list) pointers.push_back(c.get());
      return boxed(ev->multiply_many(pointers, k->views));
    };
  }
  auto a = unwrap_cipher(info[2]);
  if (op == "negate") return [state, ev, a] { return boxed(ev->negate(*a)); };
  if (op == "square") return [state, ev, a] { return boxed(ev->square(*a)); };
  if (op == "modSwitchToNext") return [state, ev, a] { return boxed(ev->mod_switch_to_next(*a)); };
  if (op == "add" || op == "sub" || op == "multiply") {
    auto b = unwrap_cipher(info[3]);
    if (op == "add") return [state, ev, a, b] { return boxed(ev->add(*a, *b)); };
    if (op == "sub") return [state, ev, a, b] { return boxed(ev->sub(*a, *b)); };
    return [state, ev, a, b] { return boxed(ev->multiply(*a, *b)); };
  }
  if (op == "addPlain" || op == "subPlain" || op == "multiplyPlain") {
    auto p = unwrap_plain(info[3]);
    if (op == "addPlain") return [state, ev, a, p] { return boxed(ev->add_plain(*a, *p)); };
    if (op == "subPlain") return [state, ev, a, p] { return boxed(ev->sub_plain(*a, *p)); };
    return [state, ev, a, p] { return boxed(ev->multiply_plain(*a, *p)); };
  }
  if (op == "relinearize") {
    auto k = unwrap_keys(info[3]);
    return [state, ev, a, k] { return boxed(ev->relinearize(*a, k->views)); };
  }
  if (op == "rotateRows") {
    const int steps = static_cast<int>(arg_integer(info, 3, -2147483648.0, 2147483647.0));
    auto k = unwrap_keys(info[4]);
    return [state, ev, a, k, steps] { return boxed(ev->rotate_rows(*a, steps, k->views)); };
  }
  if (op == "rotateColumns") {
    auto k = unwrap_keys(info[3]);
    return [state, ev, a, k] { return boxed(ev->rotate_columns(*a, k->views)); };
  }
  if (op == "applyGalois") {
    const auto elt = static_cast<std::uint32_t>(arg_integer(info, 3, 0, 4294967295.0));
    auto k = unwrap_keys(info[4]);
    return [state, ev, a, k, elt] { return boxed(ev->apply_galois(*a, elt, k->views)); };
  }
  if (op == "modSwitchTo") {
    const ckks::ParmsId target = arg_parms_id(info, 3);
    return [state, ev, a, target] { return boxed(ev->mod_switch_to(*a, target)); };
  }
  if (op == "exponentiate") {
    const auto exponent = static_cast<std::uint64_t>(arg_integer(info, 3, 0, 4294967295.0));
    auto k = unwrap_keys(info[4]);
    return [state, ev, a, k, exponent] { return boxed(ev->exponentiate(*a, exponent, k->views)); };
  }
  rlwe::fail("E_INVALID_ARGUMENT", "unknown evaluator operation " + op);
}

template <typename S>
Napi::Value eval(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return wrap(info.Env(), Kind::Cipher, prepare<S>(info)()); });
}

template <typename S>
Napi::Value eval_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return run_async(info.Env(), Kind::Cipher, prepare<S>(info)); });
}

}  // namespace

template <typename S>
void register_integer_evaluator_functions(Napi::Env env, Napi::Object exports) {
  const std::string p = S::prefix;
  exports.Set(p + "Eval", Napi::Function::New(env, eval<S>));
  exports.Set(p + "EvalAsync", Napi::Function::New(env, eval_async<S>));
}

template void register_integer_evaluator_functions<BfvScheme>(Napi::Env, Napi::Object);
template void register_integer_evaluator_functions<BgvScheme>(Napi::Env, Napi::Object);

}  // namespace hefty::addon
