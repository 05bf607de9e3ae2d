// Addon entry points for the parameter layer (native/seal) and the ring NTT, next to the CKKS engine's.
#pragma once
#include <napi.h>

namespace hefty::addon {

// EncryptionParameters save/load and parms_ids for every scheme, BFVDefault, PlainModulus::Batching and
// the security table.
void register_params_functions(Napi::Env env, Napi::Object exports);
// The negacyclic NTT of native/rlwe on caller-owned BigUint64Arrays, and its tables.
void register_ntt_functions(Napi::Env env, Napi::Object exports);

}  // namespace hefty::addon
