// libFuzzer target: the BFV loaders (native/bfv/serialization) in a BFV context (N = 64, CoeffModulus::Create(64,
// {40, 40, 40}), t = PlainModulus::Batching(64, 17): the spec's small BFV vectors). The first byte picks the
// loader: 0 plaintext, 1 ciphertext, 2 secret key, 3 public key, 4 key-switching keys; every accepted object must
// re-save stably. Accepted plaintexts and ciphertexts also go through decoding and an evaluator op, which must
// either succeed or throw OpError.
#include "../../rlwe/batch_encoder.h"
#include "../../bfv/context.h"
#include "../../bfv/evaluator.h"
#include "../../bfv/serialization.h"
#include "fuzz_common.h"

using namespace hefty;

namespace {

const bfv::Context& bfv_context() {
  static const bfv::Context ctx(64, seal::coeff_modulus_create(64, {40, 40, 40}), seal::plain_modulus_batching(64, 17));
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bfv::Context& ctx = bfv_context();
  const std::uint8_t* body = data + 1;
  const std::size_t length = size - 1;
  switch (data[0] % 5) {
    case 0:
      fuzz::check_loader<bfv::Plain>(
          body, length, [](const bfv::Plain& p, std::uint8_t* out) { return rlwe::save_plaintext(p, out); },
          [&](const std::uint8_t* d, std::size_t s) {
            bfv::Plain p = bfv::load_plaintext(ctx, d, s);
            std::vector<std::uint64_t> slots(ctx.n());
            fuzz::exercise([&] { rlwe::batch_decode(ctx.plain_space(), p, slots.data()); });
            return p;
          },
          "bfv plaintext");
      break;
    case 1:
      fuzz::check_loader<bfv::Cipher>(
          body, length, [&](const bfv::Cipher& c, std::uint8_t* out) { return bfv::save_ciphertext(ctx, c, out); },
          [&](const std::uint8_t* d, std::size_t s) {
            bfv::Cipher c = bfv::load_ciphertext(ctx, d, s, false);
            const bfv::Evaluator ev(ctx);
            fuzz::exercise([&] { ev.multiply(c, c); });
            fuzz::exercise([&] { ev.mod_switch_to_next(c); });
            return c;
          },
          "bfv ciphertext");
      break;
    case 2:
      fuzz::check_loader<bfv::Plain>(
          body, length, [](const bfv::Plain& p, std::uint8_t* out) { return rlwe::save_plaintext(p, out); },
          [&](const std::uint8_t* d, std::size_t s) { return bfv::load_secret_key(ctx, d, s); }, "bfv secret key");
      break;
    case 3:
      fuzz::check_loader<bfv::Cipher>(
          body, length, [&](const bfv::Cipher& c, std::uint8_t* out) { return bfv::save_ciphertext(ctx, c, out); },
          [&](const std::uint8_t* d, std::size_t s) { return bfv::load_ciphertext(ctx, d, s, true); }, "bfv public key");
      break;
    default:
      fuzz::check_loader<bfv::KSwitchKeys>(
          body, length,
          [&](const bfv::KSwitchKeys& k, std::uint8_t* out) { return rlwe::save_kswitch_keys(k, ctx.n(), out); },
          [&](const std::uint8_t* d, std::size_t s) { return bfv::load_kswitch_keys(ctx, d, s); }, "bfv keys");
      break;
  }
  return 0;
}
