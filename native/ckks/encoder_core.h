// The floating-point half of SEAL's CKKSEncoder (spec §6): slot layout, complex transforms, rounding and
// CRT composition. It works on coefficient-form RNS rows; the NTT around it is done by the caller.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "complex_math.h"
#include "multiword.h"

namespace hefty::ckks {

class EncoderCore {
 public:
  // n = poly_modulus_degree (a power of two >= 4).
  explicit EncoderCore(std::size_t n);

  std::size_t slot_count() const { return n_ / 2; }

  // Encodes `count` <= N/2 values at `scale` into coefficient rows out[j*N + i] for the primes of one level
  // (`primes`, `count_primes` of them, whose product has `total_bits` bits). Missing slots are zero.
  void encode(const Complex* values, std::size_t count, double scale, const std::uint64_t* primes,
              std::size_t count_primes, int total_bits, std::uint64_t* out) const;

  // Decodes coefficient rows (canonical residues) into N/2 complex slots.
  void decode(const std::uint64_t* rows, const std::uint64_t* primes, std::size_t count_primes, double scale,
              Complex* out) const;

 private:
  struct CrtLevel {
    Words modulus;              // Q_L, L words
    Words half;                 // (Q_L + 1) >> 1
    std::vector<Words> punctured;  // Q_L / q_j, L words each
    std::vector<std::uint64_t> inv_punctured;  // (Q_L / q_j)^-1 mod q_j
  };
  const CrtLevel& crt_level(const std::uint64_t* primes, std::size_t count_primes) const;

  std::size_t n_;
  std::vector<std::size_t> slot_index_;  // idx[] of spec §6.1, length N
  std::vector<Complex> decode_roots_;    // F
  std::vector<Complex> encode_roots_;    // G
  mutable std::mutex crt_mutex_;
  mutable std::map<std::vector<std::uint64_t>, CrtLevel> crt_levels_;
};

}  // namespace hefty::ckks
