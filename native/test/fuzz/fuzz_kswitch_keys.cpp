// libFuzzer target: the KSwitchKeys loader behind RelinKeys and GaloisKeys (native/ckks/serialization), full
// and seeded entries, with the re-save invariant.
#include "fuzz_common.h"

using namespace hefty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::check_loader<ckks::KSwitchKeys>(
      data, size,
      [](const ckks::KSwitchKeys& k, std::uint8_t* out) { return ckks::save_kswitch_keys(k, fuzz::context().n(), out); },
      [](const std::uint8_t* d, std::size_t s) { return ckks::load_kswitch_keys(fuzz::context(), d, s); }, "kswitch keys");
}
