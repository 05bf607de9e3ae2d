#include "blake2xb.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

// The parameter block of Blake2Xb leaf `offset` (digest 64 bytes, leaf length 64, xof length `xof_length`,
// inner length 64) as its eight little-endian words.
void leaf_param_words(std::uint32_t offset, std::uint32_t xof_length, std::uint64_t words[8]) {
  words[0] = 64 | (std::uint64_t{64} << 32);
  words[1] = offset | (std::uint64_t{xof_length} << 32);
  words[2] = std::uint64_t{64} << 8;
  for (int i = 3; i < 8; i++) words[i] = 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HEFTY_BLAKE2B_LANES 1
#define HEFTY_AVX512F __attribute__((target("avx512f")))

HEFTY_AVX512F inline void g_lanes(__m512i& a, __m512i& b, __m512i& c, __m512i& d, __m512i x, __m512i y) {
  a = _mm512_add_epi64(_mm512_add_epi64(a, b), x);
  d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 32);
  c = _mm512_add_epi64(c, d);
  b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 24);
  a = _mm512_add_epi64(_mm512_add_epi64(a, b), y);
  d = _mm512_ror_epi64(_mm512_xor_si512(d, a), 16);
  c = _mm512_add_epi64(c, d);
  b = _mm512_ror_epi64(_mm512_xor_si512(b, c), 63);
}

// Leaves first .. first + 7 of a Blake2Xb output at once, one per 64-bit lane: they hash the same 64-byte
// message (the root digest) in one final compression and differ only in the node offset of their parameter
// block. Writes 8 × 64 bytes to out.
HEFTY_AVX512F void leaves_x8(const std::uint8_t root_digest[64], std::uint32_t first, std::uint32_t xof_length,
                             std::uint8_t* out) {
  __m512i m[8];
  for (int i = 0; i < 8; i++) m[i] = _mm512_set1_epi64(static_cast<long long>(load64(root_digest + 8 * i)));
  const __m512i zero = _mm512_setzero_si512();
  std::uint64_t param[8];
  leaf_param_words(first, xof_length, param);
  __m512i h[8];
  for (int i = 0; i < 8; i++) h[i] = _mm512_set1_epi64(static_cast<long long>(kIv[i] ^ param[i]));
  // Word 1 holds the node offset in its low half: first + lane.
  h[1] = _mm512_xor_si512(h[1], _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
  __m512i v[16];
  for (int i = 0; i < 8; i++) v[i] = h[i];
  for (int i = 0; i < 8; i++) v[8 + i] = _mm512_set1_epi64(static_cast<long long>(kIv[i]));
  v[12] = _mm512_set1_epi64(static_cast<long long>(kIv[4] ^ 64));  // 64 message bytes
  v[14] = _mm512_set1_epi64(static_cast<long long>(~kIv[6]));      // the last (only) block
  __m512i w[16];  // message words: the digest, then zero padding
  for (int i = 0; i < 16; i++) w[i] = i < 8 ? m[i] : zero;
  for (const auto& s : kSigma) {
    g_lanes(v[0], v[4], v[8], v[12], w[s[0]], w[s[1]]);
    g_lanes(v[1], v[5], v[9], v[13], w[s[2]], w[s[3]]);
    g_lanes(v[2], v[6], v[10], v[14], w[s[4]], w[s[5]]);
    g_lanes(v[3], v[7], v[11], v[15], w[s[6]], w[s[7]]);
    g_lanes(v[0], v[5], v[10], v[15], w[s[8]], w[s[9]]);
    g_lanes(v[1], v[6], v[11], v[12], w[s[10]], w[s[11]]);
    g_lanes(v[2], v[7], v[8], v[13], w[s[12]], w[s[13]]);
    g_lanes(v[3], v[4], v[9], v[14], w[s[14]], w[s[15]]);
  }
  alignas(64) std::uint64_t words[8][8];  // [state word][lane]
  for (int i = 0; i < 8; i++) _mm512_store_si512(words[i], _mm512_xor_si512(h[i], _mm512_xor_si512(v[i], v[8 + i])));
  for (int lane = 0; lane < 8; lane++) {
    for (int i = 0; i < 8; i++) std::memcpy(out + 64 * lane + 8 * i, &words[i][lane], 8);  // little-endian hosts
  }
}

bool lanes_available() {
  static const bool ok = std::getenv("HEFTY_NO_SIMD") == nullptr && __builtin_cpu_supports("avx512f");
  return ok;
}
#endif

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

#ifdef HEFTY_BLAKE2B_LANES
  if (lanes_available()) {
    for (std::uint32_t i = 0; i < kXofLength / 64; i += 8) leaves_x8(h0, i, kXofLength, out4096 + 64 * i);
    return;
  }
#endif
  for (std::uint32_t i = 0; i < kXofLength / 64; i++) {
    std::uint64_t words[8];
    leaf_param_words(i, kXofLength, words);
    std::array<std::uint8_t, 64> leaf{};
    for (int w = 0; w < 8; w++) {
      for (int b = 0; b < 8; b++) leaf[8 * w + b] = static_cast<std::uint8_t>(words[w] >> (8 * b));
    }
    blake2b_with_params(leaf, nullptr, 0, h0, 64, out4096 + 64 * i);
  }
}

}  // namespace hefty::rlwe
