#include "rns_tools.h"

#include "../ring/multiword.h"
#include "../rlwe/op_error.h"
#include "../rlwe/scratch.h"
#include "../seal/primes.h"

namespace hefty::bfv {

namespace {

// a^-1 mod m for gcd(a, m) = 1 and any modulus m >= 2 (t need not be prime).
u64 inverse_mod(u64 a, u64 m) {
  __int128 r0 = m, r1 = a % m, t0 = 0, t1 = 1;
  while (r1 != 0) {
    const __int128 quotient = r0 / r1;
    const __int128 r2 = r0 - quotient * r1;
    const __int128 t2 = t0 - quotient * t1;
    r0 = r1;
    r1 = r2;
    t0 = t1;
    t1 = t2;
  }
  if (r0 != 1) rlwe::fail("E_INVALID_PARAMS", "plain modulus is not coprime to the coefficient modulus");
  if (t0 < 0) t0 += m;
  return static_cast<u64>(t0);
}

// Π_{k != skip} moduli[k] mod m (skip = npos for the full product).
u64 product_mod(const std::vector<u64>& moduli, std::size_t skip, const Mod& m) {
  u64 r = 1 % m.q;
  for (std::size_t k = 0; k < moduli.size(); k++) {
    if (k != skip) r = m.mul(r, m.reduce(moduli[k]));
  }
  return r;
}

constexpr std::size_t kAll = ~std::size_t{0};

std::vector<u64> values_of(const std::vector<Mod>& mods) {
  std::vector<u64> out;
  for (const Mod& m : mods) out.push_back(m.q);
  return out;
}

// The converter from base `from` to `to`, with pre_j = factor_j·(A/a_j)^-1 mod a_j.
BaseConverter make_converter(const std::vector<Mod>& from, const std::vector<Mod>& to, const std::vector<u64>& factors) {
  const std::vector<u64> a = values_of(from);
  std::vector<u64> pre;
  for (std::size_t j = 0; j < from.size(); j++) {
    const Mod& m = from[j];
    pre.push_back(m.mul(m.reduce(factors[j]), m.inv(product_mod(a, j, m))));
  }
  std::vector<std::vector<u64>> punctured;
  for (const Mod& o : to) {
    std::vector<u64> row;
    for (std::size_t j = 0; j < from.size(); j++) row.push_back(product_mod(a, j, o));
    punctured.push_back(std::move(row));
  }
  return BaseConverter(from, std::move(pre), to, std::move(punctured));
}

}  // namespace

std::vector<u64> primes_below(u64 factor, int bits, std::size_t count) {
  std::vector<u64> out;
  const u64 top = (u64{1} << bits) - 1;
  u64 v = top / factor * factor + 1;
  const u64 floor = u64{1} << (bits - 1);
  while (out.size() < count && v > floor) {
    if (seal::is_prime(v)) out.push_back(v);
    if (v < factor) break;
    v -= factor;
  }
  if (out.size() < count) rlwe::fail("E_INVALID_PARAMS", "failed to find enough qualifying primes");
  return out;
}

BaseConverter::BaseConverter(std::vector<Mod> from, std::vector<u64> pre, std::vector<Mod> to,
                             std::vector<std::vector<u64>> punctured_mod_to)
    : from_(std::move(from)), to_(std::move(to)), punctured_(std::move(punctured_mod_to)) {
  for (std::size_t j = 0; j < from_.size(); j++) pre_.emplace_back(pre[j], from_[j].q);
}

void BaseConverter::weigh(const u64* in, std::size_t n, u64* y) const {
  for (std::size_t j = 0; j < from_.size(); j++) {
    const ShoupMul w = pre_[j];
    const u64 q = from_[j].q;
    const u64* src = in + j * n;
    u64* dst = y + j * n;
    for (std::size_t i = 0; i < n; i++) dst[i] = w.apply(src[i], q);
  }
}

void BaseConverter::convert(const u64* in, std::size_t n, u64* out, u64* scratch) const {
  weigh(in, n, scratch);
  for (std::size_t o = 0; o < to_.size(); o++) {
    const Mod& m = to_[o];
    u64* dst = out + o * n;
    for (std::size_t i = 0; i < n; i++) dst[i] = m.reduce(sum_for(scratch, n, i, o));
  }
}

LevelTools::LevelTools(std::size_t n, const std::vector<u64>& primes, u64 t) : n_(n), t_(t) {
  const std::size_t L = primes.size();
  for (u64 q : primes) q_.emplace_back(q);
  threshold_ = (t + 1) >> 1;
  t_mod_ = Mod(t);
  q_mod_t_ = product_mod(primes, kAll, t_mod_);
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = q_[j];
    // floor(Q/t) = (Q - (Q mod t))/t, and Q ≡ 0 mod q_j.
    delta_mod_q_.push_back(m.neg(m.mul(m.reduce(q_mod_t_), inverse_mod(m.reduce(t), m.q))));
  }

