#include "batch_encoder.h"

#include <algorithm>

#include "../rlwe/op_error.h"

namespace hefty::bfv {

using rlwe::fail;

namespace {

void require_batching(const Context& ctx) {
  if (!ctx.batching()) fail("E_UNSUPPORTED", "batching needs a prime plain modulus that is 1 mod 2N");
}

}  // namespace

void check_plain(const Context& ctx, const Plain& plain) {
  if (plain.parms_id != ParmsId{}) fail("E_INVALID_ARGUMENT", "BFV plaintexts cannot be in NTT form");
  if (plain.data.size() > ctx.n()) fail("E_INVALID_ARGUMENT", "plaintext has too many coefficients");
  const std::uint64_t t = ctx.plain_modulus();
  if (std::any_of(plain.data.begin(), plain.data.end(), [t](std::uint64_t c) { return c >= t; })) {
    fail("E_INVALID_ARGUMENT", "plaintext coefficient is not below the plain modulus");
  }
}

Plain batch_encode(const Context& ctx, const std::uint64_t* values, std::size_t count) {
  require_batching(ctx);
  const std::size_t n = ctx.n();
  if (count > n) fail("E_LENGTH_MISMATCH", "too many values for the slot count");
  Plain pt{ParmsId{}, 1.0, std::vector<std::uint64_t>(n, 0)};
  const std::vector<std::uint32_t>& positions = ctx.slot_positions();
  const std::uint64_t t = ctx.plain_modulus();
  for (std::size_t k = 0; k < count; k++) {
    if (values[k] >= t) fail("E_VALUE_OUT_OF_RANGE", "value is not below the plain modulus");
    pt.data[positions[k]] = values[k];
  }
  ctx.plain_ring().ntt_inverse(pt.data.data(), 0);
  return pt;
}

void batch_decode(const Context& ctx, const Plain& plain, std::uint64_t* values) {
  require_batching(ctx);
  check_plain(ctx, plain);
  const std::size_t n = ctx.n();
  std::vector<std::uint64_t> coeffs(n, 0);
  std::copy(plain.data.begin(), plain.data.end(), coeffs.begin());
  ctx.plain_ring().ntt_forward(coeffs.data(), 0);
  const std::vector<std::uint32_t>& positions = ctx.slot_positions();
  for (std::size_t k = 0; k < n; k++) values[k] = coeffs[positions[k]];
}

}  // namespace hefty::bfv
