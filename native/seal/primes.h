// Choosing moduli as SEAL does (spec §3): primality, CoeffModulus::Create, PlainModulus::Batching, the fixed
// CoeffModulus::BFVDefault tables and the HomomorphicEncryption.org security limits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hefty::seal {

// Deterministic Miller-Rabin for 64-bit values.
bool is_prime(std::uint64_t value);

// CoeffModulus::Create(N, bit_sizes) (spec §3.2). Throws E_INVALID_PARAMS when primes run out.
std::vector<std::uint64_t> coeff_modulus_create(std::size_t n, const std::vector<int>& bit_sizes);

// PlainModulus::Batching(N, bits): the smallest `bits`-bit prime that is 1 mod 2N.
std::uint64_t plain_modulus_batching(std::size_t n, int bits);

// Security levels in bits: 128, 192 or 256 (anything else throws E_INVALID_ARGUMENT).
// CoeffModulus::MaxBitCount: the largest total coefficient-modulus bit count for N; 0 for an N outside the table.
int max_bit_count(std::size_t n, int security);

// CoeffModulus::BFVDefault(N, security); throws E_INVALID_PARAMS for an N outside 1024..32768.
std::vector<std::uint64_t> bfv_default(std::size_t n, int security);

}  // namespace hefty::seal