  // Auxiliary primes (spec §9.5): m_sk, γ, then B, from the 61-bit primes ≡ 1 mod 2N in descending order.
  ring::Words product{1};
  for (u64 q : primes) product = ring::mul_word(product, q);
  const int q_bits = ring::bit_length(product.data(), product.size());
  const int t_bits = 64 - __builtin_clzll(t);
  std::size_t b_count = L;
  if (32 + t_bits + q_bits >= 61 * static_cast<int>(L) + 61) b_count++;
  const std::vector<u64> aux = primes_below(2 * static_cast<u64>(n), 61, b_count + 2);
  const u64 m_sk = aux[0];
  gamma_ = Mod(aux[1]);
  std::vector<u64> b_primes(aux.begin() + 2, aux.end());
  b_size_ = b_count;
  for (u64 b : b_primes) bsk_.emplace_back(b);
  bsk_.emplace_back(m_sk);
  std::vector<u64> bsk_values = values_of(bsk_);
  bsk_ring_ = std::make_unique<rlwe::RingTools>(n, bsk_values);

  // Decryption: q -> {t, γ} with t·γ folded into the weights.
  std::vector<u64> tg;
  for (const Mod& m : q_) tg.push_back(m.mul(m.reduce(t), m.reduce(gamma_.q)));
  to_t_gamma_ = make_converter(q_, {t_mod_, gamma_}, tg);
  neg_inv_q_t_ = t_mod_.neg(inverse_mod(q_mod_t_, t));
  neg_inv_q_gamma_ = gamma_.neg(gamma_.inv(product_mod(primes, kAll, gamma_)));
  inv_gamma_t_ = inverse_mod(gamma_.q % t, t);

  // Lifting: q -> Bsk with m̃ = 2^32 folded into the weights; the m̃ component is computed on the side.
  std::vector<u64> mtilde, tq;
  for (const Mod& m : q_) {
    mtilde.push_back(m.reduce(u64{1} << 32));
    tq.push_back(m.reduce(t));
  }
  q_to_bsk_m_ = make_converter(q_, bsk_, mtilde);
  std::uint32_t q_low = 1;
  for (u64 q : primes) q_low *= static_cast<std::uint32_t>(q);
  std::uint32_t inv = q_low;  // Newton: correct to 3 bits for odd values, doubling each step
  for (int k = 0; k < 5; k++) inv *= 2u - q_low * inv;
  neg_inv_q_mtilde_ = 0u - inv;
  for (const Mod& b : bsk_) {
    const u64 q_mod_b = product_mod(primes, kAll, b);
    q_mod_bsk_.push_back(q_mod_b);
    inv_mtilde_bsk_.emplace_back(b.inv(b.reduce(u64{1} << 32)), b.q);
    t_mod_bsk_.emplace_back(b.reduce(t), b.q);
    inv_q_bsk_.emplace_back(b.inv(q_mod_b), b.q);
  }

