#include "randomness.h"

#include <cstring>

#include "row_ops.h"
#include "scratch.h"

namespace hefty::rlwe {

std::uint64_t ByteStream::read_u64() {
  std::uint8_t bytes[8];
  read(bytes, 8);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | bytes[i];
  return v;
}

void sample_uniform(ByteStream& stream, const RingTools& ring, std::size_t L, std::uint64_t* rows) {
  const std::size_t n = ring.n();
  // The words land in the rows themselves (no staging buffer); the rare rejected word is replaced from the
  // stream's continuation, in row order, and then every row is reduced in one vector pass.
  stream.read(reinterpret_cast<std::uint8_t*>(rows), 8 * n * L);  // little-endian hosts only (x86-64, arm64)
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = ring.mod(j);
    const std::uint64_t max = ~std::uint64_t{0};
    const std::uint64_t threshold = max - (max % m.q) - 1;
    std::uint64_t* row = rows + j * n;
    for (std::size_t i = 0; i < n; i++) {
      while (row[i] >= threshold) row[i] = stream.read_u64();
    }
    rows::reduce(row, row, n, m);
  }
}

namespace {

// Bit counts of all bytes (no reliance on a popcount instruction in portable builds).
struct PopcountTable {
  std::uint8_t bits[256];
  constexpr PopcountTable() : bits() {
    for (int i = 0; i < 256; i++) bits[i] = static_cast<std::uint8_t>((i & 1) + (i >> 1 & 1) + (i >> 2 & 1) + (i >> 3 & 1) + (i >> 4 & 1) + (i >> 5 & 1) + (i >> 6 & 1) + (i >> 7 & 1));
  }
};
constexpr PopcountTable kPopcount;

}  // namespace

void sample_cbd(ByteStream& stream, std::size_t n, std::int64_t* out) {
  Scratch<std::uint8_t> bytes(6 * n);
  stream.read(bytes.data(), 6 * n);
  for (std::size_t i = 0; i < n; i++) {
    const std::uint8_t* b = bytes.data() + 6 * i;
    const int plus = kPopcount.bits[b[0]] + kPopcount.bits[b[1]] + kPopcount.bits[b[2] & 0x1F];
    const int minus = kPopcount.bits[b[3]] + kPopcount.bits[b[4]] + kPopcount.bits[b[5] & 0x1F];
    out[i] = plus - minus;
  }
}

void sample_ternary(ByteStream& stream, std::size_t n, std::int64_t* out) {
  // Rejection sampling on bytes: values below 255 are uniform mod 3.
  std::uint8_t buffer[256];
  std::size_t have = 0, used = 0;
  for (std::size_t i = 0; i < n;) {
    if (used == have) {
      stream.read(buffer, sizeof buffer);
      have = sizeof buffer;
      used = 0;
    }
    const std::uint8_t b = buffer[used++];
    if (b >= 255) continue;
    out[i++] = static_cast<std::int64_t>(b % 3) - 1;
  }
}

}  // namespace hefty::rlwe
