#include "params.h"

#include <array>

#include "../rlwe/blake2xb.h"

namespace hefty::seal {

namespace {

constexpr std::uint64_t kMaxDegree = 131072;
constexpr std::uint64_t kMaxPrimes = 256;

void write_modulus(Writer& w, std::uint64_t value) {
  const std::size_t at = w.begin();
  w.u64(value);
  w.end(at);
}

std::uint64_t read_modulus(Reader& r) {
  const auto [end, major] = r.header();
  (void)major;
  const std::uint64_t value = r.u64();
  r.expect_end(end);
  if (value == 1 || value >= (std::uint64_t{1} << 61)) bad("a modulus must be 0 or in [2, 2^61)");
  return value;
}

// Whether the product of the primes exceeds t (BFV/BGV levels need Q_L > t).
bool product_exceeds(const std::uint64_t* primes, std::size_t count, std::uint64_t t) {
  unsigned __int128 product = 1;
  for (std::size_t i = 0; i < count; i++) {
    product *= primes[i];
    if (product > t) return true;
  }
  return false;
}

}  // namespace

std::size_t save_params(const EncryptionParameters& parms, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  w.u8(static_cast<std::uint8_t>(parms.scheme));
  w.u64(parms.n);
  w.u64(parms.coeff_modulus.size());
  for (std::uint64_t q : parms.coeff_modulus) write_modulus(w, q);
  write_modulus(w, parms.plain_modulus);
  w.end(at);
  return w.size();
}

EncryptionParameters load_params(const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const auto [end, major] = r.header();
  (void)major;
  EncryptionParameters parms;
  const std::uint8_t scheme = r.u8();
  if (scheme > static_cast<std::uint8_t>(Scheme::Bgv)) bad("unknown scheme");
  parms.scheme = static_cast<Scheme>(scheme);
  parms.n = r.u64();
  if (parms.n > kMaxDegree) bad("poly_modulus_degree is too large");
  const std::uint64_t count = r.u64();
  // Each modulus object takes 24 bytes: the count is bounded by the input before anything is allocated.
  if (count > kMaxPrimes || count > r.remaining() / 24) bad("coeff_modulus has too many primes");
  parms.coeff_modulus.resize(static_cast<std::size_t>(count));
  for (auto& q : parms.coeff_modulus) q = read_modulus(r);
  parms.plain_modulus = read_modulus(r);
  r.expect_end(end);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  if (parms.scheme == Scheme::Ckks && parms.plain_modulus != 0) bad("CKKS parameters have no plain modulus");
  if (parms.scheme == Scheme::None && (parms.n != 0 || count != 0 || parms.plain_modulus != 0)) {
    bad("parameters of scheme none must be empty");
  }
  return parms;
}

ParmsId parms_id(const EncryptionParameters& parms, std::size_t prime_count) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(8 * (prime_count + 3));
  auto put = [&](std::uint64_t w) {
    for (int b = 0; b < 8; b++) bytes.push_back(static_cast<std::uint8_t>(w >> (8 * b)));
  };
  put(static_cast<std::uint64_t>(parms.scheme));
  put(parms.n);
  for (std::size_t i = 0; i < prime_count; i++) put(parms.coeff_modulus[i]);
  put(parms.plain_modulus);
  std::array<std::uint8_t, 64> param{};
  param[0] = 32;  // digest length: true BLAKE2b-256
  param[2] = 1;   // fanout
  param[3] = 1;   // depth
  std::uint8_t digest[32];
  rlwe::blake2b_with_params(param, nullptr, 0, bytes.data(), bytes.size(), digest);
  ParmsId id{};
  for (int w = 0; w < 4; w++) {
    for (int b = 7; b >= 0; b--) id[w] = (id[w] << 8) | digest[8 * w + b];
  }
  return id;
}

std::vector<ParmsId> chain_parms_ids(const EncryptionParameters& parms) {
  const std::size_t k = parms.coeff_modulus.size();
  const bool plain = parms.scheme == Scheme::Bfv || parms.scheme == Scheme::Bgv;
  std::vector<ParmsId> ids;
  for (std::size_t count = k; count >= 1; count--) {
    if (plain && !product_exceeds(parms.coeff_modulus.data(), count, parms.plain_modulus)) break;
    ids.push_back(parms_id(parms, count));
  }
  return ids;
}

}  // namespace hefty::seal
