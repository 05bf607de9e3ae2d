// rlwe/ckks building blocks against values copied from test/fixtures/seal-test-vectors.json (SEAL 4.1.2):
// NTT outputs, the Blake2xb stream, Galois elements and permutations, CKKS encoder coefficients, parms_id.
#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../ckks/context.h"
#include "../ckks/encoder_core.h"
#include "../rlwe/blake2xb.h"
#include "../rlwe/galois.h"
#include "../rlwe/ntt_engine.h"
#include "../rlwe/randomness.h"
#include "../seal/params.h"
#include "../seal/primes.h"

using namespace hefty;
using rlwe::u64;

namespace {

int failures = 0;

template <typename T>
void expect_equal(const char* what, const std::vector<T>& got, const std::vector<T>& want) {
  if (got != want) {
    std::printf("FAIL %s\n", what);
    failures++;
  }
}

void ntt_vectors() {
  rlwe::NttEngine small(8, {17});
  std::vector<u64> a{1, 2, 3, 4, 5, 6, 7, 8};
  small.forward(a.data(), 0);
  expect_equal("NTT N=8 forward", a, {5, 0, 13, 8, 9, 11, 5, 8});
  small.inverse(a.data(), 0);
  expect_equal("NTT N=8 inverse", a, {1, 2, 3, 4, 5, 6, 7, 8});
  rlwe::NttEngine sixteen(16, {1073741441});
  std::vector<u64> b(16);
  for (u64 i = 0; i < 16; i++) b[i] = i + 1;
  sixteen.forward(b.data(), 0);
  expect_equal("NTT N=16 forward", b,
               {1035902290, 781682489, 79833870, 462276081, 467063078, 194704575, 605398946, 108897671, 111024150,
                447301644, 238869168, 44367742, 255417289, 1050742338, 727802983, 904905789});
}

// a[k] = k at N=8192 and 16384 (spec "ramp" vectors): first eight outputs, the last one, and the round trip.
void ramp_vectors(std::size_t n, u64 q, const std::vector<u64>& first8, u64 last) {
  rlwe::NttEngine engine(n, {q});
  std::vector<u64> a(n);
  for (std::size_t i = 0; i < n; i++) a[i] = i;
  engine.forward(a.data(), 0);
  expect_equal("NTT ramp first 8", std::vector<u64>(a.begin(), a.begin() + 8), first8);
  expect_equal("NTT ramp last", std::vector<u64>{a.back()}, std::vector<u64>{last});
  engine.inverse(a.data(), 0);
  bool identity = true;
  for (std::size_t i = 0; i < n; i++) identity = identity && a[i] == i;
  if (!identity) {
    std::printf("FAIL NTT ramp round trip\n");
    failures++;
  }
}

void prng_vectors() {
  rlwe::Seed seed;
  for (int i = 0; i < 64; i++) seed[i] = static_cast<std::uint8_t>(i);
  auto stream = rlwe::blake2xb_stream(seed);
  std::vector<std::uint8_t> bytes(4104);
  stream->read(bytes.data(), bytes.size());
  expect_equal("Blake2xb bytes 0..7", std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 8),
               {0x17, 0xb9, 0x76, 0x7f, 0x63, 0x95, 0xa7, 0x7a});
  expect_equal("Blake2xb bytes 4096..4103", std::vector<std::uint8_t>(bytes.begin() + 4096, bytes.end()),
               {0x55, 0xe6, 0x0a, 0xa1, 0xba, 0x58, 0x50, 0x70});
}

// Every 64-byte leaf of a Blake2xb block (the AVX-512 path computes eight at once, lane = leaf offset mod 8)
// against BLAKE2b with the leaf's parameter block written out here: digest 64, leaf length 64, node offset i,
// xof length 4096, inner length 64; message = the root digest (key = seed, message = LE64(counter)).
void blake2xb_leaves() {
  std::uint8_t seed[64];
  for (int i = 0; i < 64; i++) seed[i] = static_cast<std::uint8_t>(3 * i + 1);
  for (std::uint64_t counter : {0ULL, 1ULL, 77ULL}) {
    std::vector<std::uint8_t> block(4096);
    rlwe::blake2xb_block(seed, counter, block.data());
    std::array<std::uint8_t, 64> root{};
    root[0] = 64, root[1] = 64, root[2] = 1, root[3] = 1, root[13] = 0x10;  // xof length 4096 = 0x1000
    std::uint8_t message[8];
    for (int b = 0; b < 8; b++) message[b] = static_cast<std::uint8_t>(counter >> (8 * b));
    std::uint8_t root_digest[64];
    rlwe::blake2b_with_params(root, seed, 64, message, 8, root_digest);
    bool ok = true;
    for (std::uint32_t i = 0; i < 64; i++) {
      std::array<std::uint8_t, 64> leaf{};
      leaf[0] = 64, leaf[4] = 64, leaf[8] = static_cast<std::uint8_t>(i), leaf[13] = 0x10, leaf[17] = 64;
      std::uint8_t want[64];
      rlwe::blake2b_with_params(leaf, nullptr, 0, root_digest, 64, want);
      ok = ok && std::memcmp(want, block.data() + 64 * i, 64) == 0;
    }
    if (!ok) {
      std::printf("FAIL Blake2xb leaves of block %llu\n", static_cast<unsigned long long>(counter));
      failures++;
    }
  }
}

