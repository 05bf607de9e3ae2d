/**
 * SEAL header compression (spec §1.2): a serialized object is its 16-byte header plus a body that is stored
 * raw, as a zlib stream or as a zstd frame. The native engine exchanges raw objects and applies compression
 * here; hefty also re-compresses objects it keeps as bytes (seeded keys) when a caller asks for another mode.
 */
import zlib from 'node:zlib';
import { HeftyError } from '../errors.ts';
import type { Compression } from './types.ts';

/** Upper bound for any decompressed object (SEAL's own loaders are bounded far above this in practice). */
export const MAX_OBJECT_BYTES = 1 << 30;

const COMPRESSION_MODE = { none: 0, zlib: 1, zstd: 2 } as const;

/**
 * zstd frames carry a content checksum (zlib streams always end in Adler-32), so a corrupted compressed key is
 * refused on load instead of decoding to other words that may all pass the range checks. Level 1: SEAL objects
 * are words uniform below their primes, where only the entropy coder gains anything; level 1 packs them 0.7%
 * smaller than the default level 3 and in about half the time (N=16384 galois keys, 44 MB).
 */
const ZSTD_OPTIONS = {
  params: { [zlib.constants.ZSTD_c_checksumFlag]: 1, [zlib.constants.ZSTD_c_compressionLevel]: 1 },
};

/** Compresses a raw (compr_mode 0) object. */
export function compress(bytes: Uint8Array, compression: Compression = 'none'): Uint8Array {
  const mode = COMPRESSION_MODE[compression];
  if (mode === undefined) throw new HeftyError('E_INVALID_ARGUMENT', `unknown compression "${String(compression)}"`);
  if (mode === 0) return bytes;
  const body = bytes.subarray(16);
  const packed = mode === 1 ? zlib.deflateSync(body) : zlib.zstdCompressSync(body, ZSTD_OPTIONS);
  const out = new Uint8Array(16 + packed.length);
  out.set(bytes.subarray(0, 16));
  out[5] = mode;
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(packed, 16);
  return out;
}

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

/** The same object under another compression (bytes returned as they are when the mode already matches). */
export function recompress(bytes: Uint8Array, compression: Compression): Uint8Array {
  const current = bytes[5];
  if (bytes.length >= 16 && current === COMPRESSION_MODE[compression]) return bytes;
  return compress(decompress(bytes, MAX_OBJECT_BYTES), compression);
}
