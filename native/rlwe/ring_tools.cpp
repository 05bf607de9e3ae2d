#include "ring_tools.h"

#include "ntt_engine.h"
#include "ntt_simd.h"

namespace hefty::rlwe {

RingTools::RingTools(std::size_t n, const std::vector<u64>& key_primes)
    : n_(n), ntt_(std::make_unique<NttEngine>(n, key_primes)) {
  const std::size_t k = key_primes.size();
  for (u64 q : key_primes) mods_.emplace_back(q);
  inv_last_.resize(k);
  half_last_.resize(k);
  for (std::size_t last = 0; last < k; last++) {
    for (std::size_t i = 0; i < last; i++) {
      const Mod& m = mods_[i];
      inv_last_[last].emplace_back(m.inv(m.reduce(key_primes[last])), m.q);
      half_last_[last].push_back(m.reduce(key_primes[last] >> 1));
    }
  }
}

RingTools::~RingTools() = default;

void RingTools::ntt_forward(u64* row, std::size_t i) const { ntt_->forward(row, i); }
void RingTools::ntt_inverse(u64* row, std::size_t i) const { ntt_->inverse(row, i); }

void RingTools::shift_by_half(u64* row, std::size_t last) const {
  const Mod& m = mods_[last];
  const u64 half = m.q >> 1;
  for (std::size_t j = 0; j < n_; j++) row[j] = m.add(row[j], half);
}

void RingTools::round_drop_row(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in, const u64* base,
                               u64* out, u64* scratch) const {
  round_drop(last, i, last_shifted, in, base, out, scratch, true);
}

void RingTools::round_drop_row_coefficients(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in,
                                            u64* out, u64* scratch) const {
  round_drop(last, i, last_shifted, in, nullptr, out, scratch, false);
}

void RingTools::round_drop(std::size_t last, std::size_t i, const u64* last_shifted, const u64* in, const u64* base,
                           u64* out, u64* scratch, bool ntt_form) const {
  const Mod& m = mods_[i];
  const u64 q = m.q;
  const u64 half = half_last_[last][i];
  const u64 q_last = mods_[last].q;
  if (n_ % 8 == 0 && simd::available()) {
    simd::round_drop_prepare(last_shifted, scratch, n_, m, half, q_last > q);
    if (ntt_form) ntt_forward(scratch, i);
    simd::round_drop_finish(in, scratch, base, out, n_, q, inv_last_[last][i]);
    return;
  }
  for (std::size_t j = 0; j < n_; j++) {
    const u64 x = q_last > q ? m.reduce(last_shifted[j]) : last_shifted[j];
    scratch[j] = m.sub(x, half);
  }
  if (ntt_form) ntt_forward(scratch, i);
  finish_drop(m, inv_last_[last][i], in, scratch, base, out);
}

void RingTools::exact_drop_row(std::size_t last, std::size_t i, const u64* x, const u64* k, const u64* in, const u64* base,
                               u64* out, u64* scratch) const {
  const Mod& m = mods_[i];
  const u64 q_last = m.reduce(mods_[last].q);
  for (std::size_t j = 0; j < n_; j++) scratch[j] = m.add(m.mul(m.reduce(k[j]), q_last), m.reduce(x[j]));
  ntt_forward(scratch, i);
  finish_drop(m, inv_last_[last][i], in, scratch, base, out);
}

void RingTools::finish_drop(const Mod& m, const ShoupMul& inv, const u64* in, const u64* subtracted, const u64* base,
                            u64* out) const {
  const u64 q = m.q;
  if (base != nullptr) {
    for (std::size_t j = 0; j < n_; j++) out[j] = m.add(base[j], inv.apply(in[j] + q - subtracted[j], q));
  } else {
    for (std::size_t j = 0; j < n_; j++) out[j] = inv.apply(in[j] + q - subtracted[j], q);
  }
}

}  // namespace hefty::rlwe
