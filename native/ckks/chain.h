// The chain and object types CKKS uses: the scheme-neutral ones of the seal and rlwe layers, under their CKKS names.
#pragma once
#include "../rlwe/objects.h"
#include "../seal/chain.h"

namespace hefty::ckks {

using ParmsId = seal::ParmsId;
using seal::Chain;
using seal::Level;
using CkksCipher = rlwe::Cipher;
using CkksPlain = rlwe::Plain;

}  // namespace hefty::ckks
