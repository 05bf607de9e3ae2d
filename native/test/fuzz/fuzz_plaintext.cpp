// libFuzzer target: the CKKS Plaintext loader (native/ckks/serialization), with the re-save invariant.
#include "fuzz_common.h"

using namespace hefty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::check_loader<ckks::CkksPlain>(
      data, size, [](const ckks::CkksPlain& pt, std::uint8_t* out) { return ckks::save_plaintext(pt, out); },
      [](const std::uint8_t* d, std::size_t s) { return ckks::load_plaintext(fuzz::context(), d, s, false); }, "plaintext");
}