// The uniform sampler's rejection: a word at or above the largest multiple of q is replaced by the next word
// after the bulk read, in row order; the rest are reduced mod q (vector and scalar reduction paths).
void uniform_rejection() {
  struct Scripted : rlwe::ByteStream {
    std::vector<std::uint64_t> words;
    std::size_t next = 0;
    void read(std::uint8_t* out, std::size_t count) override {
      for (std::size_t b = 0; b < count; b += 8, next++) std::memcpy(out + b, &words.at(next), 8);
    }
  };
  const std::uint64_t q = 1099510054913ULL, max = ~std::uint64_t{0};
  const rlwe::RingTools ring(16, {q});
  Scripted stream;
  for (std::size_t i = 0; i < 16; i++) stream.words.push_back(i == 3 || i == 9 ? max : max / (i + 2));
  stream.words.push_back(max - 2 * q - 77);  // replaces word 3
  stream.words.push_back(12345);             // replaces word 9
  std::vector<std::uint64_t> row(16);
  rlwe::sample_uniform(stream, ring, 1, row.data());
  bool ok = stream.next == 18;
  for (std::size_t i = 0; i < 16; i++) {
    const std::uint64_t word = i == 3 ? stream.words[16] : i == 9 ? stream.words[17] : stream.words[i];
    ok = ok && row[i] == word % q;
  }
  if (!ok) {
    std::printf("FAIL uniform sampler rejection\n");
    failures++;
  }
}

// SHAKE256 stream (prng_type 2) and the uniform sampler on it, seed 00..3f.
void shake256_vectors() {
  rlwe::Seed seed;
  for (int i = 0; i < 64; i++) seed[i] = static_cast<std::uint8_t>(i);
  auto stream = rlwe::shake256_stream(seed);
  std::vector<std::uint8_t> bytes(4160);
  stream->read(bytes.data(), bytes.size());
  expect_equal("SHAKE256 bytes 0..127", std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 128),
               {0x50, 0xa1, 0xcb, 0x96, 0x3b, 0xec, 0x11, 0xdc, 0x06, 0x63, 0x24, 0xb4, 0x16, 0xd0, 0xa1, 0x41, 0xa8, 0xc2, 0x9d, 0x16, 0x9a, 0xa5, 0xc2, 0xd0, 0x64, 0x04, 0x19, 0xcb, 0x82, 0x0e, 0xb3, 0x8b, 0xb9, 0x35, 0x9d, 0x06, 0xa6, 0xcb, 0x52, 0x8f, 0xad, 0xea, 0xb5, 0x3c, 0xd9, 0xbf, 0xaa, 0x65, 0xec, 0x8d, 0x0f, 0x1e, 0x52, 0x37, 0x34, 0xf0, 0xaf, 0x7a, 0xcf, 0x26, 0x8d, 0x9c, 0x39, 0xde, 0x32, 0x77, 0x77, 0xd8, 0x9d, 0x0c, 0x44, 0x01, 0x89, 0x25, 0xec, 0x35, 0x8a, 0x3b, 0xe4, 0x5a, 0x51, 0xe1, 0xfd, 0xc3, 0x05, 0x29, 0x23, 0x5d, 0xcd, 0xe0, 0x67, 0xe9, 0xab, 0x6c, 0xe0, 0x00, 0x10, 0xe2, 0x49, 0x58, 0xdd, 0x3e, 0xe0, 0x29, 0xdc, 0xf3, 0x13, 0x60, 0x3e, 0x30, 0x09, 0xb7, 0x25, 0x1d, 0xea, 0xa8, 0x86, 0x1e, 0x3a, 0xf4, 0xe7, 0x23, 0xf4, 0x66, 0x5c, 0x5d, 0x78, 0x53});
  expect_equal("SHAKE256 bytes 4096..4159", std::vector<std::uint8_t>(bytes.begin() + 4096, bytes.end()),
               {0x4b, 0x5d, 0xc9, 0x93, 0x54, 0x25, 0x41, 0x75, 0x3b, 0x9f, 0x72, 0xe3, 0x91, 0xc0, 0xa7, 0x3a, 0xb4, 0xe3, 0xb4, 0x68, 0x22, 0x87, 0xa3, 0x4e, 0x61, 0xf7, 0x31, 0x9f, 0x74, 0xbd, 0x78, 0x64, 0xb5, 0xe0, 0x3c, 0x63, 0xa1, 0xdd, 0xf1, 0x7e, 0x12, 0x94, 0x42, 0xf4, 0xec, 0x66, 0x32, 0x83, 0x76, 0xb3, 0xae, 0xe1, 0x4b, 0x07, 0xe5, 0x8e, 0xab, 0x5d, 0x8b, 0xb6, 0x98, 0x62, 0x08, 0x59});
  const std::vector<u64> primes{1152921504606748673ULL, 1099510890497ULL, 1099511480321ULL};
  rlwe::RingTools ring(8192, primes);
  std::vector<u64> rows(3 * 8192);
  auto uniform = rlwe::shake256_stream(seed);
  rlwe::sample_uniform(*uniform, ring, 3, rows.data());
  expect_equal("uniform SHAKE256 prime 0", std::vector<u64>(rows.begin(), rows.begin() + 4), {869735943737647427ULL, 117603861218878210ULL, 54788226706129563ULL, 843033510165152860ULL});
  expect_equal("uniform SHAKE256 prime 1", std::vector<u64>(rows.begin() + 8192, rows.begin() + 8196), {1088373796984ULL, 495428920407ULL, 985622968609ULL, 250720248593ULL});
  expect_equal("uniform SHAKE256 prime 2", std::vector<u64>(rows.begin() + 16384, rows.begin() + 16388), {824648466501ULL, 1090940138889ULL, 123491275647ULL, 661536526944ULL});
}

