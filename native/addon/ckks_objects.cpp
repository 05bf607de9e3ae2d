// Plaintexts and ciphertexts: encoding, metadata, copies, and SEAL-format load/save of every object kind.
#include <cmath>
#include <cstring>

#include "../rlwe/op_error.h"
#include "../rlwe/thread_pool.h"
#include "ckks_handles.h"
#include "wire_objects.h"

namespace hefty::addon {

namespace {

using rlwe::u64;

// The level an encoding targets: the given parms_id, or the first data level.
const ckks::Level& encode_level(const ckks::Context& ctx, const Napi::CallbackInfo& info, std::size_t i) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return ctx.first_data_level();
  const ckks::Level* level = ctx.chain().find(arg_parms_id(info, i));
  if (level == nullptr) rlwe::fail("E_PARAMS_MISMATCH", "parms_id is not valid for encryption parameters");
  if (level == &ctx.chain().key_level() && ctx.chain().has_key_switching()) rlwe::fail("E_PARAMS_MISMATCH", "cannot encode at the key level");
  return *level;
}

Napi::Value encode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    const ckks::Context& ctx = *state->ctx;
    if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      rlwe::fail("E_INVALID_ARGUMENT", "values must be a Float64Array");
    }
    Napi::Float64Array values = info[1].As<Napi::Float64Array>();
    const double scale = arg_number(info, 2);
    const ckks::Level& level = encode_level(ctx, info, 3);
    const std::size_t n = ctx.n();
    const std::size_t count = values.ElementLength();
    if (count > n / 2) rlwe::fail("E_LENGTH_MISMATCH", "too many values for the slot count");
    std::vector<ckks::Complex> slots(count);
    for (std::size_t i = 0; i < count; i++) slots[i] = {values[i], 0.0};
    ckks::CkksPlain pt{level.parms_id, scale, rlwe::Words(level.prime_count * n)};
    ctx.encoder().encode(slots.data(), count, scale, ctx.primes().data(), level.prime_count, level.total_bits, pt.data.data());
    rlwe::parallel_for(level.prime_count, [&](std::size_t j) { ctx.ring().ntt_forward(pt.data.data() + j * n, j); });
    return wrap_value(info.Env(), Kind::Plain, std::move(pt));
  });
}

// SEAL's scalar encoding: the constant polynomial round(x·Δ), whose NTT is that constant in every slot.
Napi::Value encode_scalar(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    const ckks::Context& ctx = *state->ctx;
    const double value = arg_number(info, 1);
    const double scale = arg_number(info, 2);
    const ckks::Level& level = encode_level(ctx, info, 3);
    if (!std::isfinite(value)) rlwe::fail("E_NOT_FINITE", "value must be finite");
    if (!(scale > 0) || !std::isfinite(scale) || static_cast<int>(std::log2(scale)) >= level.total_bits) {
      rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
    }
    const double scaled = value * scale;
    if (scaled != 0 && static_cast<int>(std::log2(std::fabs(scaled))) + 2 >= level.total_bits) {
      rlwe::fail("E_VALUE_OUT_OF_RANGE", "encoded value is too large");
    }
    const double rounded = std::round(scaled);
    const std::size_t n = ctx.n();
    ckks::CkksPlain pt{level.parms_id, scale, rlwe::Words(level.prime_count * n)};
    std::vector<u64> residues(level.prime_count);
    ctx.encoder().rns_base(ctx.primes().data(), level.prime_count).decompose(&rounded, 1, residues.data());
    for (std::size_t j = 0; j < level.prime_count; j++) {
      std::fill(pt.data.begin() + j * n, pt.data.begin() + (j + 1) * n, residues[j]);
    }
    return wrap_value(info.Env(), Kind::Plain, std::move(pt));
  });
}

Napi::Value decode(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto state = unwrap_context(info[0]);
    auto pt = unwrap_plain(info[1]);
    const ckks::Context& ctx = *state->ctx;
    const ckks::Level& level = state->evaluator.level_of(*pt);
    if (!(pt->scale > 0) || static_cast<int>(std::log2(pt->scale)) >= level.total_bits) rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
    const std::size_t n = ctx.n();
    std::vector<u64> rows(pt->data.begin(), pt->data.end());
    rlwe::parallel_for(level.prime_count, [&](std::size_t j) { ctx.ring().ntt_inverse(rows.data() + j * n, j); });
    std::vector<ckks::Complex> slots(n / 2);
    ctx.encoder().decode(rows.data(), ctx.primes().data(), level.prime_count, pt->scale, slots.data());
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), n / 2);
    for (std::size_t i = 0; i < n / 2; i++) out[i] = slots[i].re;
    return out;
  });
}

Napi::Value cipher_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto ct = unwrap_cipher(info[0]);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("parmsId", to_u64_array(env, ct->parms_id.data(), 4));
    o.Set("size", Napi::Number::New(env, static_cast<double>(ct->size)));
    o.Set("scale", Napi::Number::New(env, ct->scale));
    o.Set("isNttForm", Napi::Boolean::New(env, ct->ntt_form));
    return o;
  });
}

Napi::Value cipher_with_scale(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    ckks::CkksCipher copy = *unwrap_cipher(info[0]);
    if (info.Length() > 1 && !info[1].IsUndefined()) {
      const double scale = arg_number(info, 1);
      if (!(scale > 0) || !std::isfinite(scale)) rlwe::fail("E_SCALE_OUT_OF_BOUNDS", "invalid scale");
      copy.scale = scale;
    }
    return wrap_value(info.Env(), Kind::Cipher, std::move(copy));
  });
}

Napi::Value save(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return save_object(info, ckks::wire(*unwrap_context(info[0])->ctx)); });
}

Napi::Value load(const Napi::CallbackInfo& info) {
  return guarded(info, [&] { return load_object(info, ckks::wire(*unwrap_context(info[0])->ctx)); });
}

// Indices i with a non-empty key (galois element 2i + 1; relin power i + 2).
Napi::Value key_indices(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto set = unwrap<KeySet>(info[0], Kind::KeySwitch);
    std::vector<std::uint32_t> present;
    for (std::size_t i = 0; i < set->views.keys.size(); i++) {
      if (set->views.has(i)) present.push_back(static_cast<std::uint32_t>(i));
    }
    Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), present.size());
    for (std::size_t i = 0; i < present.size(); i++) out[i] = present[i];
    return out;
  });
}

}  // namespace

void register_object_functions(Napi::Env env, Napi::Object exports) {
  exports.Set("ckksEncode", Napi::Function::New(env, encode));
  exports.Set("ckksEncodeScalar", Napi::Function::New(env, encode_scalar));
  exports.Set("ckksDecode", Napi::Function::New(env, decode));
  exports.Set("ckksCipherInfo", Napi::Function::New(env, cipher_info));
  exports.Set("ckksCipherCopy", Napi::Function::New(env, cipher_with_scale));
  exports.Set("ckksSave", Napi::Function::New(env, save));
  exports.Set("ckksLoad", Napi::Function::New(env, load));
  exports.Set("ckksKeyIndices", Napi::Function::New(env, key_indices));
}

}  // namespace hefty::addon
