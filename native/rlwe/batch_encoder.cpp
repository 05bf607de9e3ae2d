#include "batch_encoder.h"

#include <algorithm>

#include "../seal/primes.h"
#include "op_error.h"

namespace hefty::rlwe {

namespace {

void require_batching(const PlainSpace& space) {
  if (!space.batching()) fail("E_UNSUPPORTED", "batching needs a prime plain modulus that is 1 mod 2N");
}

std::uint32_t reverse_bits(std::uint32_t x, int bits) {
  std::uint32_t r = 0;
  for (int b = 0; b < bits; b++) r |= ((x >> b) & 1u) << (bits - 1 - b);
  return r;
}

}  // namespace

PlainSpace::PlainSpace(std::size_t n, u64 t) : n_(n), t_(t) {
  if (!seal::is_prime(t) || (t - 1) % (2 * n) != 0) return;
  ntt_ = std::make_unique<RingTools>(n, std::vector<u64>{t});
  int log_n = 0;
  while ((std::size_t{1} << log_n) < n) log_n++;
  const u64 m = 2 * n;
  const std::size_t row = n / 2;
  slot_positions_.resize(n);
  u64 power = 1;
  for (std::size_t j = 0; j < row; j++) {
    slot_positions_[j] = reverse_bits(static_cast<std::uint32_t>((power - 1) / 2), log_n);
    slot_positions_[row + j] = reverse_bits(static_cast<std::uint32_t>((m - power - 1) / 2), log_n);
    power = power * 3 % m;
  }
}

void check_plain(const PlainSpace& space, const Plain& plain) {
  if (plain.parms_id != seal::ParmsId{}) fail("E_INVALID_ARGUMENT", "BFV and BGV plaintexts cannot be in NTT form");
  if (plain.data.size() > space.n()) fail("E_INVALID_ARGUMENT", "plaintext has too many coefficients");
  const u64 t = space.t();
  if (std::any_of(plain.data.begin(), plain.data.end(), [t](u64 c) { return c >= t; })) {
    fail("E_INVALID_ARGUMENT", "plaintext coefficient is not below the plain modulus");
  }
}

Plain batch_encode(const PlainSpace& space, const u64* values, std::size_t count) {
  require_batching(space);
  const std::size_t n = space.n();
  if (count > n) fail("E_LENGTH_MISMATCH", "too many values for the slot count");
  Plain pt{seal::ParmsId{}, 1.0, Words(n, 0)};
  const std::vector<std::uint32_t>& positions = space.slot_positions();
  const u64 t = space.t();
  for (std::size_t k = 0; k < count; k++) {
    if (values[k] >= t) fail("E_VALUE_OUT_OF_RANGE", "value is not below the plain modulus");
    pt.data[positions[k]] = values[k];
  }
  space.ntt().ntt_inverse(pt.data.data(), 0);
  return pt;
}

void batch_decode(const PlainSpace& space, const Plain& plain, u64* values) {
  require_batching(space);
  check_plain(space, plain);
  const std::size_t n = space.n();
  std::vector<u64> coeffs(n, 0);
  std::copy(plain.data.begin(), plain.data.end(), coeffs.begin());
  space.ntt().ntt_forward(coeffs.data(), 0);
  const std::vector<std::uint32_t>& positions = space.slot_positions();
  for (std::size_t k = 0; k < n; k++) values[k] = coeffs[positions[k]];
}

}  // namespace hefty::rlwe