void galois_vectors() {
  expect_equal("galois elements N=8192",
               std::vector<std::uint32_t>{rlwe::galois_elt_from_step(1, 8192), rlwe::galois_elt_from_step(-1, 8192),
                                          rlwe::galois_elt_from_step(2, 8192), rlwe::galois_elt_from_step(-2, 8192),
                                          rlwe::galois_elt_from_step(1000, 8192), rlwe::galois_elt_from_step(-1000, 8192),
                                          rlwe::galois_elt_from_step(0, 8192)},
               {3, 10923, 9, 3641, 6945, 10465, 16383});
  rlwe::GaloisTables tables(16);
  expect_equal("NTT permutation g=3", tables.ntt_permutation(3), {8, 9, 11, 10, 14, 15, 12, 13, 2, 3, 0, 1, 5, 4, 6, 7});
  expect_equal("NTT permutation g=9", tables.ntt_permutation(9), {2, 3, 1, 0, 6, 7, 5, 4, 11, 10, 8, 9, 15, 14, 12, 13});
}

void encoder_vectors() {
  ckks::EncoderCore encoder(8192);
  const u64 primes[3] = {1152921504606748673ULL, 1099510890497ULL, 1099511480321ULL};
  const ckks::Complex values[4] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}};
  std::vector<u64> rows(3 * 8192);
  encoder.encode(values, 4, 1099511627776.0, primes, 3, 140, rows.data());
  expect_equal("encoder [1,2,3,4] at 2^40, prime 0", std::vector<u64>(rows.begin(), rows.begin() + 8),
               {2684354560, 2684291829, 2684103643, 2683790021, 2683350994, 2682786604, 2682096909, 2681281977});
}

void context_vectors() {
  const auto primes = seal::coeff_modulus_create(8192, {60, 40, 40, 60});
  expect_equal("Create(8192, {60,40,40,60})", primes,
               {0x0ffffffffffe8001ULL, 0x000000fffff4c001ULL, 0x000000fffffdc001ULL, 0x0fffffffffffc001ULL});
  const ckks::ParmsId id = seal::parms_id({seal::Scheme::Ckks, 8192, primes, 0}, 4);
  expect_equal("key-level parms_id", std::vector<u64>(id.begin(), id.end()),
               {0xcfda86153fdda8e2ULL, 0xbab3261f59a402acULL, 0xae8fe2601f0b6e53ULL, 0xddc508ab0e037ff5ULL});
}

}  // namespace

int main() {
  ntt_vectors();
  ramp_vectors(8192, 1152921504606748673ULL,
               {206136465489261679ULL, 698585924084672760ULL, 858388548699146261ULL, 783618737222637353ULL,
                424992127223350716ULL, 129295386487042455ULL, 400790109934263287ULL, 1024368903554582327ULL},
               527315018103188617ULL);
  ramp_vectors(16384, 1152921504606683137ULL,
               {1027594242110605659ULL, 907370829004509702ULL, 686579590092364621ULL, 228746049484893618ULL,
                941773454547157935ULL, 499382818746992580ULL, 1060104618257901165ULL, 181833829060542041ULL},
               162330340090512771ULL);
  // A 40-bit prime: the IFMA passes where the CPU has them.
  ramp_vectors(8192, 1099510890497ULL,
               {1064865625337ULL, 28508971298ULL, 988722758570ULL, 577815357787ULL, 538078880990ULL, 963337822370ULL,
                290548459305ULL, 247238280608ULL},
               811024331474ULL);
  prng_vectors();
  blake2xb_leaves();
  uniform_rejection();
  shake256_vectors();
  galois_vectors();
  encoder_vectors();
  context_vectors();
  if (failures == 0) std::printf("rlwe_vectors_test: ok\n");
  return failures == 0 ? 0 : 1;
}
