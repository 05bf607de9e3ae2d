// SEAL's hybrid key switching with one special prime (spec §8.3), parallel over RNS limbs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "ring_tools.h"
#include "scratch.h"

namespace hefty::rlwe {

// A key-switching key: entry j (one per decomposition prime of the first data level) is a 2-polynomial
// ciphertext at the key level in NTT form, stored [poly][row][coeff] with K rows.
struct KSwitchKeyView {
  std::vector<const u64*> entries;
};

// For a target polynomial t (NTT form, L rows at a data level, L <= K-1) computes (r0, r1) ≈ (t·s')/P
// and adds them to c0 and c1 (L rows each). With `replace_c1`, c1 is overwritten by r1 instead. The division by
// P rounds; with a plain modulus (BGV, whose keys carry noise t·e) it is exact modulo t instead
// (RingTools::exact_drop_row), so the result keeps the plaintext.
void key_switch(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key, u64* c0, u64* c1,
                bool replace_c1 = false, u64 plain_modulus = 0);
// The same onto a copy: c0 = base0 + r0, c1 = base1 + r1, so the caller need not copy (base0, base1) into (c0, c1)
// first (relinearization). A base may be its output.
void key_switch_onto(const RingTools& ring, std::size_t L, const u64* target, const KSwitchKeyView& key,
                     const u64* base0, const u64* base1, u64* c0, u64* c1, u64 plain_modulus = 0);

// The same with the target made row by row inside the first parallel phase: make_row(j, dst) writes row j (NTT
// form) to dst. Rotations permute there instead of in a phase of their own.
using TargetRowMaker = std::function<void(std::size_t row, u64* dst)>;
void key_switch(const RingTools& ring, std::size_t L, const TargetRowMaker& make_row, const KSwitchKeyView& key, u64* c0,
                u64* c1, bool replace_c1 = false, u64 plain_modulus = 0);

// Hoisted key switching: one target t, many Galois automorphisms π. The decomposition (INTT of each row, each
// digit [t mod q_j] reduced to every output modulus and NTT'd) is made once; each π then permutes the
// decomposed rows (in NTT form π permutes evaluation points) and takes its own inner products and ModDown.
// π(digit) and the digit of π(t) differ by a multiple of q_j (π moves coefficients with sign changes), and
// any such multiple vanishes against the key's gadget factor P·(Q/q_j)·[(Q/q_j)^-1]_{q_j} modulo QP: every
// lift of [t mod q_j] works. Digits are taken centered, in (-q_j/2, q_j/2], so π keeps them there: the key
// noise term Σ digit·e_j / P has mean 0 and half the deviation of SEAL's digits in [0, q_j). Results decrypt
// as rotations do, with at most their noise, but are not SEAL's bytes.
class HoistedTarget {
 public:
  // t: NTT form, L rows at a data level (L <= K-1). Throws E_PARAMS_MISMATCH when L does not fit the keys.
  HoistedTarget(const RingTools& ring, std::size_t L, const u64* t);

  // One automorphism: its permutation (out[i] = in[table[i]], N entries), the key for target π(s), and where
  // the result goes: out0 = π(c0) + r0 and out1 = r1 with (r0, r1) = KS(π(t), key), L rows each.
  struct Job {
    const std::uint32_t* table;
    const KSwitchKeyView* key;
    u64* out0;
    u64* out1;
  };

  // Runs every job against c0 (L rows; no output may alias it). Jobs go in groups: each output modulus's
  // decomposed rows are read once per group (they stay in cache across its jobs), and the group's inner
  // products take at most kGroupWords words.
  void apply(const std::vector<Job>& jobs, const u64* c0) const;

  static constexpr std::size_t kGroupWords = std::size_t{1} << 21;

  std::size_t level_primes() const { return L_; }

 private:
  const RingTools& ring_;
  std::size_t L_;
  ScratchBuffer rows_;  // [output modulus][digit][coeff]; output modulus L is P; digit j of output j is t[j]
};

}  // namespace hefty::rlwe
