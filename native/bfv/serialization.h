// SEAL 4.1 wire format for the BFV objects (spec §1), uncompressed (compression is handled in JavaScript).
// Loaders validate every count against the context before allocating and raise E_BAD_SERIALIZATION.
// Plaintexts, secret keys and key-switching keys share the CKKS writers (their layout is scheme-free).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../ckks/serialization.h"
#include "../rlwe/randomness.h"
#include "context.h"

namespace hefty::bfv {

using KSwitchKeys = ckks::KSwitchKeys;

std::size_t save_ciphertext(const Context& ctx, const Cipher& ct, std::uint8_t* out);
// Seeded symmetric ciphertext: c0 plus the seed of c1 (coefficient form).
std::size_t save_ciphertext_seeded(const Context& ctx, const Cipher& ct, const rlwe::Seed& seed, std::uint8_t* out);

// A ciphertext at a data level (any NTT flag; operations check it), or with `public_key` a size-2 NTT-form
// ciphertext at the key level.
Cipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool public_key);
// A BFV plaintext: zero parms_id, coeff_count <= N, coefficients below t.
Plain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size);
// A secret key: NTT form at the key level, K·N residues.
Plain load_secret_key(const Context& ctx, const std::uint8_t* bytes, std::size_t size);
KSwitchKeys load_kswitch_keys(const Context& ctx, const std::uint8_t* bytes, std::size_t size);

}  // namespace hefty::bfv
