#include "shake256.h"

#include <cstring>

namespace hefty::rlwe {

namespace {

using u64 = std::uint64_t;

constexpr std::size_t kRate = 136;  // bytes: 1600 - 2 * 256 bits of capacity

constexpr u64 kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

// Rotation offset of lane (x, y), indexed x + 5y.
constexpr int kRotations[25] = {0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14};

u64 rotl(u64 v, int s) { return s == 0 ? v : (v << s) | (v >> (64 - s)); }

void keccak_f(u64 a[25]) {
  for (u64 rc : kRoundConstants) {
    u64 c[5], b[25];
    for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];  // theta
    for (int x = 0; x < 5; x++) {
      const u64 d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    for (int x = 0; x < 5; x++) {  // rho and pi: lane (x, y) moves to (y, 2x + 3y)
      for (int y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], kRotations[x + 5 * y]);
    }
    for (int y = 0; y < 25; y += 5) {  // chi
      for (int x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
    }
    a[0] ^= rc;  // iota
  }
}

void absorb_block(u64 state[25], const std::uint8_t* block) {
  for (std::size_t i = 0; i < kRate / 8; i++) {
    u64 lane = 0;
    for (int b = 7; b >= 0; b--) lane = (lane << 8) | block[8 * i + b];
    state[i] ^= lane;
  }
  keccak_f(state);
}

}  // namespace

void shake256(const std::uint8_t* message, std::size_t size, std::uint8_t* out, std::size_t out_size) {
  u64 state[25] = {};
  for (; size >= kRate; message += kRate, size -= kRate) absorb_block(state, message);
  std::uint8_t last[kRate] = {};
  if (size > 0) std::memcpy(last, message, size);
  last[size] ^= 0x1F;  // SHAKE domain bits and the first padding bit
  last[kRate - 1] ^= 0x80;
  absorb_block(state, last);
  while (out_size > 0) {
    const std::size_t take = out_size < kRate ? out_size : kRate;
    for (std::size_t i = 0; i < take; i++) out[i] = static_cast<std::uint8_t>(state[i / 8] >> (8 * (i % 8)));
    out += take;
    out_size -= take;
    if (out_size > 0) keccak_f(state);
  }
}

void shake256_block(const std::uint8_t* seed64, std::uint64_t counter, std::uint8_t* out4096) {
  std::uint8_t input[72];
  std::memcpy(input, seed64, 64);
  for (int b = 0; b < 8; b++) input[64 + b] = static_cast<std::uint8_t>(counter >> (8 * b));
  shake256(input, sizeof input, out4096, 4096);
}

}  // namespace hefty::rlwe
