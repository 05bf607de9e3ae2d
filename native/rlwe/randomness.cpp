#include "randomness.h"

#include <cstring>
#include <random>

#include "blake2xb.h"
#include "op_error.h"
#include "shake256.h"

namespace hefty::rlwe {

namespace {

using BlockFunction = void (*)(const std::uint8_t* seed64, std::uint64_t counter, std::uint8_t* out4096);

// The stream F(S, 0) || F(S, 1) || ... of a 4096-byte block function (spec §1.10).
class BlockStream : public ByteStream {
 public:
  BlockStream(const Seed& seed, BlockFunction block) : seed_(seed), block_function_(block) {}
  void read(std::uint8_t* out, std::size_t count) override {
    while (count > 0) {
      if (used_ == kBlock) refill();
      const std::size_t take = count < kBlock - used_ ? count : kBlock - used_;
      std::memcpy(out, block_ + used_, take);
      used_ += take;
      out += take;
      count -= take;
    }
  }

 private:
  static constexpr std::size_t kBlock = 4096;
  void refill() {
    block_function_(seed_.data(), counter_++, block_);
    used_ = 0;
  }
  Seed seed_;
  BlockFunction block_function_;
  std::uint64_t counter_ = 0;
  std::uint8_t block_[kBlock];
  std::size_t used_ = kBlock;
};

Seed os_seed() {
  // std::random_device reads the OS CSPRNG (getrandom / /dev/urandom) on Linux, macOS and Windows. One per
  // thread: opening it costs more than the 64 bytes drawn from it.
  thread_local std::random_device device;
  Seed seed;
  for (std::size_t i = 0; i < seed.size(); i += 4) {
    const std::uint32_t word = device();
    std::memcpy(seed.data() + i, &word, 4);
  }
  return seed;
}

class OsFactory : public RandomnessFactory {
 public:
  std::unique_ptr<ByteStream> create() override { return blake2xb_stream(os_seed()); }
};

class FixedSeedFactory : public RandomnessFactory {
 public:
  explicit FixedSeedFactory(const Seed& seed) : seed_(seed) {}
  std::unique_ptr<ByteStream> create() override { return blake2xb_stream(seed_); }

 private:
  Seed seed_;
};

}  // namespace

std::unique_ptr<ByteStream> blake2xb_stream(const Seed& seed) {
  return std::make_unique<BlockStream>(seed, blake2xb_block);
}

std::unique_ptr<ByteStream> shake256_stream(const Seed& seed) {
  return std::make_unique<BlockStream>(seed, shake256_block);
}

std::shared_ptr<RandomnessFactory> os_randomness() { return std::make_shared<OsFactory>(); }

std::shared_ptr<RandomnessFactory> fixed_seed_randomness(const Seed& seed) {
  return std::make_shared<FixedSeedFactory>(seed);
}

}  // namespace hefty::rlwe
