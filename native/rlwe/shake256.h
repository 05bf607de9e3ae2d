// SHAKE256 (FIPS 202) and the block function of SEAL's SHAKE256 PRNG (spec §1.10, prng_type 2): block c of a
// seed's stream is the first 4096 bytes of SHAKE256(seed || LE64(c)).
#pragma once
#include <cstddef>
#include <cstdint>

namespace hefty::rlwe {

void shake256(const std::uint8_t* message, std::size_t size, std::uint8_t* out, std::size_t out_size);

// The 4096-byte block `counter` of the SHAKE256 stream of a 64-byte seed.
void shake256_block(const std::uint8_t* seed64, std::uint64_t counter, std::uint8_t* out4096);

}  // namespace hefty::rlwe
