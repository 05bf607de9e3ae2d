// libFuzzer target: the EncryptionParameters loader (native/seal/params), with the re-save invariant.
#include "../../seal/params.h"
#include "fuzz_common.h"

using namespace hefty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz::check_loader<seal::EncryptionParameters>(
      data, size, [](const seal::EncryptionParameters& p, std::uint8_t* out) { return seal::save_params(p, out); },
      [](const std::uint8_t* d, std::size_t s) {
        seal::EncryptionParameters p = seal::load_params(d, s);
        seal::parms_id(p, p.coeff_modulus.size());
        return p;
      },
      "params");
}
