// The in-memory ciphertext and plaintext of every scheme, in SEAL's layout: `size` polynomials of prime_count
// rows of N words ([poly][row][coeff]). Schemes differ only in what the fields hold: CKKS is in NTT form with a
// scale; BFV is in coefficient form; BGV is in NTT form and carries a correction factor (its plaintext is
// multiplied by that factor modulo t). A plaintext with a zero parms_id is not in NTT form (BFV/BGV: N or fewer
// coefficients below t).
#pragma once
#include <cstdint>

#include "../seal/wire.h"
#include "words.h"

namespace hefty::rlwe {

struct Cipher {
  seal::ParmsId parms_id{};
  std::size_t size = 0;
  double scale = 1.0;
  bool ntt_form = true;
  Words data;
  std::uint64_t correction_factor = 1;
};

struct Plain {
  seal::ParmsId parms_id{};
  double scale = 1.0;
  Words data;
};

}  // namespace hefty::rlwe
