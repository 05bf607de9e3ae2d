// SEAL-format save and load of every object kind a handle can hold, for every scheme: the scheme's glue passes
// its WireContext (rlwe/serialization) and the JS arguments.
#pragma once
#include <napi.h>

#include "../rlwe/serialization.h"

namespace hefty::addon {

// info[1] is the handle to save. Without info[2] returns its SEAL bytes (uncompressed); with info[2] true, their
// count; with a Uint8Array info[2], writes them at its start and returns the count (E_INVALID_ARGUMENT when it is
// too small: nothing is written then).
Napi::Value save_object(const Napi::CallbackInfo& info, const rlwe::WireContext& wire);
// info[1] is the object kind ("ciphertext", "public-key", "plaintext", "secret-key", "keys"), info[2] the bytes.
Napi::Value load_object(const Napi::CallbackInfo& info, const rlwe::WireContext& wire);

}  // namespace hefty::addon
