// native/seal against test/fixtures/seal-test-vectors.json (SEAL 4.1.2 / node-seal 7): EncryptionParameters
// bytes for CKKS and BFV load and re-save exactly, BFV parms_ids of the whole chain, BFVDefault, Batching and the
// security table, and the loader's limits.
#include <cstdio>
#include <string>
#include <vector>

#include "../rlwe/op_error.h"
#include "../seal/params.h"
#include "../seal/primes.h"

using namespace hefty;
using u64 = std::uint64_t;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    failures++;
  }
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<std::uint8_t> save(const seal::EncryptionParameters& p) {
  std::vector<std::uint8_t> out(seal::save_params(p, nullptr));
  seal::save_params(p, out.data());
  return out;
}

bool rejects(const std::vector<std::uint8_t>& bytes) {
  try {
    seal::load_params(bytes.data(), bytes.size());
  } catch (const rlwe::OpError& e) {
    return std::string(e.code()) == "E_BAD_SERIALIZATION";
  }
  return false;
}

void params_vectors() {
  const auto ckks = from_hex(
      "5ea1100401000000990000000000000002002000000000000004000000000000005ea110040100000018000000000000"
      "000180feffffffff0f5ea1100401000000180000000000000001c0f4ffff0000005ea110040100000018000000000000"
      "0001c0fdffff0000005ea1100401000000180000000000000001c0ffffffffff0f5ea110040100000018000000000000"
      "000000000000000000");
  const seal::EncryptionParameters c = seal::load_params(ckks.data(), ckks.size());
  check(c.scheme == seal::Scheme::Ckks && c.n == 8192 && c.plain_modulus == 0, "CKKS params fields");
  check(c.coeff_modulus == seal::coeff_modulus_create(8192, {60, 40, 40, 60}), "CKKS params primes");
  check(save(c) == ckks, "CKKS params re-save");

  const auto bfv = from_hex(
      "5ea1100401000000810000000000000001001000000000000003000000000000005ea110040100000018000000000000"
      "0001e0feff0f0000005ea110040100000018000000000000000140fcff0f0000005ea110040100000018000000000000"
      "000100feff1f0000005ea1100401000000180000000000000001c00f0000000000");
  const seal::EncryptionParameters b = seal::load_params(bfv.data(), bfv.size());
  check(b.scheme == seal::Scheme::Bfv && b.n == 4096, "BFV params fields");
  check(b.coeff_modulus == seal::bfv_default(4096, 128), "BFV params primes = BFVDefault(4096)");
  check(b.plain_modulus == seal::plain_modulus_batching(4096, 20) && b.plain_modulus == 1032193, "BFV plain modulus");
  check(save(b) == bfv, "BFV params re-save");
  const std::vector<seal::ParmsId> expected = {
      {0xd529462e17b0f051ULL, 0xc057c2c7d402188fULL, 0x61f6dbdc01de0d10ULL, 0xbff9017e62a404e0ULL},
      {0x19fe3c41a79c7734ULL, 0x9ba4584646042a04ULL, 0x2f628bddaaacbd4fULL, 0x0287b72ae1b99a4aULL},
      {0x9e9f049e0e41d27bULL, 0x55fe9be9f7c40cb6ULL, 0x4875955e81bf6e71ULL, 0x0e0c6f26e4265433ULL}};
  check(seal::chain_parms_ids(b) == expected, "BFV chain parms_ids");

  // Limits: truncation, a prime count past the input, CKKS with a plain modulus, a modulus of 1, unknown scheme.
  check(rejects(std::vector<std::uint8_t>(bfv.begin(), bfv.end() - 1)), "truncated params");
  auto count = bfv;
  count[25 + 7] = 0x10;
  check(rejects(count), "huge prime count");
  auto plain = ckks;
  plain[ckks.size() - 8] = 7;
  check(rejects(plain), "CKKS with plain modulus");
  auto one = bfv;
  for (int i = 0; i < 8; i++) one[33 + 16 + i] = i == 0 ? 1 : 0;
  check(rejects(one), "modulus 1");
  auto scheme = bfv;
  scheme[16] = 4;
  check(rejects(scheme), "unknown scheme");
}

void moduli_tables() {
  check(seal::bfv_default(8192, 128) ==
            std::vector<u64>{0x7fffffd8001ULL, 0x7fffffc8001ULL, 0xfffffffc001ULL, 0xffffff6c001ULL, 0xfffffebc001ULL},
        "BFVDefault(8192, 128)");
  check(seal::plain_modulus_batching(64, 17) == 130817, "Batching(64, 17)");
  check(seal::max_bit_count(8192, 128) == 218 && seal::max_bit_count(32768, 256) == 476 &&
            seal::max_bit_count(1024, 192) == 19 && seal::max_bit_count(512, 128) == 0,
        "security table");
  bool threw = false;
  try {
    seal::bfv_default(65536, 128);
  } catch (const rlwe::OpError&) {
    threw = true;
  }
  check(threw, "BFVDefault outside the table throws");
}

}  // namespace

int main() {
  params_vectors();
  moduli_tables();
  if (failures == 0) std::printf("seal_params_test: ok\n");
  return failures == 0 ? 0 : 1;
}
