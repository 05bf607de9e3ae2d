/**
 * Bounded decompression of SEAL objects (spec §1.2), shared by both engines: bytes are inflated here with
 * node:zlib, never past the largest legal size of the object for its parameters, and handed on uncompressed
 * (header rewritten to compr_mode 0). The native engine only reads uncompressed objects; the WASM engine is
 * given them too, so node-seal never inflates a bomb inside its heap (which it would never give back).
 */
import zlib from 'node:zlib';
import { HeftyError } from '../errors.ts';
import type { ParamsSpec } from './types.ts';

export type LoadKind = 'ciphertext' | 'public-key' | 'plaintext' | 'secret-key' | 'keys';

/** Upper bound for any decompressed object (SEAL's own loaders are bounded far above this in practice). */
export const MAX_OBJECT_BYTES = 1 << 30;
/** Encryption parameters: header, fixed fields and at most 257 moduli (plus the plain modulus). */
export const MAX_PARAMS_BYTES = 16 + 17 + 24 * 257;

/** Returns the uncompressed object (header rewritten to compr_mode 0); never inflates past `maxBytes`. */
export function decompress(bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (!(bytes instanceof Uint8Array))
    throw new HeftyError('E_BAD_SERIALIZATION', 'serialized objects must be a Uint8Array');
  if (bytes.length < 16) throw new HeftyError('E_BAD_SERIALIZATION', 'too short for a SEAL header');
  if (bytes[0] !== 0x5e || bytes[1] !== 0xa1 || bytes[2] !== 0x10)
    throw new HeftyError('E_BAD_SERIALIZATION', 'invalid SEALHeader');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getBigUint64(8, true);
  if (size !== BigInt(bytes.length))
    throw new HeftyError('E_BAD_SERIALIZATION', 'SEALHeader size does not match the data');
  const mode = bytes[5];
  if (mode === 0) return bytes;
  if (mode !== 1 && mode !== 2) throw new HeftyError('E_BAD_SERIALIZATION', `unsupported compr_mode ${mode}`);
  let body: Buffer;
  try {
    const options = { maxOutputLength: Math.max(1, Math.min(maxBytes, MAX_OBJECT_BYTES) - 16) };
    body =
      mode === 1 ? zlib.inflateSync(bytes.subarray(16), options) : zlib.zstdDecompressSync(bytes.subarray(16), options);
  } catch (e) {
    throw new HeftyError('E_BAD_SERIALIZATION', `cannot decompress: ${(e as Error).message}`, { cause: e });
  }
  const out = new Uint8Array(16 + body.length);
  out.set(bytes.subarray(0, 16));
  out[5] = 0;
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(body, 16);
  return out;
}

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
