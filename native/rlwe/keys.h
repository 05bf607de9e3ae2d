// Key generation and encryption (spec §7) over RingTools. Keys and ciphertexts are plain word vectors in
// SEAL's layout ([poly][row][coeff], NTT form); seeded results also carry the public seed of c1.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "galois.h"
#include "randomness.h"
#include "ring_tools.h"
#include "words.h"

namespace hefty::rlwe {

// Two polynomials of L rows; `seed` is set when c1 is the uniform expansion of that seed (Blake2xb).
struct ZeroCipher {
  Words data;
  Seed seed{};
};

// s: uniform ternary, NTT form, K rows.
Words generate_secret(const RingTools& ring, RandomnessFactory& randomness);

// EncZeroSym at L rows (spec §7.2, NTT form): c1 = UniformPoly(Blake2xb(σ)), c0 = -(c1·s + f·e) with the noise
// factor f = 1, or t for BGV.
ZeroCipher encrypt_zero_symmetric(const RingTools& ring, std::size_t L, const Words& secret,
                                  RandomnessFactory& randomness, u64 noise_factor = 1);

// Key-switching key for target s' (K rows, NTT): K-1 entries, each a seeded zero encryption at the key level
// with [P mod q_j]·s' added to row j of c0.
std::vector<ZeroCipher> generate_kswitch_key(const RingTools& ring, const Words& secret,
                                             const Words& target, RandomnessFactory& randomness,
                                             u64 noise_factor = 1);

// s ⊙ s (K rows), the relinearization target.
Words secret_squared(const RingTools& ring, const Words& secret);
// π_g(s) (K rows), the Galois target.
Words secret_galois(const RingTools& ring, const GaloisTables& galois, const Words& secret,
                               std::uint32_t galois_elt);

// Public-key encryption of zero at a data level with L rows (spec §7.3). `pk` has 2 polys of K rows. With a
// plain modulus t (BGV): noise t·e and the exact division of encrypt_zero_public.
Words encrypt_zero_public_key(const RingTools& ring, std::size_t L, const Words& pk,
                                         RandomnessFactory& randomness, u64 plain_modulus = 0);

}  // namespace hefty::rlwe