  // Flooring: q -> Bsk with t folded in; Shenoy-Kumaresan B -> q ∪ {m_sk}.
  q_to_bsk_t_ = make_converter(q_, bsk_, tq);
  std::vector<Mod> b_mods(bsk_.begin(), bsk_.begin() + static_cast<std::ptrdiff_t>(b_count));
  std::vector<Mod> targets = q_;
  targets.push_back(bsk_.back());
  b_to_q_msk_ = make_converter(b_mods, targets, std::vector<u64>(b_count, 1));
  const Mod& msk = bsk_.back();
  inv_b_msk_ = msk.inv(product_mod(b_primes, kAll, msk));
  for (const Mod& m : q_) b_mod_q_.push_back(product_mod(b_primes, kAll, m));
  fold_vector_tables(primes, b_primes);
}

void LevelTools::fold_vector_tables(const std::vector<u64>& primes, const std::vector<u64>& b_primes) {
  const std::size_t L = q_.size();
  const auto shoup = [](u64 value, const Mod& m) { return ShoupMul(value, m.q); };
  const u64 mtilde = u64{1} << 32;

  simd::LiftTables& lift = lift_tables_;
  lift.q = q_;
  lift.bsk = bsk_;
  lift.neg_inv_q_mtilde = neg_inv_q_mtilde_;
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = q_[j];
    lift.pre.push_back(shoup(m.mul(m.reduce(mtilde), m.inv(product_mod(primes, j, m))), m));
    std::uint32_t low = 1;
    for (std::size_t k = 0; k < L; k++) {
      if (k != j) low *= static_cast<std::uint32_t>(primes[k]);
    }
    lift.punctured_low.push_back(low);
  }
  for (std::size_t o = 0; o < bsk_.size(); o++) {
    const Mod& b = bsk_[o];
    const u64 inv_m = inv_mtilde_bsk_[o].w;
    for (std::size_t j = 0; j < L; j++) lift.weights.push_back(shoup(b.mul(product_mod(primes, j, b), inv_m), b));
    const u64 r_weight = b.mul(q_mod_bsk_[o], inv_m);
    lift.r_weight.push_back(shoup(r_weight, b));
    lift.r_negative.push_back(b.neg(b.mul(b.reduce(mtilde), r_weight)));
  }

  simd::RoundTables& round = round_tables_;
  round.q = q_;
  round.t = t_mod_;
  round.gamma = gamma_;
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = q_[j];
    const u64 tg = m.mul(m.reduce(t_), m.reduce(gamma_.q));
    round.pre.push_back(shoup(m.mul(tg, m.inv(product_mod(primes, j, m))), m));
    round.t_weights.push_back(shoup(t_mod_.mul(product_mod(primes, j, t_mod_), neg_inv_q_t_), t_mod_));
    round.gamma_weights.push_back(shoup(gamma_.mul(product_mod(primes, j, gamma_), neg_inv_q_gamma_), gamma_));
  }
  round.one_mod_t = shoup(1, t_mod_);
  round.inv_gamma_t = shoup(inv_gamma_t_, t_mod_);

  simd::FloorTables& floor = floor_tables_;
  floor.q = q_;
  floor.bsk = bsk_;
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = q_[j];
    floor.pre_q.push_back(shoup(m.mul(m.reduce(t_), m.inv(product_mod(primes, j, m))), m));
  }
  for (std::size_t o = 0; o < bsk_.size(); o++) {
    const Mod& b = bsk_[o];
    const u64 inv_q = inv_q_bsk_[o].w;
    for (std::size_t j = 0; j < L; j++) floor.f_weights.push_back(shoup(b.neg(b.mul(product_mod(primes, j, b), inv_q)), b));
    floor.f_self.push_back(shoup(b.mul(t_mod_bsk_[o].w, inv_q), b));
  }
  const Mod& msk = bsk_.back();
  for (std::size_t k = 0; k < b_size_; k++) {
    const Mod& b = bsk_[k];
    floor.pre_b.push_back(shoup(b.inv(product_mod(b_primes, k, b)), b));
    floor.alpha_weights.push_back(shoup(msk.mul(product_mod(b_primes, k, msk), inv_b_msk_), msk));
  }
  floor.alpha_self = shoup(msk.neg(inv_b_msk_), msk);
  for (std::size_t j = 0; j < L; j++) {
    const Mod& m = q_[j];
    for (std::size_t k = 0; k < b_size_; k++) floor.out_weights.push_back(shoup(product_mod(b_primes, k, m), m));
    floor.b_mod_q.push_back(shoup(b_mod_q_[j], m));
    floor.neg_b_mod_q.push_back(shoup(m.neg(b_mod_q_[j]), m));
  }
}

