#include "serialization.h"

#include <cmath>
#include <string>

#include "../seal/wire.h"

namespace hefty::ckks {

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

void write_cipher_body(Writer& w, const ParmsId& id, bool ntt, std::size_t size, std::size_t n, std::size_t rows,
                       double scale) {
  w.parms_id(id);
  w.u8(ntt ? 1 : 0);
  w.u64(size);
  w.u64(n);
  w.u64(rows);
  w.f64(scale);
  w.u64(1);  // correction factor
}

void write_prng_info(Writer& w, const rlwe::Seed& seed) {
  const std::size_t at = w.begin();
  w.u8(1);  // Blake2xb
  for (std::uint8_t b : seed) w.u8(b);
  w.end(at);
}

std::size_t prime_count_of(const Context& ctx, const ParmsId& id, bool key_level_allowed, const char* what) {
  const Level* level = ctx.chain().find(id);
  if (level == nullptr) bad(std::string(what) + " is not valid for encryption parameters");
  if (!key_level_allowed && level == &ctx.chain().key_level() && ctx.chain().has_key_switching()) {
    bad(std::string(what) + " cannot be at the key level");
  }
  return level->prime_count;
}

CkksCipher read_cipher(const Context& ctx, Reader& r, bool key_level_allowed) {
  const auto [end, major] = r.header();
  CkksCipher ct;
  ct.parms_id = r.parms_id();
  ct.ntt_form = r.u8() != 0;
  const std::uint64_t size = r.u64();
  const std::uint64_t n = r.u64();
  const std::uint64_t rows = r.u64();
  ct.scale = r.f64();
  if (major == 4 && r.u64() != 1) bad("correction factor must be 1");
  const std::size_t expected_rows = prime_count_of(ctx, ct.parms_id, key_level_allowed, "ciphertext");
  if (n != ctx.n() || rows != expected_rows) bad("ciphertext degree or prime count does not match its level");
  if (size != 0 && (size < 2 || size > 16)) bad("ciphertext size must be 0 or 2..16");
  if (!(ct.scale != 0) || !std::isfinite(ct.scale)) bad("ciphertext scale is invalid");
  if (!ct.ntt_form) bad("CKKS ciphertexts must be in NTT form");
  ct.size = static_cast<std::size_t>(size);
  const std::size_t poly_words = ctx.n() * expected_rows;
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

std::size_t save_ciphertext(const CkksCipher& ct, const Context& ctx, std::uint8_t* out) {
  const std::size_t n = ctx.n();
  const Level* level = ctx.chain().find(ct.parms_id);
  const std::size_t rows = level != nullptr ? level->prime_count : ct.size == 0 ? 0 : ct.data.size() / (ct.size * n);
  Writer w(out);
  const std::size_t at = w.begin();
  write_cipher_body(w, ct.parms_id, ct.ntt_form, ct.size, n, rows, ct.scale);
  w.dyn_array(ct.data.data(), ct.data.size());
  w.end(at);
  return w.size();
}

std::size_t save_ciphertext_seeded(const ParmsId& parms_id, std::size_t n, std::size_t prime_count, double scale,
                                   const std::uint64_t* c0, const rlwe::Seed& seed, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  write_cipher_body(w, parms_id, true, 2, n, prime_count, scale);
  w.dyn_array(c0, n * prime_count);
  write_prng_info(w, seed);
  w.end(at);
  return w.size();
}

std::size_t save_plaintext(const CkksPlain& pt, std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  w.parms_id(pt.parms_id);
  w.u64(pt.data.size());
  w.f64(pt.scale);
  w.dyn_array(pt.data.data(), pt.data.size());
  w.end(at);
  return w.size();
}

namespace {

std::size_t save_keys(const KSwitchKeys& keys, const std::vector<std::vector<rlwe::Seed>>* seeds, std::size_t n,
                      std::uint8_t* out) {
  Writer w(out);
  const std::size_t at = w.begin();
  w.parms_id(keys.parms_id);
  w.u64(keys.keys.size());
  for (std::size_t i = 0; i < keys.keys.size(); i++) {
    w.u64(keys.keys[i].size());
    for (std::size_t j = 0; j < keys.keys[i].size(); j++) {
      const CkksCipher& entry = keys.keys[i][j];
      const std::size_t rows = entry.data.size() / (2 * n);
      const std::size_t inner = w.begin();
      write_cipher_body(w, entry.parms_id, true, 2, n, rows, 1.0);
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

std::size_t save_kswitch_keys(const KSwitchKeys& keys, std::size_t n, std::uint8_t* out) {
  return save_keys(keys, nullptr, n, out);
}

std::size_t save_kswitch_keys_seeded(const KSwitchKeys& keys, const std::vector<std::vector<rlwe::Seed>>& seeds,
                                     std::size_t n, std::uint8_t* out) {
  return save_keys(keys, &seeds, n, out);
}

CkksCipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool key_level_allowed) {
  Reader r(bytes, size);
  CkksCipher ct = read_cipher(ctx, r, key_level_allowed);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  if (key_level_allowed && (ct.parms_id != ctx.chain().key_level().parms_id || ct.size != 2)) {
    bad("public key must be a size-2 ciphertext at the key level");
  }
  return ct;
}

CkksPlain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool secret_key) {
  Reader r(bytes, size);
  const auto [end, major] = r.header();
  (void)major;
  CkksPlain pt;
  pt.parms_id = r.parms_id();
  const std::uint64_t count = r.u64();
  pt.scale = r.f64();
  if (pt.parms_id == ParmsId{}) bad("CKKS plaintexts must be in NTT form");
  const std::size_t rows = prime_count_of(ctx, pt.parms_id, secret_key, "plaintext");
  if (secret_key && pt.parms_id != ctx.chain().key_level().parms_id) bad("secret key must be at the key level");
  if (count != rows * ctx.n()) bad("plaintext coefficient count does not match its level");
  const auto [array_end, array_major] = r.header();
  (void)array_major;
  if (r.u64() != count) bad("plaintext word count is invalid");
  if (count > r.remaining() / 8) bad("truncated word array");
  pt.data.resize(count);
  r.words(pt.data.data(), count);
  r.expect_end(array_end);
  r.expect_end(end);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  check_residues(ctx, pt.data.data(), 1, rows);
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
  // Every entry takes at least 8 bytes, which bounds dim1 by the input before allocating.
  if (dim1 > r.remaining() / 8 || dim1 > 2 * ctx.n()) bad("key count is invalid");
  const std::size_t decomposition = ctx.primes().size() > 1 ? ctx.primes().size() - 1 : 1;
  keys.keys.resize(static_cast<std::size_t>(dim1));
  for (auto& entry : keys.keys) {
    const std::uint64_t dim2 = r.u64();
    if (dim2 != 0 && dim2 != decomposition) bad("key-switching key has the wrong number of parts");
    for (std::uint64_t j = 0; j < dim2; j++) {
      CkksCipher part = read_cipher(ctx, r, true);
      if (part.parms_id != keys.parms_id || part.size != 2) bad("key-switching key part is invalid");
      entry.push_back(std::move(part));
    }
  }
  r.expect_end(end);
  if (r.remaining() != 0) bad("trailing bytes after the object");
  return keys;
}

}  // namespace hefty::ckks
