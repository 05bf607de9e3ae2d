// libFuzzer target: seeded objects (spec §1.9). The first byte picks the loader (ciphertext, public key, key
// set) and the rest is the object; the corpus holds only seeded forms, so mutations concentrate on the prng
// info and the c0-only word arrays. A seeded object must expand to a full one that re-saves stably.
#include "fuzz_common.h"

using namespace hefty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int loader = data[0] % 3;
  if (loader == 2) {
    return fuzz::check_loader<ckks::KSwitchKeys>(
        data + 1, size - 1,
        [](const ckks::KSwitchKeys& k, std::uint8_t* out) { return ckks::save_kswitch_keys(k, fuzz::context().n(), out); },
        [](const std::uint8_t* d, std::size_t s) { return ckks::load_kswitch_keys(fuzz::context(), d, s); }, "seeded keys");
  }
  const bool public_key = loader == 1;
  return fuzz::check_loader<ckks::CkksCipher>(
      data + 1, size - 1,
      [](const ckks::CkksCipher& ct, std::uint8_t* out) { return ckks::save_ciphertext(ct, fuzz::context(), out); },
      [public_key](const std::uint8_t* d, std::size_t s) { return ckks::load_ciphertext(fuzz::context(), d, s, public_key); },
      "seeded ciphertext");
}
