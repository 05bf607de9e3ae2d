// SEAL 4.1 wire format for the CKKS objects (spec §1): the shared writers and loaders of the rlwe layer, with
// CKKS's rules (ciphertexts and plaintexts in NTT form, a finite nonzero scale).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../rlwe/serialization.h"
#include "chain.h"
#include "context.h"

namespace hefty::ckks {

using rlwe::KSwitchKeys;
using rlwe::save_kswitch_keys;
using rlwe::save_kswitch_keys_seeded;
using rlwe::save_plaintext;

inline rlwe::WireContext wire(const Context& ctx) { return {seal::Scheme::Ckks, ctx.chain(), ctx.ring(), 0}; }

inline std::size_t save_ciphertext(const CkksCipher& ct, const Context& ctx, std::uint8_t* out) {
  return rlwe::save_ciphertext(wire(ctx), ct, out);
}
// Seeded form: c0 only plus prng info (type 1, Blake2xb); size field says 2.
inline std::size_t save_ciphertext_seeded(const ParmsId& parms_id, std::size_t n, std::size_t prime_count, double scale,
                                          const std::uint64_t* c0, const rlwe::Seed& seed, std::uint8_t* out) {
  return rlwe::save_ciphertext_seeded({parms_id, true, n, prime_count, scale, 1}, c0, seed, out);
}

// `key_level_allowed` is true for public keys only.
inline CkksCipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool key_level_allowed) {
  return rlwe::load_ciphertext(wire(ctx), bytes, size, key_level_allowed);
}
// `secret_key` selects the key level (secret keys) instead of a data level (plaintexts).
inline CkksPlain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool secret_key) {
  return secret_key ? rlwe::load_secret_key(wire(ctx), bytes, size) : rlwe::load_plaintext(wire(ctx), bytes, size);
}
inline KSwitchKeys load_kswitch_keys(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  return rlwe::load_kswitch_keys(wire(ctx), bytes, size);
}

}  // namespace hefty::ckks
