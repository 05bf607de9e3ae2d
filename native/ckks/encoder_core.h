// The floating-point half of SEAL's CKKSEncoder (spec §6): slot layout, complex transforms, rounding and
// RNS conversion. It works on coefficient-form RNS rows; the NTT around it is done by the caller.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "../ring/rns_base.h"
#include "complex_math.h"

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

 // The RNS base of one level's primes, built on first use and kept for the encoder's lifetime.
  const ring::RnsBase& rns_base(const std::uint64_t* primes, std::size_t count_primes) const;

 private:
  std::size_t n_;
  std::vector<std::size_t> slot_index_;  // idx[] of spec §6.1, length N
  std::vector<Complex> decode_roots_;    // F
  std::vector<Complex> encode_roots_;    // G
  mutable std::mutex bases_mutex_;
  mutable std::map<std::vector<std::uint64_t>, ring::RnsBase> bases_;
};

// rows[j][i] = rounded[i] mod q_j for finite integer-valued doubles: RnsBase::decompose's residues, with one
// vector reduction per prime when every |x| < 2^64 (all but extreme scales).
void decompose_rounded(const ring::RnsBase& base, const double* rounded, std::size_t n, std::uint64_t* out);

}  // namespace hefty::ckks
