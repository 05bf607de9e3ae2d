// Everything the BFV engine keeps per parameter set (spec §9.1): the modulus chain with SEAL's BFV parms_ids
// (ending at the first level whose modulus is not above t), ring arithmetic shared with the rlwe layer, Galois
// tables, the per-level RNS tools and, when t is a batching prime, the batch encoder's NTT modulo t.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../ckks/chain.h"
#include "../rlwe/batch_encoder.h"
#include "../rlwe/galois.h"
#include "../rlwe/integer_context.h"
#include "../rlwe/randomness.h"
#include "../rlwe/ring_tools.h"
#include "rns_tools.h"

namespace hefty::bfv {

// The chain types are scheme-neutral (a parms_id and a prime count per level); BFV shares them, and shares the
// in-memory ciphertext/plaintext layout too: a BFV plaintext is `data` = coeff_count coefficients below t with
// a zero parms_id, a secret key is the NTT form at the key level.
using ckks::Chain;
using ckks::Level;
using ckks::ParmsId;
using Cipher = ckks::CkksCipher;
using Plain = ckks::CkksPlain;

// The shared integer-scheme context, with LevelTools for the data levels (the key level has none unless it is
// the only one).
class Context : public rlwe::IntegerContext<LevelTools> {
 public:
  // Validates N, the primes (as the CKKS context does) and t (2 <= t < 2^60, coprime to every prime, below Q);
  // throws E_INVALID_PARAMS otherwise. The security limit is the caller's check.
  Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus);
};

}  // namespace hefty::bfv
