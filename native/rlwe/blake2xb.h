// BLAKE2b (RFC 7693) with an explicit parameter block, and the BLAKE2Xb block function SEAL's Blake2xb PRNG
// uses (spec §1.10): block c of a seed's stream is BLAKE2Xb(key = seed, message = LE64(c), 4096 bytes).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace hefty::rlwe {

// Hashes `message` with `key` (may be empty) under the given 64-byte parameter block; writes
// param[0] (digest length) bytes to `out`.
void blake2b_with_params(const std::array<std::uint8_t, 64>& param, const std::uint8_t* key, std::size_t key_size,
                         const std::uint8_t* message, std::size_t message_size, std::uint8_t* out);

// The 4096-byte block `counter` of the Blake2xb stream of a 64-byte seed.
void blake2xb_block(const std::uint8_t* seed64, std::uint64_t counter, std::uint8_t* out4096);

}  // namespace hefty::rlwe
