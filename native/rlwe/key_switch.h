// SEAL's hybrid key switching with one special prime (spec §8.3), parallel over RNS limbs.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "ring_tools.h"

namespace hefty::rlwe {

// A key-switching key: entry j (one per decomposition prime of the first data level) is a 2-polynomial
// ciphertext at the key level in NTT form, stored [poly][row][coeff] with K rows.
struct KSwitchKeyView {
  std::vector<const u64*> entries;
};

// For a target polynomial t (NTT form, L rows at a data level, L <= K-1) computes (r0, r1) ≈ (t·s')/P
// and adds them to c0 and c1 (L rows each). With `replace_c1`, c1 is overwritten by r1 instead.
void key_switch(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key, u64* c0, u64* c1,
                bool replace_c1 = false);

// The same with the target made row by row inside the first parallel phase: make_row(j, dst) writes row j (NTT
// form) to dst. Rotations permute there instead of in a phase of their own.
using TargetRowMaker = std::function<void(std::size_t row, u64* dst)>;
void key_switch(const RingTools& ring, std::size_t L, const TargetRowMaker& make_row, const KSwitchKeyView& key, u64* c0,
                u64* c1, bool replace_c1 = false);

}  // namespace hefty::rlwe
