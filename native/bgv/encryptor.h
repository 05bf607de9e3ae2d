// BGV encryption and decryption (SPEC.md §3, §4). Ciphertexts are in NTT form at the first data level; their
// noise is a multiple of t. Keys are the rlwe layer's, made with noise t·e (rlwe::generate_kswitch_key and
// rlwe::encrypt_zero_symmetric with noise factor t).
#pragma once
#include <cstdint>

#include "../rlwe/randomness.h"
#include "context.h"

namespace hefty::bgv {

// Symmetric encryption: c1 = a (uniform, read as NTT values), c0 = -(a·s + t·e) + NTT(lift(m)). With
// `seed_out` the seed a expands from is written there (SEAL's seeded form keeps c0 and that seed).
Cipher encrypt_symmetric(const Context& ctx, const rlwe::Words& secret, const Plain& plain, rlwe::Seed* seed_out);
// Public-key encryption with pk (2 polys, K rows, NTT form): at the level above, then divided exactly.
Cipher encrypt_public(const Context& ctx, const rlwe::Words& pk, const Plain& plain);
// m = [c0 + c1·s + ...]_Q mod t, times the inverse of the correction factor; trailing zeros trimmed.
Plain decrypt(const Context& ctx, const rlwe::Words& secret, const Cipher& ct);
// SEAL's invariant noise budget for BGV in bits (0 when decryption is no longer correct).
int invariant_noise_budget(const Context& ctx, const rlwe::Words& secret, const Cipher& ct);

}  // namespace hefty::bgv
