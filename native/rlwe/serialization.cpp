#include "serialization.h"

#include <cmath>
#include <string>

namespace hefty::rlwe {

namespace {

using seal::bad;
using seal::Reader;
using seal::Writer;

bool integer_scheme(const WireContext& ctx) { return ctx.scheme == seal::Scheme::Bfv || ctx.scheme == seal::Scheme::Bgv; }

void check_residues(const WireContext& ctx, const u64* words, std::size_t polys, std::size_t rows) {
  const std::size_t n = ctx.ring.n();
  for (std::size_t p = 0; p < polys; p++) {
    for (std::size_t j = 0; j < rows; j++) {
      const u64 q = ctx.ring.mod(j).q;
      const u64* row = words + (p * rows + j) * n;
      for (std::size_t i = 0; i < n; i++) {
        if (row[i] >= q) bad("a coefficient is not reduced modulo its prime");
      }
    }
  }
}

void write_cipher_body(Writer& w, const seal::ParmsId& id, bool ntt, std::size_t size, std::size_t n, std::size_t rows,
                       double scale, std::uint64_t correction_factor) {
  w.parms_id(id);
  w.u8(ntt ? 1 : 0);
  w.u64(size);
  w.u64(n);
  w.u64(rows);
  w.f64(scale);
  w.u64(correction_factor);
}

void write_prng_info(Writer& w, const Seed& seed) {
  const std::size_t at = w.begin();
  w.u8(1);  // Blake2xb
  for (std::uint8_t b : seed) w.u8(b);
  w.end(at);
}

std::size_t rows_of(const WireContext& ctx, const Cipher& ct) {
  const seal::Level* level = ctx.chain.find(ct.parms_id);
  if (level != nullptr) return level->prime_count;
  return ct.size == 0 ? 0 : ct.data.size() / (ct.size * ctx.ring.n());
}

// The metadata rules of spec §1 for the context's scheme.
void check_cipher_metadata(const WireContext& ctx, const Cipher& ct, bool key) {
  if (integer_scheme(ctx)) {
    if (ct.scale != 1.0) bad("BFV and BGV ciphertexts have scale 1");
  } else {
    if (!(ct.scale != 0) || !std::isfinite(ct.scale)) bad("ciphertext scale is invalid");
    if (!ct.ntt_form) bad("CKKS ciphertexts must be in NTT form");
  }
  if (ctx.scheme == seal::Scheme::Bgv) {
    if (ct.correction_factor == 0 || ct.correction_factor >= ctx.plain_modulus) bad("correction factor must be in [1, t)");
  } else if (ct.correction_factor != 1) {
    bad("correction factor must be 1");
  }
  if (key && (!ct.ntt_form || ct.size != 2)) bad("keys are size-2 ciphertexts in NTT form");
}

Cipher read_cipher(const WireContext& ctx, Reader& r, bool key) {
  const auto [end, major] = r.header();
  Cipher ct;
  ct.parms_id = r.parms_id();
  ct.ntt_form = r.u8() != 0;
  const std::uint64_t size = r.u64();
  const std::uint64_t n = r.u64();
  const std::uint64_t rows = r.u64();
  ct.scale = r.f64();
  ct.correction_factor = major == 4 ? r.u64() : 1;
  const seal::Level* level = ctx.chain.find(ct.parms_id);
  if (level == nullptr) bad("ciphertext is not valid for encryption parameters");
  if (key && level != &ctx.chain.key_level()) bad("keys must be at the key level");
  if (!key && level == &ctx.chain.key_level() && ctx.chain.has_key_switching()) bad("ciphertext cannot be at the key level");
  const std::size_t expected_rows = level->prime_count;
  if (n != ctx.ring.n() || rows != expected_rows) bad("ciphertext degree or prime count does not match its level");
  if (size != 0 && (size < 2 || size > 16)) bad("ciphertext size must be 0 or 2..16");
  ct.size = static_cast<std::size_t>(size);
  check_cipher_metadata(ctx, ct, key);
  const std::size_t poly_words = ctx.ring.n() * expected_rows;
  const auto [array_end, array_major] = r.header();
  (void)array_major;
  const std::uint64_t count = r.u64();
  if (count != ct.size * poly_words && !(ct.size == 2 && count == poly_words)) bad("ciphertext word count is invalid");
  // The words must be present before the polynomials are allocated (a short input cannot force a big allocation).
  if (count > r.remaining() / 8) bad("truncated word array");
  ct.data.resize(ct.size * poly_words);
  r.words(ct.data.data(), static_cast<std::size_t>(count));
  r.expect_end(array_end);
  if (ct.size == 2 && count == poly_words) {
    const auto [info_end, info_major] = r.header();
    (void)info_major;
    const std::uint8_t type = r.u8();
    Seed seed;
    r.bytes(seed.data(), seed.size());
    r.expect_end(info_end);
    if (type != 1 && type != 2) bad("unknown prng type in a seeded object");
    check_residues(ctx, ct.data.data(), 1, expected_rows);
    auto stream = type == 1 ? blake2xb_stream(seed) : shake256_stream(seed);
    sample_uniform(*stream, ctx.ring, expected_rows, ct.data.data() + poly_words);
  } else {
    check_residues(ctx, ct.data.data(), ct.size, expected_rows);
  }
  r.expect_end(end);
  return ct;
}

// A plaintext body (at most `max_count` coefficients); the caller checks the rest.
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

std::size_t save_keys(const KSwitchKeys& keys, const std::vector<std::vector<Seed>>* seeds, std::size_t n,
                      std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  w.parms_id(keys.parms_id);
  w.u64(keys.keys.size());
  for (std::size_t i = 0; i < keys.keys.size(); i++) {
    w.u64(keys.keys[i].size());
    for (std::size_t j = 0; j < keys.keys[i].size(); j++) {
      const Cipher& entry = keys.keys[i][j];
      const std::size_t rows = entry.data.size() / (2 * n);
      const std::size_t inner = w.begin();
      write_cipher_body(w, entry.parms_id, true, 2, n, rows, 1.0, 1);
      if (seeds != nullptr) {
        w.dyn_array(entry.data.data(), n * rows);
        write_prng_info(w, (*seeds)[i][j]);
      } else {
        w.dyn_array(entry.data.data(), entry.data.size());
      }
      w.end(inner);
    }
  }
  w.end(at);
  return w.size();
}

}  // namespace

std::size_t save_ciphertext(const WireContext& ctx, const Cipher& ct, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  write_cipher_body(w, ct.parms_id, ct.ntt_form, ct.size, ctx.ring.n(), rows_of(ctx, ct), ct.scale, ct.correction_factor);
  w.dyn_array(ct.data.data(), ct.data.size());
  w.end(at);
  return w.size();
}

std::size_t save_ciphertext_seeded(const SeededHeader& header, const u64* c0, const Seed& seed, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  write_cipher_body(w, header.parms_id, header.ntt_form, 2, header.n, header.rows, header.scale, header.correction_factor);
  w.dyn_array(c0, header.n * header.rows);
  write_prng_info(w, seed);
  w.end(at);
  return w.size();
}

std::size_t save_plaintext(const Plain& pt, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  w.parms_id(pt.parms_id);
  w.u64(pt.data.size());
  w.f64(pt.scale);
  w.dyn_array(pt.data.data(), pt.data.size());
  w.end(at);
  return w.size();
}

std::size_t save_kswitch_keys(const KSwitchKeys& keys, std::size_t n, std::uint8_t* out) {
  return save_keys(keys, nullptr, n, out);
}

std::size_t save_kswitch_keys_seeded(const KSwitchKeys& keys, const std::vector<std::vector<Seed>>& seeds,
                                     std::size_t n, std::uint8_t* out) {
  return save_keys(keys, &seeds, n, out);
}

Cipher load_ciphertext(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size, bool public_key) {
  Reader r(bytes, size);
  Cipher ct = read_cipher(ctx, r, public_key);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  return ct;
}

Plain load_plaintext(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const std::size_t n = ctx.ring.n();
  if (integer_scheme(ctx)) {
    Plain pt = read_plain(r, n);
    if (pt.parms_id != seal::ParmsId{}) bad("BFV and BGV plaintexts cannot be in NTT form");
    if (!(pt.scale == 1.0)) bad("BFV and BGV plaintexts have scale 1");
    for (u64 c : pt.data) {
      if (c >= ctx.plain_modulus) bad("a plaintext coefficient is not below the plain modulus");
    }
    return pt;
  }
  Plain pt = read_plain(r, ctx.ring.key_count() * n);
  if (pt.parms_id == seal::ParmsId{}) bad("CKKS plaintexts must be in NTT form");
  const seal::Level* level = ctx.chain.find(pt.parms_id);
  if (level == nullptr) bad("plaintext is not valid for encryption parameters");
  if (level == &ctx.chain.key_level() && ctx.chain.has_key_switching()) bad("plaintext cannot be at the key level");
  if (pt.data.size() != level->prime_count * n) bad("plaintext coefficient count does not match its level");
  check_residues(ctx, pt.data.data(), 1, level->prime_count);
  return pt;
}

Plain load_secret_key(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const std::size_t k = ctx.ring.key_count();
  Plain pt = read_plain(r, k * ctx.ring.n());
  if (pt.parms_id != ctx.chain.key_level().parms_id) bad("secret key must be at the key level");
  if (pt.data.size() != k * ctx.ring.n()) bad("secret key coefficient count does not match the key level");
  check_residues(ctx, pt.data.data(), 1, k);
  return pt;
}

KSwitchKeys load_kswitch_keys(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size) {
  Reader r(bytes, size);
  const auto [end, major] = r.header();
  (void)major;
  KSwitchKeys keys;
  keys.parms_id = r.parms_id();
  if (keys.parms_id != ctx.chain.key_level().parms_id) bad("keys are not at the key level");
  const std::uint64_t dim1 = r.u64();
  // Every entry takes at least 8 bytes, which bounds dim1 by the input before allocating.
  if (dim1 > r.remaining() / 8 || dim1 > 2 * ctx.ring.n()) bad("key count is invalid");
  const std::size_t k = ctx.ring.key_count();
  const std::size_t decomposition = k > 1 ? k - 1 : 1;
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

}  // namespace hefty::rlwe
