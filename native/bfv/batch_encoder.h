// SEAL's BatchEncoder (spec §9.2): N integer slots as a 2 × N/2 matrix, mapped to NTT positions modulo t so
// that slot-wise products are plaintext products and Galois elements rotate rows or swap them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "context.h"

namespace hefty::bfv {

// Encodes `count` (<= N) residues below t; missing slots are zero. Throws E_UNSUPPORTED without batching.
Plain batch_encode(const Context& ctx, const std::uint64_t* values, std::size_t count);
// Decodes a plaintext (coeff_count <= N, parms_id zero) to N residues below t.
void batch_decode(const Context& ctx, const Plain& plain, std::uint64_t* values);

// A plaintext's validity for BFV (non-NTT, coeff_count <= N, coefficients below t): E_INVALID_ARGUMENT if not.
void check_plain(const Context& ctx, const Plain& plain);

}  // namespace hefty::bfv
