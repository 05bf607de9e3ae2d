// The plaintext space of the integer schemes (BFV and BGV share it, spec §9.2): polynomials with N or fewer
// coefficients below t, and SEAL's BatchEncoder on it — N integer slots as a 2 × N/2 matrix, mapped to NTT
// positions modulo t so that slot-wise products are plaintext products and Galois elements rotate rows or swap
// them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "objects.h"
#include "ring_tools.h"

namespace hefty::rlwe {

class PlainSpace {
 public:
  PlainSpace(std::size_t n, u64 t);
  std::size_t n() const { return n_; }
  u64 t() const { return t_; }
  // Batching needs t prime and 1 mod 2N.
  bool batching() const { return ntt_ != nullptr; }
  // The NTT modulo t (batching only).
  const RingTools& ntt() const { return *ntt_; }
  // Slot k (row k / (N/2), column k % (N/2)) <-> NTT position slot_positions()[k].
  const std::vector<std::uint32_t>& slot_positions() const { return slot_positions_; }

 private:
  std::size_t n_;
  u64 t_;
  std::unique_ptr<RingTools> ntt_;
  std::vector<std::uint32_t> slot_positions_;
};

// Encodes `count` (<= N) residues below t; missing slots are zero. Throws E_UNSUPPORTED without batching.
Plain batch_encode(const PlainSpace& space, const u64* values, std::size_t count);
// Decodes a plaintext (coeff_count <= N, parms_id zero) to N residues below t.
void batch_decode(const PlainSpace& space, const Plain& plain, u64* values);

// A plaintext's validity (not NTT form, coeff_count <= N, coefficients below t): E_INVALID_ARGUMENT if not.
void check_plain(const PlainSpace& space, const Plain& plain);

}  // namespace hefty::rlwe