void LevelTools::add_scaled_plain(const u64* m, std::size_t count, u64* c0, bool subtract) const {
  const Mod& t = t_mod_;
  for (std::size_t i = 0; i < count; i++) {
    const u64 v = m[i];
    if (v == 0) continue;
    // round(v·Q/t) = v·floor(Q/t) + floor((v·(Q mod t) + h)/t).
    const u64 fraction = static_cast<u64>((static_cast<u128>(v) * q_mod_t_ + threshold_) / t.q);
    for (std::size_t j = 0; j < q_.size(); j++) {
      const Mod& q = q_[j];
      const u64 add = q.add(q.mul(q.reduce(v), delta_mod_q_[j]), q.reduce(fraction));
      u64& dst = c0[j * n_ + i];
      dst = subtract ? q.sub(dst, add) : q.add(dst, add);
    }
  }
}

void LevelTools::scale_and_round(const u64* x, u64* m) const {
  if (simd::usable(n_)) {
    rlwe::ScratchBuffer y(q_.size() * 8);
    return simd::scale_and_round(round_tables_, x, n_, m, y.data());
  }
  scale_and_round_portable(x, m);
}

void LevelTools::scale_and_round_portable(const u64* x, u64* m) const {
  const std::size_t L = q_.size();
  rlwe::ScratchBuffer y(L * n_);
  to_t_gamma_.weigh(x, n_, y.data());
  const u64 t = t_mod_.q, gamma = gamma_.q, half_gamma = gamma >> 1;
  for (std::size_t i = 0; i < n_; i++) {
    const u64 zt = t_mod_.mul(t_mod_.reduce(to_t_gamma_.sum_for(y.data(), n_, i, 0)), neg_inv_q_t_);
    const u64 zg = gamma_.mul(gamma_.reduce(to_t_gamma_.sum_for(y.data(), n_, i, 1)), neg_inv_q_gamma_);
    u64 v;
    if (zg > half_gamma) {
      v = t_mod_.add(zt, (gamma - zg) % t);
    } else {
      v = t_mod_.sub(zt, zg % t);
    }
    m[i] = v != 0 ? t_mod_.mul(v, inv_gamma_t_) : 0;
  }
}

void LevelTools::lift_to_bsk(const u64* c, u64* out, u64* scratch) const {
  if (simd::usable(n_)) return simd::lift_to_bsk(lift_tables_, c, n_, out, scratch);
  lift_to_bsk_portable(c, out, scratch);
}

void LevelTools::floor_to_q(const u64* d_q, const u64* d_bsk, u64* out, u64* scratch) const {
  if (simd::usable(n_)) return simd::floor_to_q(floor_tables_, d_q, d_bsk, n_, out, scratch);
  floor_to_q_portable(d_q, d_bsk, out, scratch);
}

