// SEAL 4.1 wire format for the CKKS objects (spec §1), uncompressed only: compression is unwrapped and
// applied on the JavaScript side. Loading validates every count against the context before allocating.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../rlwe/randomness.h"
#include "chain.h"
#include "context.h"

namespace hefty::ckks {

// Key-switching keys as stored: keys[i] holds K-1 entries (2 polys × K rows each) or is empty.
struct KSwitchKeys {
  ParmsId parms_id{};
  std::vector<std::vector<CkksCipher>> keys;
};

// One polynomial pair with the seed its c1 expands from (for seeded writing).
struct SeededCipher {
  const std::uint64_t* c0;
  const rlwe::Seed* seed;
};

// Writers: each writes the object to `out` and returns its size; with out == nullptr they only return the
// size, so callers can allocate the exact buffer first (one pass over the data, no intermediate copy).
// The prime count written is that of the object's level in `ctx` (also for size 0, as SEAL does).
std::size_t save_ciphertext(const CkksCipher& ct, const Context& ctx, std::uint8_t* out);
// Seeded form: c0 only plus prng info (type 1, Blake2xb); size field says 2.
std::size_t save_ciphertext_seeded(const ParmsId& parms_id, std::size_t n, std::size_t prime_count, double scale,
                                   const std::uint64_t* c0, const rlwe::Seed& seed, std::uint8_t* out);
std::size_t save_plaintext(const CkksPlain& pt, std::uint8_t* out);
std::size_t save_kswitch_keys(const KSwitchKeys& keys, std::size_t n, std::uint8_t* out);
// Seeded key set: seeds[i][j] for every entry.
std::size_t save_kswitch_keys_seeded(const KSwitchKeys& keys, const std::vector<std::vector<rlwe::Seed>>& seeds,
                                     std::size_t n, std::uint8_t* out);

// `key_level_allowed` is true for public keys only.
CkksCipher load_ciphertext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool key_level_allowed);
// `secret_key` selects the key level (secret keys) instead of a data level (plaintexts).
CkksPlain load_plaintext(const Context& ctx, const std::uint8_t* bytes, std::size_t size, bool secret_key);
KSwitchKeys load_kswitch_keys(const Context& ctx, const std::uint8_t* bytes, std::size_t size);

}  // namespace hefty::ckks
