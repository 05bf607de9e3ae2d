// Evaluator entry points. Every operation is parsed on the JS thread into a closure over shared objects;
// `ckksEval` runs it at once, `ckksEvalAsync` runs it on a libuv worker and returns a promise.
#include <algorithm>
#include <string>
#include <vector>

#include "../rlwe/op_error.h"
#include "ckks_handles.h"

namespace hefty::addon {

namespace {

using Result = std::shared_ptr<void>;
using Work = std::function<Result()>;

struct Prepared {
  Kind kind;
  Work work;
  ToJs to_js = nullptr;  // set when the result is not one handle of `kind`
};

// What one call of a hoisted operation may return: 2 GiB of ciphertexts.
constexpr std::size_t kMaxHoistedResultBytes = std::size_t{1} << 31;

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

// Rotation steps for a hoisted rotation of `a`: an Int32Array of 1 or more steps whose results fit
// kMaxHoistedResultBytes. The steps themselves (range, keys) are the evaluator's checks.
std::vector<int> arg_hoisted_steps(const Napi::CallbackInfo& info, std::size_t i, const ckks::CkksCipher& a) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    rlwe::fail("E_INVALID_ARGUMENT", "expected the rotation steps as an Int32Array");
  }
  Napi::Int32Array steps = info[i].As<Napi::Int32Array>();
  const std::size_t count = steps.ElementLength();
  if (count == 0) rlwe::fail("E_INVALID_ARGUMENT", "no rotation steps");
  const std::size_t result_bytes = 2 * (a.data.size() / std::max<std::size_t>(a.size, 1)) * sizeof(std::uint64_t);
  if (count > kMaxHoistedResultBytes / std::max<std::size_t>(result_bytes, 1)) {
    rlwe::fail("E_INVALID_ARGUMENT", std::to_string(count) + " rotation steps: their results would exceed the 2 GiB one call may return");
  }
  return std::vector<int>(steps.Data(), steps.Data() + count);
}

// Each ciphertext of a result list as its own handle.
Napi::Value cipher_array(Napi::Env env, std::shared_ptr<void> result) {
  auto& list = *std::static_pointer_cast<std::vector<ckks::CkksCipher>>(result);
  Napi::Array out = Napi::Array::New(env, list.size());
  for (std::size_t i = 0; i < list.size(); i++) {
    out.Set(static_cast<std::uint32_t>(i), wrap_value(env, Kind::Cipher, std::move(list[i])));
  }
  return out;
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
  if (op == "rotateVectorHoisted") {
    std::vector<int> steps = arg_hoisted_steps(info, 3, *a);
    auto k = unwrap_keys(info[4]);
    return {cipher,
            [state, ev, a, k, steps = std::move(steps)] { return boxed(ev->rotate_vector_hoisted(*a, steps, k->views)); },
            cipher_array};
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
    if (p.to_js) return p.to_js(info.Env(), p.work());
    return wrap(info.Env(), p.kind, p.work());
  });
}

Napi::Value eval_async(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Prepared p = prepare(info);
    if (p.to_js) return run_async(info.Env(), std::move(p.to_js), std::move(p.work));
    return run_async(info.Env(), p.kind, std::move(p.work));
  });
}

}  // namespace

void register_evaluator_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("ckksEval", Napi::Function::New(env, eval));
  exports.Set("ckksEvalAsync", Napi::Function::New(env, eval_async));
}

}  // namespace hefty::addon
