#include "serialization.h"

#include <cmath>
#include <string>

#include "../seal/wire.h"

namespace hefty::bfv {

namespace {

using seal::bad;
using seal::Reader;
using seal::Writer;

void check_residues(const Context& ctx, const std::uint64_t* words, std::size_t polys, std::size_t rows) {
  const std::size_t n = ctx.n();
  for (std::size_t p = 0; p < polys; p++) {
    for (std::size_t j = 0; j < rows; j++) {
      const std::uint64_t q = ctx.primes()[j];
      const std::uint64_t* row = words + (p * rows + j) * n;
      for (std::size_t i = 0; i < n; i++) {
        if (row[i] >= q) bad("a coefficient is not reduced modulo its prime");
      }
    }
  }
}

void write_body(Writer& w, const ParmsId& id, bool ntt, std::size_t size, std::size_t n, std::size_t rows) {
  w.parms_id(id);
  w.u8(ntt ? 1 : 0);
  w.u64(size);
  w.u64(n);
  w.u64(rows);
  w.f64(1.0);
  w.u64(1);  // correction factor
}

std::size_t rows_of(const Context& ctx, const Cipher& ct) {
  const Level* level = ctx.chain().find(ct.parms_id);
  if (level != nullptr) return level->prime_count;
  return ct.size == 0 ? 0 : ct.data.size() / (ct.size * ctx.n());
}

Cipher read_cipher(const Context& ctx, Reader& r, bool key_level) {
  const auto [end, major] = r.header();
  Cipher ct;
  ct.parms_id = r.parms_id();
  ct.ntt_form = r.u8() != 0;
  const std::uint64_t size = r.u64();
  const std::uint64_t n = r.u64();
  const std::uint64_t rows = r.u64();
  ct.scale = r.f64();
  if (major == 4 && r.u64() != 1) bad("correction factor must be 1");
  const Level* level = ctx.chain().find(ct.parms_id);
  if (level == nullptr) bad("ciphertext is not valid for encryption parameters");
  const bool at_key_level = level == &ctx.chain().key_level() && ctx.chain().has_key_switching();
  if (key_level && level != &ctx.chain().key_level()) bad("keys must be at the key level");
  if (!key_level && at_key_level) bad("ciphertext cannot be at the key level");
  const std::size_t expected_rows = level->prime_count;
  if (n != ctx.n() || rows != expected_rows) bad("ciphertext degree or prime count does not match its level");
  if (size != 0 && (size < 2 || size > 16)) bad("ciphertext size must be 0 or 2..16");
  if (ct.scale != 1.0) bad("BFV ciphertexts have scale 1");
  if (key_level && (!ct.ntt_form || size != 2)) bad("keys are size-2 ciphertexts in NTT form");
  ct.size = static_cast<std::size_t>(size);
  const std::size_t poly_words = ctx.n() * expected_rows;
  const auto [array_end, array_major] = r.header();
  (void)array_major;
  const std::uint64_t count = r.u64();
  if (count != ct.size * poly_words && !(ct.size == 2 && count == poly_words)) bad("ciphertext word count is invalid");
  if (count > r.remaining() / 8) bad("truncated word array");
  ct.data.resize(ct.size * poly_words);
  r.words(ct.data.data(), static_cast<std::size_t>(count));
  r.expect_end(array_end);
  if (ct.size == 2 && count == poly_words) {
    const auto [info_end, info_major] = r.header();
    (void)info_major;
    const std::uint8_t type = r.u8();
    rlwe::Seed seed;
    r.bytes(seed.data(), seed.size());
    r.expect_end(info_end);
    if (type != 1 && type != 2) bad("unknown prng type in a seeded object");
    check_residues(ctx, ct.data.data(), 1, expected_rows);
    auto stream = type == 1 ? rlwe::blake2xb_stream(seed) : rlwe::shake256_stream(seed);
    rlwe::sample_uniform(*stream, ctx.ring(), expected_rows, ct.data.data() + poly_words);
  } else {
    check_residues(ctx, ct.data.data(), ct.size, expected_rows);
  }
  r.expect_end(end);
  return ct;
}

}  // namespace

std::size_t save_ciphertext(const Context& ctx, const Cipher& ct, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  write_body(w, ct.parms_id, ct.ntt_form, ct.size, ctx.n(), rows_of(ctx, ct));
  w.dyn_array(ct.data.data(), ct.data.size());
  w.end(at);
  return w.size();
}

std::size_t save_ciphertext_seeded(const Context& ctx, const Cipher& ct, const rlwe::Seed& seed, std::uint8_t* out) {
  const std::size_t rows = rows_of(ctx, ct);
  Writer w(out);
  const std::size_t at = w.begin();
  write_body(w, ct.parms_id, ct.ntt_form, 2, ctx.n(), rows);
  w.dyn_array(ct.data.data(), ctx.n() * rows);
  const std::size_t info = w.begin();
  w.u8(1);  // Blake2xb
  for (std::uint8_t b : seed) w.u8(b);
  w.end(info);
  w.end(at);
  return w.size();
}

Cipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool public_key) {
  Reader r(bytes, size);
  Cipher ct = read_cipher(ctx, r, public_key);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  return ct;
}

