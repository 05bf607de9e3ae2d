// Evaluator entry points. Every operation is parsed on the JS thread into a closure over shared objects;
// `ckksEval` runs it at once, `ckksEvalAsync` runs it on a libuv worker and returns a promise.
#include <string>

#include "../rlwe/op_error.h"
#include "ckks_handles.h"

namespace hefty::addon {

namespace {

using Result = std::shared_ptr<void>;
using Work = std::function<Result()>;

struct Prepared {
  Kind kind;
  Work work;
};

template <typename T>
Result boxed(T&& value) {
  return std::make_shared<std::decay_t<T>>(std::forward<T>(value));
}

std::shared_ptr<KeySet> unwrap_keys(const Napi::Value& v) { return unwrap<KeySet>(v, Kind::KeySwitch); }

std::int32_t arg_int(const Napi::CallbackInfo& info, std::size_t i) {
  const double v = arg_number(info, i);
  if (v != static_cast<double>(static_cast<std::int64_t>(v)) || v < -2147483648.0 || v > 4294967295.0) {
    rlwe::fail("E_INVALID_ARGUMENT", "expected an integer");
  }
  return static_cast<std::int32_t>(static_cast<std::int64_t>(v));
}

// info: (op, ctx, operands...). Operands start at index 2.
Prepared prepare(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || !info[0].IsString()) rlwe::fail("E_INVALID_ARGUMENT", "expected an operation name");
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  auto state = unwrap_context(info[1]);
  const ckks::Evaluator* ev = &state->evaluator;
  auto a = op.rfind("plain", 0) == 0 ? nullptr : unwrap_cipher(info[2]);
  const Kind cipher = Kind::Cipher;
  if (op == "negate") return {cipher, [state, ev, a] { return boxed(ev->negate(*a)); }};
  if (op == "square") return {cipher, [state, ev, a] { return boxed(ev->square(*a)); }};
  if (op == "rescaleToNext") return {cipher, [state, ev, a] { return boxed(ev->rescale_to_next(*a)); }};
  if (op == "modSwitchToNext") return {cipher, [state, ev, a] { return boxed(ev->mod_switch_to_next(*a)); }};
  if (op == "add" || op == "sub" || op == "multiply") {
    auto b = unwrap_cipher(info[3]);
    if (op == "add") return {cipher, [state, ev, a, b] { return boxed(ev->add(*a, *b)); }};
    if (op == "sub") return {cipher, [state, ev, a, b] { return boxed(ev->sub(*a, *b)); }};
    return {cipher, [state, ev, a, b] { return boxed(ev->multiply(*a, *b)); }};
  }
  if (op == "addPlain" || op == "subPlain" || op == "multiplyPlain") {
    auto p = unwrap_plain(info[3]);
    if (op == "addPlain") return {cipher, [state, ev, a, p] { return boxed(ev->add_plain(*a, *p)); }};
    if (op == "subPlain") return {cipher, [state, ev, a, p] { return boxed(ev->sub_plain(*a, *p)); }};
    return {cipher, [state, ev, a, p] { return boxed(ev->multiply_plain(*a, *p)); }};
  }
  if (op == "relinearize") {
    auto k = unwrap_keys(info[3]);
    return {cipher, [state, ev, a, k] { return boxed(ev->relinearize(*a, k->views)); }};
  }
  if (op == "rotateVector") {
    const std::int32_t steps = arg_int(info, 3);
    auto k = unwrap_keys(info[4]);
    return {cipher, [state, ev, a, k, steps] { return boxed(ev->rotate_vector(*a, steps, k->views)); }};
  }
  if (op == "applyGalois") {
    const auto elt = static_cast<std::uint32_t>(arg_int(info, 3));
    auto k = unwrap_keys(info[4]);
    return {cipher, [state, ev, a, k, elt] { return boxed(ev->apply_galois(*a, elt, k->views)); }};
  }
  if (op == "complexConjugate") {
    auto k = unwrap_keys(info[3]);
    return {cipher, [state, ev, a, k] { return boxed(ev->complex_conjugate(*a, k->views)); }};
  }
  if (op == "modSwitchTo") {
    const ckks::ParmsId target = arg_parms_id(info, 3);
    return {cipher, [state, ev, a, target] { return boxed(ev->mod_switch_to(*a, target)); }};
  }
  if (op == "plainModSwitchToNext" || op == "plainModSwitchTo") {
    auto p = unwrap_plain(info[2]);
    if (op == "plainModSwitchToNext") return {Kind::Plain, [state, ev, p] { return boxed(ev->mod_switch_plain_to_next(*p)); }};
    const ckks::ParmsId target = arg_parms_id(info, 3);
    return {Kind::Plain, [state, ev, p, target] { return boxed(ev->mod_switch_plain_to(*p, target)); }};
  }
  rlwe::fail("E_INVALID_ARGUMENT", "unknown evaluator operation " + op);
}

Napi::Value eval(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Prepared p = prepare(info);
    return wrap(info.Env(), p.kind, p.work());
  });
}

Napi::Value eval_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Prepared p = prepare(info);
    return run_async(info.Env(), p.kind, std::move(p.work));
  });
}

}  // namespace

void register_evaluator_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("ckksEval", Napi::Function::New(env, eval));
  exports.Set("ckksEvalAsync", Napi::Function::New(env, eval_async));
}

}  // namespace hefty::addon
