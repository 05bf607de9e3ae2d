// EncryptionParameters for every SEAL scheme (spec §1.4, §2, §4): the wire form, SEAL's parms_id hash and the
// parms_ids of the modulus chain, so parameters made by SEAL/node-seal load and re-save byte for byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "wire.h"

namespace hefty::seal {

enum class Scheme : std::uint8_t { None = 0, Bfv = 1, Ckks = 2, Bgv = 3 };

struct EncryptionParameters {
  Scheme scheme = Scheme::None;
  std::uint64_t n = 0;
  std::vector<std::uint64_t> coeff_modulus;
  std::uint64_t plain_modulus = 0;  // 0 for CKKS
};

// Size of the serialized parameters; writes them when `out` is not null.
std::size_t save_params(const EncryptionParameters& parms, std::uint8_t* out);

// Parses uncompressed bytes with SEAL's reader limits (N <= 131072, k <= 256, moduli 0 or in [2, 2^61),
// CKKS without plain modulus); throws E_BAD_SERIALIZATION otherwise.
EncryptionParameters load_params(const std::uint8_t* bytes, std::size_t size);

// SEAL's parms_id of the parameters restricted to their first `prime_count` primes: BLAKE2b-256 of the LE words
// [scheme, N, q_0 .. q_{count-1}, plain_modulus].
ParmsId parms_id(const EncryptionParameters& parms, std::size_t prime_count);

// The parms_ids of the context chain, key level first (spec §4): every prefix of the primes down to one, ending
// early for BFV/BGV at the first level whose modulus is not above the plain modulus. Assumes validated primes.
std::vector<ParmsId> chain_parms_ids(const EncryptionParameters& parms);

}  // namespace hefty::seal
