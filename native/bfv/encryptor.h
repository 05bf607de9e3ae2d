// BFV encryption and decryption (spec §7.2, §7.3, §9.3, §9.4). Ciphertexts are in coefficient form at the first
// data level; keys are the rlwe layer's (NTT form at the key level), shared with CKKS.
#pragma once
#include <cstdint>

#include "../rlwe/randomness.h"
#include "context.h"

namespace hefty::bfv {

// Symmetric encryption. Without `seed_out`: c1 = INTT(a) for the uniform a read as NTT values (SEAL's full
// form). With it: c1 = a read as coefficients, and the seed of a is written there (SEAL's seeded form).
Cipher encrypt_symmetric(const Context& ctx, const std::vector<std::uint64_t>& secret, const Plain& plain,
                         rlwe::Seed* seed_out);
// Public-key encryption with pk (2 polys, K rows, NTT form).
Cipher encrypt_public(const Context& ctx, const std::vector<std::uint64_t>& pk, const Plain& plain);
// m = round(t/Q · (c0 + c1·s + ...)) mod t, trailing zeros trimmed.
Plain decrypt(const Context& ctx, const std::vector<std::uint64_t>& secret, const Cipher& ct);
// SEAL's invariant noise budget in bits (0 when decryption is no longer correct).
int invariant_noise_budget(const Context& ctx, const std::vector<std::uint64_t>& secret, const Cipher& ct);

}  // namespace hefty::bfv
