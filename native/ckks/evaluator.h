// The CKKS evaluator (spec §8) with SEAL's checks. Operations are functional: inputs are never modified.
// Errors are rlwe::OpError with HeftyError codes.
#pragma once
#include <cstdint>
#include <vector>

#include "../rlwe/galois.h"
#include "../rlwe/key_switch.h"
#include "../rlwe/ring_tools.h"
#include "chain.h"

namespace hefty::ckks {

// A key-switching key set as the evaluator needs it: entries by index (relin: power - 2; galois: (g-1)/2).
struct KeySwitchingKeys {
  ParmsId parms_id{};
  std::vector<rlwe::KSwitchKeyView> keys;  // empty view = absent
  bool has(std::size_t index) const { return index < keys.size() && !keys[index].entries.empty(); }
};

class Evaluator {
 public:
  Evaluator(const rlwe::RingTools& ring, const Chain& chain, const rlwe::GaloisTables& galois)
      : ring_(ring), chain_(chain), galois_(galois) {}

  CkksCipher negate(const CkksCipher& a) const;
  CkksCipher add(const CkksCipher& a, const CkksCipher& b) const;
  CkksCipher sub(const CkksCipher& a, const CkksCipher& b) const;
  CkksCipher add_plain(const CkksCipher& a, const CkksPlain& p) const;
  CkksCipher sub_plain(const CkksCipher& a, const CkksPlain& p) const;
  CkksCipher multiply(const CkksCipher& a, const CkksCipher& b) const;
  CkksCipher square(const CkksCipher& a) const { return multiply(a, a); }
  CkksCipher multiply_plain(const CkksCipher& a, const CkksPlain& p) const;
  CkksCipher relinearize(const CkksCipher& a, const KeySwitchingKeys& relin) const;
  CkksCipher rescale_to_next(const CkksCipher& a) const;
  CkksCipher mod_switch_to_next(const CkksCipher& a) const;
  CkksCipher mod_switch_to(const CkksCipher& a, const ParmsId& target) const;
  CkksPlain mod_switch_plain_to_next(const CkksPlain& p) const;
  CkksPlain mod_switch_plain_to(const CkksPlain& p, const ParmsId& target) const;
  CkksCipher apply_galois(const CkksCipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const;
  CkksCipher rotate_vector(const CkksCipher& a, int steps, const KeySwitchingKeys& galois) const;
  CkksCipher complex_conjugate(const CkksCipher& a, const KeySwitchingKeys& galois) const;
  // One ciphertext through many automorphisms with one decomposition of c1 (hoisting). Each result decrypts as
  // apply_galois's does, within its error, but the bytes differ from SEAL's. Every element is checked (and needs
  // its key) before any work; an empty list is E_INVALID_ARGUMENT.
  std::vector<CkksCipher> apply_galois_hoisted(const CkksCipher& a, const std::vector<std::uint32_t>& galois_elts,
                                               const KeySwitchingKeys& galois) const;
  // Step 0 gives the input itself, as SEAL's rotate_vector does (this engine's rotate_vector conjugates).
  std::vector<CkksCipher> rotate_vector_hoisted(const CkksCipher& a, const std::vector<int>& steps,
                                                const KeySwitchingKeys& galois) const;

  // The level of a ciphertext/plaintext, validated (data level, right size, NTT form).
  const Level& level_of(const CkksCipher& a) const;
  const Level& level_of(const CkksPlain& p) const;

 private:
  CkksCipher add_or_sub(const CkksCipher& a, const CkksCipher& b, bool subtract) const;
  CkksCipher plain_add_or_sub(const CkksCipher& a, const CkksPlain& p, bool subtract) const;
  CkksCipher drop_last_rows(const CkksCipher& a, const Level& from, const Level& to) const;
  void check_scale_bound(double scale, const Level& level) const;
  void check_not_transparent(const CkksCipher& c, const Level& level) const;
  // The checks apply_galois makes before key switching (level, keys, size 2, element, its key).
  const Level& check_galois(const CkksCipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const;

  const rlwe::RingTools& ring_;
  const Chain& chain_;
  const rlwe::GaloisTables& galois_;
};

// SEAL's "close enough" scale comparison for add/sub.
bool scales_match(double a, double b);

}  // namespace hefty::ckks
