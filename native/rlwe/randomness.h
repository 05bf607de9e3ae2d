// Randomness as the key generator and encryptors consume it: seeded byte streams (spec §1.10) and a factory
// that makes a fresh one per draw. Tests install a fixed-seed factory; the default seeds from the OS.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ring_tools.h"

namespace hefty::rlwe {

using Seed = std::array<std::uint8_t, 64>;

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual void read(std::uint8_t* out, std::size_t count) = 0;
  std::uint64_t read_u64();
};

// Makes the Blake2xb stream of a seed (the PRNG every seeded SEAL object names with type 1).
std::unique_ptr<ByteStream> blake2xb_stream(const Seed& seed);
// The SHAKE256 stream of a seed (prng_type 2; SEAL reads both kinds of seeded objects).
std::unique_ptr<ByteStream> shake256_stream(const Seed& seed);

class RandomnessFactory {
 public:
  virtual ~RandomnessFactory() = default;
  // A fresh "bootstrap" stream for one encryption or key (SEAL's factory create()).
  virtual std::unique_ptr<ByteStream> create() = 0;
};

// OS-seeded factory (the default): every stream gets a fresh 64-byte seed from the OS CSPRNG.
std::shared_ptr<RandomnessFactory> os_randomness();
// Test factory: every create() restarts the Blake2xb stream of the same seed, as SEAL's fixed-seed factory.
std::shared_ptr<RandomnessFactory> fixed_seed_randomness(const Seed& seed);

// Samplers (spec §7.1 and §1.10).
// Uniform residues for the first L key primes, rows [j][i].
void sample_uniform(ByteStream& stream, const RingTools& ring, std::size_t L, std::uint64_t* rows);
// Centered binomial noise in [-21, 21].
void sample_cbd(ByteStream& stream, std::size_t n, std::int64_t* out);
// Uniform ternary {-1, 0, 1} (any unbiased sampler is compatible).
void sample_ternary(ByteStream& stream, std::size_t n, std::int64_t* out);

}  // namespace hefty::rlwe
