// libFuzzer target: the BGV loaders (rlwe/serialization with BGV's rules) in a BGV context (N = 64,
// CoeffModulus::Create(64, {40, 40, 40}), t = PlainModulus::Batching(64, 17): the small fixed-seed vectors'
// parameters). The first byte picks the loader: 0 plaintext, 1 ciphertext, 2 secret key, 3 public key,
// 4 key-switching keys; every accepted object must re-save stably. Accepted plaintexts and ciphertexts also go
// through decoding, decryption and evaluator ops (correction factors included), which must either succeed or
// throw OpError.
#include "../../bgv/context.h"
#include "../../bgv/encryptor.h"
#include "../../bgv/evaluator.h"
#include "../../bgv/serialization.h"
#include "../../rlwe/batch_encoder.h"
#include "../../rlwe/keys.h"
#include "fuzz_common.h"

using namespace hefty;

namespace {

const bgv::Context& bgv_context() {
  static const bgv::Context ctx(64, seal::coeff_modulus_create(64, {40, 40, 40}), seal::plain_modulus_batching(64, 17));
  return ctx;
}

const rlwe::Words& secret_key() {
  static const rlwe::Words sk = rlwe::generate_secret(bgv_context().ring(), bgv_context().randomness());
  return sk;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bgv::Context& ctx = bgv_context();
  const rlwe::WireContext wire = bgv::wire(ctx);
  const std::uint8_t* body = data + 1;
  const std::size_t length = size - 1;
  const auto save_cipher = [&](const bgv::Cipher& c, std::uint8_t* out) { return rlwe::save_ciphertext(wire, c, out); };
  const auto save_plain = [](const bgv::Plain& p, std::uint8_t* out) { return rlwe::save_plaintext(p, out); };
  switch (data[0] % 5) {
    case 0:
      fuzz::check_loader<bgv::Plain>(
          body, length, save_plain,
          [&](const std::uint8_t* d, std::size_t s) {
            bgv::Plain p = rlwe::load_plaintext(wire, d, s);
            std::vector<std::uint64_t> slots(ctx.n());
            fuzz::exercise([&] { rlwe::batch_decode(ctx.plain_space(), p, slots.data()); });
            return p;
          },
          "bgv plaintext");
      break;
    case 1:
      fuzz::check_loader<bgv::Cipher>(
          body, length, save_cipher,
          [&](const std::uint8_t* d, std::size_t s) {
            bgv::Cipher c = rlwe::load_ciphertext(wire, d, s, false);
            const bgv::Evaluator ev(ctx);
            fuzz::exercise([&] { ev.multiply(c, c); });
            fuzz::exercise([&] { ev.add(c, ev.mod_switch_to_next(c)); });
            fuzz::exercise([&] { ev.add(ev.mod_switch_to_next(ev.multiply(c, c)), ev.mod_switch_to_next(c)); });
            fuzz::exercise([&] { bgv::decrypt(ctx, secret_key(), c); });
            fuzz::exercise([&] { bgv::invariant_noise_budget(ctx, secret_key(), c); });
            return c;
          },
          "bgv ciphertext");
      break;
    case 2:
      fuzz::check_loader<bgv::Plain>(
          body, length, save_plain,
          [&](const std::uint8_t* d, std::size_t s) { return rlwe::load_secret_key(wire, d, s); }, "bgv secret key");
      break;
    case 3:
      fuzz::check_loader<bgv::Cipher>(
          body, length, save_cipher,
          [&](const std::uint8_t* d, std::size_t s) { return rlwe::load_ciphertext(wire, d, s, true); }, "bgv public key");
      break;
    default:
      fuzz::check_loader<rlwe::KSwitchKeys>(
          body, length,
          [&](const rlwe::KSwitchKeys& k, std::uint8_t* out) { return rlwe::save_kswitch_keys(k, ctx.n(), out); },
          [&](const std::uint8_t* d, std::size_t s) { return rlwe::load_kswitch_keys(wire, d, s); }, "bgv keys");
      break;
  }
  return 0;
}
