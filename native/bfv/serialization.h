// SEAL 4.1 wire format for the BFV objects (spec §1): the shared writers and loaders of the rlwe layer, with the
// rules of the integer schemes (scale 1, plaintexts not in NTT form with coefficients below t).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../rlwe/serialization.h"
#include "context.h"

namespace hefty::bfv {

using rlwe::KSwitchKeys;

inline rlwe::WireContext wire(const Context& ctx) {
  return {seal::Scheme::Bfv, ctx.chain(), ctx.ring(), ctx.plain_modulus()};
}

inline std::size_t save_ciphertext(const Context& ctx, const Cipher& ct, std::uint8_t* out) {
  return rlwe::save_ciphertext(wire(ctx), ct, out);
}
// A ciphertext at a data level (any NTT flag; operations check it), or with `public_key` a size-2 NTT-form
// ciphertext at the key level.
inline Cipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool public_key) {
  return rlwe::load_ciphertext(wire(ctx), bytes, size, public_key);
}
inline Plain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  return rlwe::load_plaintext(wire(ctx), bytes, size);
}
inline Plain load_secret_key(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  return rlwe::load_secret_key(wire(ctx), bytes, size);
}
inline KSwitchKeys load_kswitch_keys(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  return rlwe::load_kswitch_keys(wire(ctx), bytes, size);
}

}  // namespace hefty::bfv