namespace {

// Plaintext body; returns the parsed object (checks left to the callers).
Plain read_plain(Reader& r, std::size_t max_count) {
  const auto [end, major] = r.header();
  (void)major;
  Plain pt;
  pt.parms_id = r.parms_id();
  const std::uint64_t count = r.u64();
  pt.scale = r.f64();
  if (count > max_count) bad("plaintext has too many coefficients");
  const auto [array_end, array_major] = r.header();
  (void)array_major;
  if (r.u64() != count) bad("plaintext word count is invalid");
  if (count > r.remaining() / 8) bad("truncated word array");
  pt.data.resize(static_cast<std::size_t>(count));
  r.words(pt.data.data(), static_cast<std::size_t>(count));
  r.expect_end(array_end);
  r.expect_end(end);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  return pt;
}

}  // namespace

Plain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  Plain pt = read_plain(r, ctx.n());
  if (pt.parms_id != ParmsId{}) bad("BFV plaintexts cannot be in NTT form");
  if (!(pt.scale == 1.0)) bad("BFV plaintexts have scale 1");
  const std::uint64_t t = ctx.plain_modulus();
  for (std::uint64_t c : pt.data) {
    if (c >= t) bad("a plaintext coefficient is not below the plain modulus");
  }
  return pt;
}

Plain load_secret_key(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const std::size_t k = ctx.primes().size();
  Plain pt = read_plain(r, k * ctx.n());
  if (pt.parms_id != ctx.chain().key_level().parms_id) bad("secret key must be at the key level");
  if (pt.data.size() != k * ctx.n()) bad("secret key coefficient count does not match the key level");
  check_residues(ctx, pt.data.data(), 1, k);
  return pt;
}

KSwitchKeys load_kswitch_keys(const Context& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const auto [end, major] = r.header();
  (void)major;
  KSwitchKeys keys;
  keys.parms_id = r.parms_id();
  if (keys.parms_id != ctx.chain().key_level().parms_id) bad("keys are not at the key level");
  const std::uint64_t dim1 = r.u64();
  if (dim1 > r.remaining() / 8 || dim1 > 2 * ctx.n()) bad("key count is invalid");
  const std::size_t decomposition = ctx.primes().size() > 1 ? ctx.primes().size() - 1 : 1;
  keys.keys.resize(static_cast<std::size_t>(dim1));
  for (auto& entry : keys.keys) {
    const std::uint64_t dim2 = r.u64();
    if (dim2 != 0 && dim2 != decomposition) bad("key-switching key has the wrong number of parts");
    for (std::uint64_t j = 0; j < dim2; j++) entry.push_back(read_cipher(ctx, r, true));
  }
  r.expect_end(end);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  return keys;
}

}  // namespace hefty::bfv
