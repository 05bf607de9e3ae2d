// Key generation entry points shared by every scheme's glue (CKKS, BFV, BGV): the keys are the rlwe layer's,
// the schemes differ only in the noise factor (t for BGV, 1 otherwise). Seeded variants return SEAL bytes.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

#include "../rlwe/galois.h"
#include "../rlwe/objects.h"
#include "../rlwe/randomness.h"
#include "../rlwe/ring_tools.h"
#include "../seal/chain.h"
#include "ckks_handles.h"

namespace hefty::addon {

// What key generation reads from a context.
struct KeyMaterial {
  const rlwe::RingTools& ring;
  const rlwe::GaloisTables& galois;
  const seal::Chain& chain;
  rlwe::RandomnessFactory& randomness;
  std::uint64_t noise_factor;  // t for BGV, 1 for CKKS and BFV
};

struct GeneratedKeys {
  KeySet set;
  std::vector<std::vector<rlwe::Seed>> seeds;
};

bool arg_flag(const Napi::CallbackInfo& info, std::size_t i);
// Galois elements from a Uint32Array, each validated (odd, below 2N).
std::vector<std::uint32_t> arg_galois_elements(const Napi::CallbackInfo& info, std::size_t i, const rlwe::GaloisTables& galois);
// E_UNSUPPORTED when the chain has a single level (no special prime).
void require_key_switching(const seal::Chain& chain);
// A secret key of this context (a key of another context is refused before any arithmetic).
std::shared_ptr<rlwe::Plain> unwrap_secret(const seal::Chain& chain, const Napi::Value& v);

rlwe::Plain generate_secret_key(const KeyMaterial& keys);
// The public key: a handle, or its seeded SEAL bytes.
Napi::Value generate_public_key(Napi::Env env, const KeyMaterial& keys, const rlwe::Plain& sk, bool seeded);
GeneratedKeys relin_keys(const KeyMaterial& keys, const rlwe::Plain& sk);
GeneratedKeys galois_keys(const KeyMaterial& keys, const rlwe::Plain& sk, const std::vector<std::uint32_t>& elts);
// A KeySwitch handle, or the seeded SEAL bytes of the keys.
Napi::Value finish_keys(Napi::Env env, std::size_t n, GeneratedKeys&& keys, bool seeded);

// The chain as JS records (parmsId, primes, chainIndex, totalBits), key level first.
Napi::Value levels_array(Napi::Env env, const seal::Chain& chain, const std::vector<std::uint64_t>& primes);

}  // namespace hefty::addon
