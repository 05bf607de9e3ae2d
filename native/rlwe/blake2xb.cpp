#include "blake2xb.h"

#include <cstring>

namespace hefty::rlwe {

namespace {

constexpr std::uint64_t kIv[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
                                  0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                                  0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

constexpr std::uint8_t kSigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts only (x86-64, arm64)
  return v;
}

std::uint64_t rotr(std::uint64_t x, int r) { return (x >> r) | (x << (64 - r)); }

// One BLAKE2b G mixing step on fixed state indices (a macro keeps the indices compile-time constants, so the
// whole state lives in registers).
#define HEFTY_BLAKE2B_G(a, b, c, d, x, y) \
  do {                                     \
    a = a + b + (x);                       \
    d = rotr(d ^ a, 32);                   \
    c = c + d;                             \
    b = rotr(b ^ c, 24);                   \
    a = a + b + (y);                       \
    d = rotr(d ^ a, 16);                   \
    c = c + d;                             \
    b = rotr(b ^ c, 63);                   \
  } while (0)

void compress(std::uint64_t h[8], const std::uint8_t block[128], std::uint64_t counter, bool last) {
  std::uint64_t m[16];
  for (int i = 0; i < 16; i++) m[i] = load64(block + 8 * i);
  std::uint64_t v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
  std::uint64_t v8 = kIv[0], v9 = kIv[1], v10 = kIv[2], v11 = kIv[3];
  std::uint64_t v12 = kIv[4] ^ counter;  // messages here are far below 2^64 bytes: the high counter word stays 0
  std::uint64_t v13 = kIv[5];
  std::uint64_t v14 = last ? ~kIv[6] : kIv[6];
  std::uint64_t v15 = kIv[7];
  for (const auto& s : kSigma) {
    HEFTY_BLAKE2B_G(v0, v4, v8, v12, m[s[0]], m[s[1]]);
    HEFTY_BLAKE2B_G(v1, v5, v9, v13, m[s[2]], m[s[3]]);
    HEFTY_BLAKE2B_G(v2, v6, v10, v14, m[s[4]], m[s[5]]);
    HEFTY_BLAKE2B_G(v3, v7, v11, v15, m[s[6]], m[s[7]]);
    HEFTY_BLAKE2B_G(v0, v5, v10, v15, m[s[8]], m[s[9]]);
    HEFTY_BLAKE2B_G(v1, v6, v11, v12, m[s[10]], m[s[11]]);
    HEFTY_BLAKE2B_G(v2, v7, v8, v13, m[s[12]], m[s[13]]);
    HEFTY_BLAKE2B_G(v3, v4, v9, v14, m[s[14]], m[s[15]]);
  }
  h[0] ^= v0 ^ v8;
  h[1] ^= v1 ^ v9;
  h[2] ^= v2 ^ v10;
  h[3] ^= v3 ^ v11;
  h[4] ^= v4 ^ v12;
  h[5] ^= v5 ^ v13;
  h[6] ^= v6 ^ v14;
  h[7] ^= v7 ^ v15;
}

#undef HEFTY_BLAKE2B_G

}  // namespace

void blake2b_with_params(const std::array<std::uint8_t, 64>& param, const std::uint8_t* key, std::size_t key_size,
                         const std::uint8_t* message, std::size_t message_size, std::uint8_t* out) {
  std::uint64_t h[8];
  for (int i = 0; i < 8; i++) h[i] = kIv[i] ^ load64(param.data() + 8 * i);
  std::uint8_t block[128];
  std::uint64_t counter = 0;
  bool have_block = false;
  if (key_size > 0) {
    std::memset(block, 0, sizeof block);
    std::memcpy(block, key, key_size);
    counter = 128;
    have_block = true;
  }
  std::size_t offset = 0;
  while (offset < message_size) {
    if (have_block) compress(h, block, counter, false);
    const std::size_t take = message_size - offset < 128 ? message_size - offset : 128;
    std::memset(block, 0, sizeof block);
    std::memcpy(block, message + offset, take);
    counter += take;
    offset += take;
    have_block = true;
  }
  if (!have_block) std::memset(block, 0, sizeof block);
  compress(h, block, counter, true);
  std::uint8_t digest[64];
  for (int i = 0; i < 8; i++) {
    for (int b = 0; b < 8; b++) digest[8 * i + b] = static_cast<std::uint8_t>(h[i] >> (8 * b));
  }
  std::memcpy(out, digest, param[0]);
}

void blake2xb_block(const std::uint8_t* seed64, std::uint64_t counter, std::uint8_t* out4096) {
  constexpr std::uint32_t kXofLength = 4096;
  std::array<std::uint8_t, 64> root{};
  root[0] = 64;  // digest length
  root[1] = 64;  // key length
  root[2] = 1;   // fanout
  root[3] = 1;   // depth
  for (int b = 0; b < 4; b++) root[12 + b] = static_cast<std::uint8_t>(kXofLength >> (8 * b));
  std::uint8_t message[8];
  for (int b = 0; b < 8; b++) message[b] = static_cast<std::uint8_t>(counter >> (8 * b));
  std::uint8_t h0[64];
  blake2b_with_params(root, seed64, 64, message, 8, h0);

  for (std::uint32_t i = 0; i < kXofLength / 64; i++) {
    std::array<std::uint8_t, 64> leaf{};
    leaf[0] = 64;
    for (int b = 0; b < 4; b++) {
      leaf[4 + b] = static_cast<std::uint8_t>(64u >> (8 * b));  // leaf length
      leaf[8 + b] = static_cast<std::uint8_t>(i >> (8 * b));    // node offset
      leaf[12 + b] = static_cast<std::uint8_t>(kXofLength >> (8 * b));
    }
    leaf[17] = 64;  // inner length
    blake2b_with_params(leaf, nullptr, 0, h0, 64, out4096 + 64 * i);
  }
}

}  // namespace hefty::rlwe
