#include "evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../rlwe/crypto_core.h"
#include "../rlwe/op_error.h"
#include "../rlwe/scratch.h"
#include "../rlwe/thread_pool.h"
#include "kernels.h"

namespace hefty::ckks {

using rlwe::fail;
using rlwe::u64;

bool scales_match(double a, double b) {
  const double bound = std::max({std::fabs(a), std::fabs(b), 1.0});
  return std::fabs(a - b) < std::ldexp(bound, -52);
}

const Level& Evaluator::level_of(const CkksCipher& a) const {
  const Level* level = chain_.find(a.parms_id);
  if (level == nullptr) fail("E_PARAMS_MISMATCH", "ciphertext is not valid for encryption parameters");
  if (level == &chain_.key_level() && chain_.has_key_switching()) {
    fail("E_PARAMS_MISMATCH", "ciphertext is at the key level");
  }
  if (!a.ntt_form) fail("E_INVALID_ARGUMENT", "CKKS ciphertexts must be in NTT form");
  if (a.size < 2 || a.data.size() != a.size * level->prime_count * ring_.n()) {
    fail("E_INVALID_ARGUMENT", "ciphertext has an invalid size");
  }
  if (!(a.scale > 0) || !std::isfinite(a.scale)) fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
  return *level;
}

const Level& Evaluator::level_of(const CkksPlain& p) const {
  const Level* level = chain_.find(p.parms_id);
  if (level == nullptr) fail("E_PARAMS_MISMATCH", "plaintext is not valid for encryption parameters");
  if (level == &chain_.key_level() && chain_.has_key_switching()) {
    fail("E_PARAMS_MISMATCH", "plaintext is at the key level");
  }
  if (p.data.size() != level->prime_count * ring_.n()) fail("E_INVALID_ARGUMENT", "plaintext has an invalid size");
  return *level;
}

void Evaluator::check_scale_bound(double scale, const Level& level) const {
  if (!(scale > 0) || !std::isfinite(scale) || static_cast<int>(std::log2(scale)) >= level.total_bits) {
    fail("E_SCALE_OUT_OF_BOUNDS", "scale out of bounds");
  }
}

void Evaluator::check_not_transparent(const CkksCipher& c, const Level& level) const {
  const std::size_t poly_words = level.prime_count * ring_.n();
  const u64* begin = c.data.data() + poly_words;
  const u64* end = c.data.data() + c.size * poly_words;
  if (std::all_of(begin, end, [](u64 w) { return w == 0; })) {
    fail("E_TRANSPARENT_RESULT", "result ciphertext is transparent");
  }
}

CkksCipher Evaluator::negate(const CkksCipher& a) const {
  const Level& level = level_of(a);
  CkksCipher out{a.parms_id, a.size, a.scale, true, rlwe::Words(a.data.size())};
  negate_polys(ring_, level.prime_count, a.size, a.data.data(), out.data.data());
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::add_or_sub(const CkksCipher& a, const CkksCipher& b, bool subtract) const {
  const Level& level = level_of(a);
  level_of(b);
  if (a.parms_id != b.parms_id) fail("E_PARAMS_MISMATCH", "encrypted1 and encrypted2 parameter mismatch");
  if (!scales_match(a.scale, b.scale)) fail("E_SCALE_MISMATCH", "scale mismatch");
  const std::size_t L = level.prime_count;
  const std::size_t poly_words = L * ring_.n();
  const std::size_t common = std::min(a.size, b.size);
  const std::size_t size = std::max(a.size, b.size);
  CkksCipher out{a.parms_id, size, a.scale, true, rlwe::Words(size * poly_words)};
  if (subtract) {
    sub_polys(ring_, L, common, a.data.data(), b.data.data(), out.data.data());
  } else {
    add_polys(ring_, L, common, a.data.data(), b.data.data(), out.data.data());
  }
  if (size > common) {
    const u64* extra = (a.size > b.size ? a.data.data() : b.data.data()) + common * poly_words;
    u64* dst = out.data.data() + common * poly_words;
    if (subtract && b.size > a.size) {
      negate_polys(ring_, L, size - common, extra, dst);
    } else {
      std::memcpy(dst, extra, (size - common) * poly_words * sizeof(u64));
    }
  }
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::add(const CkksCipher& a, const CkksCipher& b) const { return add_or_sub(a, b, false); }
CkksCipher Evaluator::sub(const CkksCipher& a, const CkksCipher& b) const { return add_or_sub(a, b, true); }

CkksCipher Evaluator::plain_add_or_sub(const CkksCipher& a, const CkksPlain& p, bool subtract) const {
  const Level& level = level_of(a);
  level_of(p);
  if (a.parms_id != p.parms_id) fail("E_PARAMS_MISMATCH", "encrypted and plain parameter mismatch");
  if (!scales_match(a.scale, p.scale)) fail("E_SCALE_MISMATCH", "scale mismatch");
  CkksCipher out = a;
  if (subtract) {
    sub_polys(ring_, level.prime_count, 1, a.data.data(), p.data.data(), out.data.data());
  } else {
    add_polys(ring_, level.prime_count, 1, a.data.data(), p.data.data(), out.data.data());
  }
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::add_plain(const CkksCipher& a, const CkksPlain& p) const { return plain_add_or_sub(a, p, false); }
CkksCipher Evaluator::sub_plain(const CkksCipher& a, const CkksPlain& p) const { return plain_add_or_sub(a, p, true); }

CkksCipher Evaluator::multiply(const CkksCipher& a, const CkksCipher& b) const {
  const Level& level = level_of(a);
  level_of(b);
  if (a.parms_id != b.parms_id) fail("E_PARAMS_MISMATCH", "encrypted1 and encrypted2 parameter mismatch");
  const std::size_t size = a.size + b.size - 1;
  if (size > 16) fail("E_INVALID_ARGUMENT", "ciphertext size would exceed 16");
  const double scale = a.scale * b.scale;
  check_scale_bound(scale, level);
  const std::size_t L = level.prime_count;
  CkksCipher out{a.parms_id, size, scale, true, rlwe::Words(size * L * ring_.n())};
  tensor(ring_, L, a.data.data(), a.size, b.data.data(), b.size, out.data.data());
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::multiply_plain(const CkksCipher& a, const CkksPlain& p) const {
  const Level& level = level_of(a);
  level_of(p);
  if (a.parms_id != p.parms_id) fail("E_PARAMS_MISMATCH", "encrypted and plain parameter mismatch");
  const double scale = a.scale * p.scale;
  check_scale_bound(scale, level);
  CkksCipher out{a.parms_id, a.size, scale, true, rlwe::Words(a.data.size())};
  multiply_polys_by(ring_, level.prime_count, a.size, a.data.data(), p.data.data(), out.data.data());
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::relinearize(const CkksCipher& a, const KeySwitchingKeys& relin) const {
  const Level& level = level_of(a);
  if (relin.parms_id != chain_.key_level().parms_id) fail("E_PARAMS_MISMATCH", "relinearization keys are not valid for encryption parameters");
  if (!chain_.has_key_switching()) fail("E_UNSUPPORTED", "keyswitching is not supported by the context");
  if (a.size == 2) return a;
  const std::size_t L = level.prime_count;
  const std::size_t poly_words = L * ring_.n();
  for (std::size_t power = 2; power < a.size; power++) {
    if (!relin.has(power - 2)) fail("E_MISSING_KEY", "not enough relinearization keys");
  }
  // The first switch writes (c0, c1) + its result into the output, so (c0, c1) are not copied there first.
  CkksCipher out{a.parms_id, 2, a.scale, true, rlwe::Words(2 * poly_words)};
  u64* c0 = out.data.data();
  u64* c1 = c0 + poly_words;
  for (std::size_t power = a.size - 1; power >= 2; power--) {
    const bool first = power == a.size - 1;
    rlwe::key_switch_onto(ring_, L, a.data.data() + power * poly_words, relin.keys[power - 2],
                          first ? a.data.data() : c0, first ? a.data.data() + poly_words : c1, c0, c1);
  }
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::rescale_to_next(const CkksCipher& a) const {
  const Level& level = level_of(a);
  const Level* next = chain_.next(level);
  if (next == nullptr) fail("E_LEVEL_EXHAUSTED", "end of modulus switching chain reached");
  const std::size_t n = ring_.n();
  const std::size_t L = level.prime_count;
  const std::size_t last = L - 1;
  CkksCipher out{next->parms_id, a.size, a.scale / level.last_prime, true, rlwe::Words(a.size * last * n)};
  // Every polynomial's last row in coefficient form, shifted by floor(q_last / 2).
  std::vector<u64> shifted(a.size * n);
  rlwe::parallel_for(a.size, [&](std::size_t p) {
    u64* row = shifted.data() + p * n;
    std::memcpy(row, a.data.data() + (p * L + last) * n, n * sizeof(u64));
    ring_.ntt_inverse(row, last);
    ring_.shift_by_half(row, last);
  });
  rlwe::parallel_for(a.size * last, [&](std::size_t task) {
    const std::size_t p = task / last;
    const std::size_t i = task % last;
    rlwe::ScratchBuffer scratch(n);
    ring_.round_drop_row(last, i, shifted.data() + p * n, a.data.data() + (p * L + i) * n, nullptr,
                         out.data.data() + (p * last + i) * n, scratch.data());
  });
  check_not_transparent(out, *next);
  return out;
}

CkksCipher Evaluator::drop_last_rows(const CkksCipher& a, const Level& from, const Level& to) const {
  const std::size_t n = ring_.n();
  const std::size_t keep = to.prime_count * n;
  CkksCipher out{to.parms_id, a.size, a.scale, true, rlwe::Words(a.size * keep)};
  for (std::size_t p = 0; p < a.size; p++) {
    std::memcpy(out.data.data() + p * keep, a.data.data() + p * from.prime_count * n, keep * sizeof(u64));
  }
  return out;
}

CkksCipher Evaluator::mod_switch_to_next(const CkksCipher& a) const {
  const Level& level = level_of(a);
  const Level* next = chain_.next(level);
  if (next == nullptr) fail("E_LEVEL_EXHAUSTED", "end of modulus switching chain reached");
  check_scale_bound(a.scale, *next);
  CkksCipher out = drop_last_rows(a, level, *next);
  check_not_transparent(out, *next);
  return out;
}

CkksCipher Evaluator::mod_switch_to(const CkksCipher& a, const ParmsId& target) const {
  const Level& level = level_of(a);
  const Level* to = chain_.find(target);
  if (to == nullptr) fail("E_PARAMS_MISMATCH", "parms_id is not valid for encryption parameters");
  if (to->chain_index > level.chain_index) fail("E_INVALID_ARGUMENT", "cannot switch to higher level modulus");
  if (to == &level) return a;
  check_scale_bound(a.scale, *to);
  CkksCipher out = drop_last_rows(a, level, *to);
  check_not_transparent(out, *to);
  return out;
}

CkksPlain Evaluator::mod_switch_plain_to_next(const CkksPlain& p) const {
  const Level& level = level_of(p);
  const Level* next = chain_.next(level);
  if (next == nullptr) fail("E_LEVEL_EXHAUSTED", "end of modulus switching chain reached");
  return mod_switch_plain_to(p, next->parms_id);
}

CkksPlain Evaluator::mod_switch_plain_to(const CkksPlain& p, const ParmsId& target) const {
  const Level& level = level_of(p);
  const Level* to = chain_.find(target);
  if (to == nullptr) fail("E_PARAMS_MISMATCH", "parms_id is not valid for encryption parameters");
  if (to->chain_index > level.chain_index) fail("E_INVALID_ARGUMENT", "cannot switch to higher level modulus");
  check_scale_bound(p.scale, *to);
  const std::size_t keep = to->prime_count * ring_.n();
  return CkksPlain{to->parms_id, p.scale, rlwe::Words(p.data.begin(), p.data.begin() + keep)};
}

const Level& Evaluator::check_galois(const CkksCipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const {
  const Level& level = level_of(a);
  if (galois.parms_id != chain_.key_level().parms_id) fail("E_PARAMS_MISMATCH", "Galois keys are not valid for encryption parameters");
  if (a.size != 2) fail("E_INVALID_ARGUMENT", "encrypted size must be 2");
  galois_.ntt_permutation(galois_elt);  // validates: odd, below 2N
  if (!galois.has((galois_elt - 1) / 2)) fail("E_MISSING_GALOIS_KEY", "Galois key not present");
  return level;
}

CkksCipher Evaluator::apply_galois(const CkksCipher& a, std::uint32_t galois_elt, const KeySwitchingKeys& galois) const {
  const Level& level = check_galois(a, galois_elt, galois);
  const std::vector<std::uint32_t>& table = galois_.ntt_permutation(galois_elt);
  const std::size_t index = (galois_elt - 1) / 2;
  const std::size_t L = level.prime_count;
  const std::size_t poly_words = L * ring_.n();
  CkksCipher out{a.parms_id, 2, a.scale, true, rlwe::Words(2 * poly_words)};
  const std::size_t n = ring_.n();
  // Row j of both permuted polynomials, made inside the key switch's first parallel phase: c0 goes straight to
  // the output, c1 is the key-switching target.
  const rlwe::TargetRowMaker permuted_c1 = [&](std::size_t j, u64* dst) {
    galois_.permute_row(table, a.data.data() + j * n, out.data.data() + j * n);
    galois_.permute_row(table, a.data.data() + poly_words + j * n, dst);
  };
  rlwe::key_switch(ring_, L, permuted_c1, galois.keys[index], out.data.data(), out.data.data() + poly_words, true);
  check_not_transparent(out, level);
  return out;
}

CkksCipher Evaluator::rotate_vector(const CkksCipher& a, int steps, const KeySwitchingKeys& galois) const {
  return apply_galois(a, rlwe::galois_elt_from_step(steps, ring_.n()), galois);
}

std::vector<CkksCipher> Evaluator::apply_galois_hoisted(const CkksCipher& a,
                                                        const std::vector<std::uint32_t>& galois_elts,
                                                        const KeySwitchingKeys& galois) const {
  if (galois_elts.empty()) fail("E_INVALID_ARGUMENT", "no Galois elements to apply");
  const Level* level = nullptr;
  for (std::uint32_t elt : galois_elts) level = &check_galois(a, elt, galois);
  const std::size_t L = level->prime_count;
  const std::size_t poly_words = L * ring_.n();
  const rlwe::HoistedTarget c1(ring_, L, a.data.data() + poly_words);
  std::vector<CkksCipher> out;
  std::vector<rlwe::HoistedTarget::Job> jobs;
  out.reserve(galois_elts.size());
  jobs.reserve(galois_elts.size());
  for (std::uint32_t elt : galois_elts) {
    out.push_back(CkksCipher{a.parms_id, 2, a.scale, true, {}});
    out.back().data.resize(2 * poly_words);  // every word is written by the key switch
    u64* r = out.back().data.data();
    jobs.push_back({galois_.ntt_permutation(elt).data(), &galois.keys[(elt - 1) / 2], r, r + poly_words});
  }
  c1.apply(jobs, a.data.data());
  for (const CkksCipher& r : out) check_not_transparent(r, *level);
  return out;
}

std::vector<CkksCipher> Evaluator::rotate_vector_hoisted(const CkksCipher& a, const std::vector<int>& steps,
                                                         const KeySwitchingKeys& galois) const {
  if (steps.empty()) fail("E_INVALID_ARGUMENT", "no rotation steps");
  level_of(a);
  if (galois.parms_id != chain_.key_level().parms_id) fail("E_PARAMS_MISMATCH", "Galois keys are not valid for encryption parameters");
  // Step 0 returns the input, as SEAL's rotate_vector does; the other steps share one decomposition.
  std::vector<std::uint32_t> elts;
  for (int step : steps) {
    if (step != 0) elts.push_back(rlwe::galois_elt_from_step(step, ring_.n()));
  }
  std::vector<CkksCipher> rotated = elts.empty() ? std::vector<CkksCipher>{} : apply_galois_hoisted(a, elts, galois);
  std::vector<CkksCipher> out;
  out.reserve(steps.size());
  std::size_t next = 0;
  for (int step : steps) out.push_back(step == 0 ? a : std::move(rotated[next++]));
  return out;
}

CkksCipher Evaluator::complex_conjugate(const CkksCipher& a, const KeySwitchingKeys& galois) const {
  return apply_galois(a, static_cast<std::uint32_t>(2 * ring_.n() - 1), galois);
}

}  // namespace hefty::ckks
