#include "context.h"

#include <algorithm>

#include "../rlwe/crypto_core.h"
#include "../rlwe/thread_pool.h"

namespace hefty::bgv {

LevelTools::LevelTools(const rlwe::RingTools& ring, std::size_t L, u64 t)
    : ring_(ring), L_(L), t_(t), threshold_((t + 1) >> 1) {
  const Mod mt(t);
  q_mod_t_ = 1;
  for (std::size_t i = 0; i < L; i++) {
    const Mod& qi = ring.mod(i);
    t_mod_q_.push_back(qi.reduce(t));
    prime_.push_back(static_cast<double>(qi.q));
    q_mod_t_ = mt.mul(q_mod_t_, mt.reduce(qi.q));
    // Q/q_i modulo q_i and modulo t, one factor at a time.
    u64 punctured_q = 1, punctured_t = 1;
    for (std::size_t k = 0; k < L; k++) {
      if (k == i) continue;
      punctured_q = qi.mul(punctured_q, qi.reduce(ring.mod(k).q));
      punctured_t = mt.mul(punctured_t, mt.reduce(ring.mod(k).q));
    }
    inv_punctured_.emplace_back(qi.inv(punctured_q), qi.q);
    punctured_mod_t_.push_back(punctured_t);
  }
  inv_q_last_mod_t_ = rlwe::inverse_mod(ring.mod(L - 1).q % t, t);
}

void LevelTools::lift_ntt(const u64* m, std::size_t count, u64* rows) const {
  const std::size_t n = ring_.n();
  rlwe::parallel_for(L_, [&](std::size_t j) {
    u64* row = rows + j * n;
    for (std::size_t i = 0; i < count; i++) row[i] = lift(m[i], j);
    std::fill(row + count, row + n, 0);
    ring_.ntt_forward(row, j);
  });
}

void LevelTools::to_plain(const u64* x, u64* m) const {
  const std::size_t n = ring_.n();
  const Mod mt(t_);
  for (std::size_t k = 0; k < n; k++) {
    double v = 0.0;
    u64 sum = 0;
    for (std::size_t i = 0; i < L_; i++) {
      const u64 y = inv_punctured_[i].apply(x[i * n + k], ring_.mod(i).q);
      v += static_cast<double>(y) / prime_[i];
      sum = mt.add(sum, mt.mul(mt.reduce(y), punctured_mod_t_[i]));
    }
    v += 0.5;
    const u64 rounded = static_cast<u64>(v);
    m[k] = mt.sub(sum, mt.mul(mt.reduce(rounded), q_mod_t_));
  }
}

Context::Context(std::size_t n, std::vector<std::uint64_t> primes, std::uint64_t plain_modulus)
    : IntegerContext(seal::Scheme::Bgv, n, std::move(primes), plain_modulus) {
  for (const Level* level = &chain().key_level(); level != nullptr; level = chain().next(*level)) {
    tools_[level->chain_index] = std::make_unique<LevelTools>(ring(), level->prime_count, plain_modulus);
  }
}

}  // namespace hefty::bgv
