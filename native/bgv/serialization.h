// SEAL 4.1 wire format for the BGV objects (SPEC.md §2): the shared writers and loaders of the rlwe layer, with
// BGV's rules (scale 1, a correction factor in [1, t), plaintexts not in NTT form with coefficients below t).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../rlwe/serialization.h"
#include "context.h"

namespace hefty::bgv {

inline rlwe::WireContext wire(const Context& ctx) {
  return {seal::Scheme::Bgv, ctx.chain(), ctx.ring(), ctx.plain_modulus()};
}

}  // namespace hefty::bgv