void LevelTools::lift_to_bsk_portable(const u64* c, u64* out, u64* scratch) const {
  const std::size_t L = q_.size();
  u64* y = scratch;
  q_to_bsk_m_.weigh(c, n_, y);
  // The weights mod m̃ = 2^32: (Q/q_j) mod 2^32.
  std::vector<std::uint32_t> punct_low(L);
  for (std::size_t j = 0; j < L; j++) {
    std::uint32_t p = 1;
    for (std::size_t k = 0; k < L; k++) {
      if (k != j) p *= static_cast<std::uint32_t>(q_[k].q);
    }
    punct_low[j] = p;
  }
  // r (centered, below 2^31 in magnitude) stored as its residue-ready two's complement in scratch.
  auto* r = reinterpret_cast<std::int64_t*>(scratch + L * n_);
  for (std::size_t i = 0; i < n_; i++) {
    std::uint32_t u = 0;
    for (std::size_t j = 0; j < L; j++) u += static_cast<std::uint32_t>(y[j * n_ + i]) * punct_low[j];
    const std::uint32_t rm = u * neg_inv_q_mtilde_;
    r[i] = rm >= (1u << 31) ? static_cast<std::int64_t>(rm) - (std::int64_t{1} << 32) : static_cast<std::int64_t>(rm);
  }
  for (std::size_t o = 0; o < bsk_.size(); o++) {
    const Mod& b = bsk_[o];
    const u64 q_mod_b = q_mod_bsk_[o];
    const ShoupMul inv_m = inv_mtilde_bsk_[o];
    u64* dst = out + o * n_;
    for (std::size_t i = 0; i < n_; i++) {
      const u64 u = b.reduce(q_to_bsk_m_.sum_for(y, n_, i, o));
      const u64 rb = r[i] >= 0 ? static_cast<u64>(r[i]) : b.q - static_cast<u64>(-r[i]);
      dst[i] = inv_m.apply(b.add(u, b.mul(q_mod_b, rb)), b.q);
    }
  }
}

void LevelTools::floor_to_q_portable(const u64* d_q, const u64* d_bsk, u64* out, u64* scratch) const {
  const std::size_t L = q_.size();
  const std::size_t bsk = bsk_.size();
  u64* y = scratch;
  u64* f = scratch + L * n_;
  u64* z = f + bsk * n_;
  q_to_bsk_t_.weigh(d_q, n_, y);
  for (std::size_t o = 0; o < bsk; o++) {
    const Mod& b = bsk_[o];
    const ShoupMul t_b = t_mod_bsk_[o];
    const ShoupMul inv_q = inv_q_bsk_[o];
    const u64* src = d_bsk + o * n_;
    u64* dst = f + o * n_;
    for (std::size_t i = 0; i < n_; i++) {
      const u64 conv = b.reduce(q_to_bsk_t_.sum_for(y, n_, i, o));
      dst[i] = inv_q.apply(b.sub(t_b.apply(src[i], b.q), conv), b.q);
    }
  }
  // Shenoy-Kumaresan: exact conversion B -> q using the redundant prime m_sk.
  b_to_q_msk_.weigh(f, n_, z);
  const Mod& msk = bsk_.back();
  const u64* f_msk = f + b_size_ * n_;
  const u64 half_msk = msk.q >> 1;
  for (std::size_t i = 0; i < n_; i++) {
    const u64 v = msk.reduce(b_to_q_msk_.sum_for(z, n_, i, L));
    u64 alpha = msk.mul(msk.sub(v, f_msk[i]), inv_b_msk_);
    const bool negative = alpha > half_msk;
    if (negative) alpha = msk.q - alpha;
    for (std::size_t j = 0; j < L; j++) {
      const Mod& q = q_[j];
      const u64 w = q.reduce(b_to_q_msk_.sum_for(z, n_, i, j));
      const u64 correction = q.mul(q.reduce(alpha), b_mod_q_[j]);
      out[j * n_ + i] = negative ? q.add(w, correction) : q.sub(w, correction);
    }
  }
}

}  // namespace hefty::bfv
