// The arithmetic of key generation, encryption and decryption (spec §7), on raw RNS rows in NTT form.
// Randomness is an input: callers sample (and, for seeds, record) it; this keeps the math deterministic.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ring_tools.h"

namespace hefty::rlwe {

// rows[j][i] = value[i] mod q_j for small signed integers, j < L.
void small_to_rows(const RingTools& ring, std::size_t L, const std::int64_t* values, u64* rows);

// Same, then NTT every row.
void small_to_ntt_rows(const RingTools& ring, std::size_t L, const std::int64_t* values, u64* rows);

// Symmetric zero encryption: c0 = -(a ⊙ s + f·NTT(e)), for the first L rows. `a` (uniform, NTT form) is c1; the
// noise factor f is 1, or t for BGV (whose noise is a multiple of the plain modulus).
void encrypt_zero_symmetric(const RingTools& ring, std::size_t L, const u64* secret, const u64* a, const std::int64_t* e,
                            u64* c0, u64 noise_factor = 1);

// Public-key zero encryption at a level with L_up rows (the level above the target, special prime included
// when the target is the first data level), then rounding away the last prime (spec §7.3). Writes
// (c0, c1) with L_up - 1 rows each; `pk` has K rows per polynomial. With L_up == 1 nothing is dropped.
// With a plain modulus t (BGV) the noise is t·e and the last prime is dropped as div_exact_last_ntt does.
void encrypt_zero_public(const RingTools& ring, std::size_t L_up, const u64* pk, const std::int64_t* u,
                         const std::int64_t* e0, const std::int64_t* e1, u64* c0, u64* c1, u64 plain_modulus = 0);

// m = Σ c_i ⊙ s^i over L rows for a ciphertext of `size` polynomials (NTT form).
void decrypt_ntt(const RingTools& ring, std::size_t L, const u64* ct, std::size_t size, const u64* secret, u64* m);

// Turns a zero encryption (b, a) at the key level into key-switching entry j for target s':
// b[row j] += [P mod q_j] · s'[row j].
void add_key_switching_target(const RingTools& ring, std::size_t j, const u64* target_rows, u64* b);

// Rounding division of an NTT-form polynomial by its last prime (L rows in, L-1 rows out; in may equal out).
void div_round_last_ntt(const RingTools& ring, std::size_t L, const u64* in, u64* out);

// k = [-x·q_last^-1]_t for a coefficient-form row x (n words below q_last): the multiple of q_last that makes
// x + k·q_last divisible by t (BGV's exact division, RingTools::exact_drop_row).
void plain_offsets(const u64* x, std::size_t n, u64 q_last, u64 t, u64* k);

// BGV's division of an NTT-form polynomial by its last prime (SEAL's mod_t_and_divide_q_last): the result
// decrypts to q_last^-1 times the input's plaintext modulo t. L rows in, L-1 rows out; in may equal out.
void div_exact_last_ntt(const RingTools& ring, std::size_t L, const u64* in, u64* out, u64 t);

// Bit length of the largest centered coefficient (|x| for x in (-Q/2, Q/2]) of a coefficient-form polynomial
// with L rows, composed over the level's primes: the noise norm behind SEAL's invariant noise budget.
int centered_norm_bits(const RingTools& ring, std::size_t L, const u64* rows);

// a^-1 mod m for gcd(a, m) = 1 (m need not be prime); 0 when a is not invertible.
u64 inverse_mod(u64 a, u64 m);

}  // namespace hefty::rlwe
