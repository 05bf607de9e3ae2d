// libFuzzer target: the Ciphertext loader (native/ckks/serialization), full and seeded forms,
// with the re-save invariant (a seeded object re-saves expanded).
#include "fuzz_common.h"

using namespace hefty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::check_loader<ckks::CkksCipher>(
      data, size,
      [](const ckks::CkksCipher& ct, std::uint8_t* out) { return ckks::save_ciphertext(ct, fuzz::context(), out); },
      [](const std::uint8_t* d, std::size_t s) { return ckks::load_ciphertext(fuzz::context(), d, s, false); }, "ciphertext");
}
