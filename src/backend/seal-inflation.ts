/**
 * Bounds on decompressing SEAL objects (spec §1.2), shared by both engines: bytes are inflated by hefty
 * (seal-compression.ts), never past the largest legal size of the object for its parameters, and handed on
 * uncompressed. The native engine only reads uncompressed objects; the WASM engine is
 * given them too, so node-seal never inflates a bomb inside its heap (which it would never give back).
 */
import { MAX_OBJECT_BYTES } from './seal-compression.ts';
import type { ParamsSpec } from './types.ts';

export type LoadKind = 'ciphertext' | 'public-key' | 'plaintext' | 'secret-key' | 'keys';

/** Encryption parameters: header, fixed fields and at most 257 moduli (plus the plain modulus). */
export const MAX_PARAMS_BYTES = 16 + 17 + 24 * 257;

/** Largest legal size of an object kind for these parameters. */
function maxBytes(kind: LoadKind, params: ParamsSpec): number {
  const n = params.polyModulusDegree;
  const k = params.coeffModulus.length;
  const cipher = (polys: number): number => 113 + 81 + 8 * polys * n * k;
  switch (kind) {
    case 'ciphertext':
      return cipher(16);
    case 'public-key':
      return cipher(2);
    case 'plaintext':
    case 'secret-key':
      return 88 + 8 * n * k;
    case 'keys':
      return MAX_OBJECT_BYTES;
  }
}

/**
 * Bound on the decompressed size of a compressed input. Key sets have no useful structural bound (up to 2N
 * galois entries), but their key material is uniform residues: a word modulo a b-bit prime carries about b
 * bits, so no compressor shrinks it more than 64/(b-1) times. Only the table of empty galois entries (8 bytes
 * each) and the ~200 bytes of headers per key compress further. A key set inflating past that is a bomb.
 */
export function maxInflated(kind: LoadKind, params: ParamsSpec, compressedBytes: number): number {
  const structural = maxBytes(kind, params);
  if (kind !== 'keys') return structural;
  const n = params.polyModulusDegree;
  const primes = params.coeffModulus.map((q) => BigInt(q));
  const minBits = Math.min(...primes.map((q) => q.toString(2).length));
  const ratio = Math.ceil(64 / Math.max(1, minBits - 1));
  const headerShare = 1 + 200 / (8 * n * primes.length); // headers per key, relative to its smallest payload
  return Math.min(structural, 4096 + 16 * n + Math.ceil(ratio * headerShare * compressedBytes));
}
