// SEAL 4.1 wire format (spec §1) of the objects every scheme shares — ciphertexts, plaintexts, secret keys and
// key-switching keys — uncompressed (compression is handled in JavaScript). One reader and one writer serve CKKS,
// BFV and BGV: the scheme only changes which metadata is legal (WireRules). Loaders validate every count against
// the context before allocating and raise E_BAD_SERIALIZATION.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../seal/chain.h"
#include "../seal/params.h"
#include "objects.h"
#include "randomness.h"
#include "ring_tools.h"

namespace hefty::rlwe {

// Key-switching keys as stored: keys[i] holds K-1 entries (2 polys × K rows each, NTT form) or is empty.
struct KSwitchKeys {
  seal::ParmsId parms_id{};
  std::vector<std::vector<Cipher>> keys;
};

// What the loaders check objects against: the context's chain and primes, and the scheme's rules —
// CKKS: ciphertexts in NTT form with a finite nonzero scale, plaintexts in NTT form at a data level;
// BFV/BGV: scale 1, plaintexts not in NTT form with coefficients below t; BGV: correction factor in [1, t).
struct WireContext {
  seal::Scheme scheme;
  const seal::Chain& chain;
  const RingTools& ring;
  std::uint64_t plain_modulus;  // 0 for CKKS
};

// Writers: each writes the object to `out` and returns its size; with out == nullptr they only return the
// size, so callers can allocate the exact buffer first (one pass over the data, no intermediate copy).
// The prime count written is that of the object's level in the chain (also for size 0, as SEAL does).
std::size_t save_ciphertext(const WireContext& ctx, const Cipher& ct, std::uint8_t* out);
// The metadata of a seeded size-2 ciphertext (public keys, symmetric encryptions).
struct SeededHeader {
  seal::ParmsId parms_id{};
  bool ntt_form = true;
  std::size_t n = 0;
  std::size_t rows = 0;
  double scale = 1.0;
  std::uint64_t correction_factor = 1;
};
// Seeded form: the metadata and c0 only, then the prng info (type 1, Blake2xb) c1 expands from.
std::size_t save_ciphertext_seeded(const SeededHeader& header, const u64* c0, const Seed& seed, std::uint8_t* out);
std::size_t save_plaintext(const Plain& pt, std::uint8_t* out);
std::size_t save_kswitch_keys(const KSwitchKeys& keys, std::size_t n, std::uint8_t* out);
// Seeded key set: seeds[i][j] for every entry.
std::size_t save_kswitch_keys_seeded(const KSwitchKeys& keys, const std::vector<std::vector<Seed>>& seeds,
                                     std::size_t n, std::uint8_t* out);

// A ciphertext at a data level, or with `public_key` a size-2 NTT-form ciphertext at the key level.
Cipher load_ciphertext(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size, bool public_key);
// A plaintext as the scheme's rules allow it (see WireContext).
Plain load_plaintext(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size);
// A secret key: NTT form at the key level, K·N residues.
Plain load_secret_key(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size);
KSwitchKeys load_kswitch_keys(const WireContext& ctx, const std::uint8_t* bytes, std::size_t size);

}  // namespace hefty::rlwe
