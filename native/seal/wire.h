// SEAL's wire building blocks (spec §1.1, §1.3): a bounds-checked little-endian reader that validates every
// SEALHeader, and a writer that can run as a sizing pass (null buffer) before writing into an exact buffer.
// Compression is unwrapped on the JavaScript side, so only compr_mode 0 reaches these.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "../rlwe/op_error.h"

namespace hefty::seal {

using ParmsId = std::array<std::uint64_t, 4>;

constexpr std::size_t kHeaderSize = 16;

[[noreturn]] inline void bad(const std::string& what) { rlwe::fail("E_BAD_SERIALIZATION", what); }

class Writer {
 public:
  explicit Writer(std::uint8_t* out) : out_(out) {}
  void u8(std::uint8_t v) { put(&v, 1); }
  void u64(std::uint64_t v) {
    std::uint8_t bytes[8];
    for (int b = 0; b < 8; b++) bytes[b] = static_cast<std::uint8_t>(v >> (8 * b));
    put(bytes, 8);
  }
  void f64(double v) {
    std::uint64_t w;
    std::memcpy(&w, &v, 8);
    u64(w);
  }
  void words(const std::uint64_t* w, std::size_t count) {
    put(reinterpret_cast<const std::uint8_t*>(w), 8 * count);  // little-endian hosts only
  }
  void parms_id(const ParmsId& id) {
    for (std::uint64_t w : id) u64(w);
  }
  // Starts an object: writes a header whose size is patched by end().
  std::size_t begin() {
    const std::size_t at = pos_;
    const std::uint8_t header[8] = {0x5E, 0xA1, 0x10, 4, 1, 0, 0, 0};
    put(header, 8);
    u64(0);
    return at;
  }
  void end(std::size_t at) {
    const std::uint64_t size = pos_ - at;
    if (out_ == nullptr) return;
    for (int b = 0; b < 8; b++) out_[at + 8 + b] = static_cast<std::uint8_t>(size >> (8 * b));
  }
  void dyn_array(const std::uint64_t* w, std::size_t count) {
    const std::size_t at = begin();
    u64(count);
    words(w, count);
    end(at);
  }
  std::size_t size() const { return pos_; }

 private:
  void put(const std::uint8_t* data, std::size_t count) {
    // An empty word array may have no storage (`data` null), and memcpy takes no null pointer even for 0 bytes.
    if (out_ != nullptr && count != 0) std::memcpy(out_ + pos_, data, count);
    pos_ += count;
  }
  std::uint8_t* out_;
  std::size_t pos_ = 0;
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return size_ - offset_; }
  void need(std::size_t count) const {
    if (count > remaining()) bad("truncated object");
  }
  std::uint8_t u8() {
    need(1);
    return data_[offset_++];
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = (v << 8) | data_[offset_ + b];
    offset_ += 8;
    return v;
  }
  double f64() {
    const std::uint64_t w = u64();
    double v;
    std::memcpy(&v, &w, 8);
    return v;
  }
  ParmsId parms_id() {
    ParmsId id;
    for (auto& w : id) w = u64();
    return id;
  }
  void words(std::uint64_t* out, std::size_t count) {
    if (count > remaining() / 8) bad("truncated word array");
    if (count == 0) return;  // `out` may be null then, and memcpy takes no null pointer even for 0 bytes
    std::memcpy(out, data_ + offset_, 8 * count);
    offset_ += 8 * count;
  }
  void bytes(std::uint8_t* out, std::size_t count) {
    need(count);
    if (count == 0) return;
    std::memcpy(out, data_ + offset_, count);
    offset_ += count;
  }
  // Reads a header (spec §1.1 rules 1-3); returns (object end offset, major version).
  std::pair<std::size_t, int> header() {
    const std::size_t start = offset_;
    need(kHeaderSize);
    if (data_[start] != 0x5E || data_[start + 1] != 0xA1 || data_[start + 2] != kHeaderSize) bad("invalid SEALHeader");
    const int major = data_[start + 3];
    const int minor = data_[start + 4];
    if (!((major == 4 && minor == 1) || (major == 3 && minor >= 4))) bad("unsupported SEALHeader version");
    if (data_[start + 5] != 0) bad("compressed objects must be decompressed before native loading");
    offset_ += 8;
    const std::uint64_t size = u64();
    if (size < kHeaderSize || size > size_ - start) bad("invalid data size");
    return {start + static_cast<std::size_t>(size), major};
  }
  void expect_end(std::size_t end) const {
    if (offset_ != end) bad("invalid data size");
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

}  // namespace hefty::seal
