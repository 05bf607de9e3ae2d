#include "keys.h"

#include <cstring>

#include "crypto_core.h"
#include "row_ops.h"
#include "scratch.h"
#include "thread_pool.h"

namespace hefty::rlwe {

Words generate_secret(const RingTools& ring, RandomnessFactory& randomness) {
  const std::size_t n = ring.n();
  std::vector<std::int64_t> s(n);
  auto stream = randomness.create();
  sample_ternary(*stream, n, s.data());
  Words rows(ring.key_count() * n);
  small_to_ntt_rows(ring, ring.key_count(), s.data(), rows.data());
  return rows;
}

ZeroCipher encrypt_zero_symmetric(const RingTools& ring, std::size_t L, const Words& secret,
                                  RandomnessFactory& randomness, u64 noise_factor) {
  const std::size_t n = ring.n();
  ZeroCipher out;
  out.data.resize(2 * L * n);
  auto bootstrap = randomness.create();
  bootstrap->read(out.seed.data(), out.seed.size());
  auto expansion = blake2xb_stream(out.seed);
  u64* c1 = out.data.data() + L * n;
  sample_uniform(*expansion, ring, L, c1);
  Scratch<std::int64_t> e(n);
  sample_cbd(*bootstrap, n, e.data());
  rlwe::encrypt_zero_symmetric(ring, L, secret.data(), c1, e.data(), out.data.data(), noise_factor);
  return out;
}

std::vector<ZeroCipher> generate_kswitch_key(const RingTools& ring, const Words& secret,
                                             const Words& target, RandomnessFactory& randomness,
                                             u64 noise_factor) {
  const std::size_t k = ring.key_count();
  std::vector<ZeroCipher> entries(k - 1);
  // Entries are independent draws: generate them in parallel (each takes its own randomness stream).
  parallel_for(k - 1, [&](std::size_t j) {
    entries[j] = encrypt_zero_symmetric(ring, k, secret, randomness, noise_factor);
    add_key_switching_target(ring, j, target.data(), entries[j].data.data());
  });
  return entries;
}

Words secret_squared(const RingTools& ring, const Words& secret) {
  const std::size_t n = ring.n();
  Words out(secret.size());
  for (std::size_t j = 0; j < ring.key_count(); j++) rows::multiply(&secret[j * n], &secret[j * n], &out[j * n], n, ring.mod(j));
  return out;
}

Words secret_galois(const RingTools& ring, const GaloisTables& galois, const Words& secret,
                               std::uint32_t galois_elt) {
  Words out(secret.size());
  galois.apply_ntt(galois_elt, secret.data(), ring.key_count(), out.data());
  return out;
}

Words encrypt_zero_public_key(const RingTools& ring, std::size_t L, const Words& pk,
                                         RandomnessFactory& randomness, u64 plain_modulus) {
  const std::size_t n = ring.n();
  const std::size_t k = ring.key_count();
  const std::size_t L_up = L < k ? L + 1 : L;
  auto stream = randomness.create();
  Scratch<std::int64_t> u(n), e0(n), e1(n);
  sample_ternary(*stream, n, u.data());
  sample_cbd(*stream, n, e0.data());
  sample_cbd(*stream, n, e1.data());
  const std::size_t out_rows = L_up == 1 ? 1 : L_up - 1;
  Words out(2 * out_rows * n);
  encrypt_zero_public(ring, L_up, pk.data(), u.data(), e0.data(), e1.data(), out.data(), out.data() + out_rows * n,
                      plain_modulus);
  return out;
}

}  // namespace hefty::rlwe
