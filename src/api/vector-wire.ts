/**
 * Encrypted-vector envelope: a vector longer than one ciphertext is several SEAL ciphertexts plus its length.
 * Layout (little-endian): "HFV1" | u8 scheme (1 ckks, 2 bfv, 3 bgv) | u8 flags (bit 0: slots past length are zero)
 *   | u8 period (0: the slot count; k > 0: a single-chunk CKKS vector periodic with period 2^(k-1))
 *   | u8 reserved=0 | u32 length | u32 chunkCount | per chunk: u32 byteLength | SEAL ciphertext bytes
 * Envelopes from before the period byte have 0 there and load as before.
 * Raw SEAL ciphertext bytes (what node-seal clients send) are accepted as a vector filling every slot.
 */
import { HeftyError } from '../errors.ts';
import type { Scheme } from '../backend/types.ts';

export interface VectorParts {
  readonly scheme: Scheme;
  readonly length: number;
  readonly clean: boolean;
  /** Slot period of a single-chunk CKKS vector (see CKKSVector.period); absent: the slot count. */
  readonly period?: number;
  readonly chunks: readonly Uint8Array[];
  /** True when the bytes were a bare SEAL ciphertext rather than a hefty envelope. */
  readonly bareSeal: boolean;
}

const MAGIC = [0x48, 0x46, 0x56, 0x31]; // "HFV1"
const SCHEME_BYTES: Readonly<Record<Scheme, number>> = { ckks: 1, bfv: 2, bgv: 3 };
const SCHEMES: readonly (Scheme | undefined)[] = [undefined, 'ckks', 'bfv', 'bgv'];
const SEAL_MAGIC = [0x5e, 0xa1];
export const MAX_CHUNKS = 4096;

export function isSealObject(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length >= 16 && bytes[0] === SEAL_MAGIC[0] && bytes[1] === SEAL_MAGIC[1];
}

/** A chunk the envelope has written in place, as SEAL's save into a caller's buffer does (a backend ciphertext). */
export interface ChunkSource {
  savedSize(): number;
  saveInto(target: Uint8Array): number;
}

/** The envelope of `parts`, each chunk saved straight into it (one buffer, one pass over each ciphertext's bytes). */
export function encodeVector(
  parts: Omit<VectorParts, 'bareSeal' | 'chunks'> & { chunks: readonly ChunkSource[] },
): Uint8Array {
  const sizes = parts.chunks.map((c) => c.savedSize());
  const total = 16 + sizes.reduce((sum, size) => sum + 4 + size, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = SCHEME_BYTES[parts.scheme];
  out[5] = parts.clean ? 1 : 0;
  out[6] = parts.period === undefined ? 0 : Math.log2(parts.period) + 1;
  view.setUint32(8, parts.length, true);
  view.setUint32(12, parts.chunks.length, true);
  let offset = 16;
  parts.chunks.forEach((chunk, i) => {
    view.setUint32(offset, sizes[i], true);
    if (chunk.saveInto(out.subarray(offset + 4, offset + 4 + sizes[i])) !== sizes[i])
      throw new HeftyError('E_INTERNAL', 'a chunk changed size while saved');
    offset += 4 + sizes[i];
  });
  return out;
}

function bad(message: string): never {
  throw new HeftyError('E_BAD_SERIALIZATION', `encrypted vector: ${message}`);
}

/** Splits envelope bytes into chunk views (no copies); SEAL itself validates each chunk when it is loaded. */
export function decodeVector(bytes: Uint8Array, scheme: Scheme, slotCount: number): VectorParts {
  if (!(bytes instanceof Uint8Array)) bad('expected bytes');
  if (isSealObject(bytes)) return { scheme, length: slotCount, clean: true, chunks: [bytes], bareSeal: true };
  if (bytes.length < 16 || !MAGIC.every((b, i) => bytes[i] === b)) bad('neither a hefty vector nor a SEAL ciphertext');
  const encodedScheme = SCHEMES[bytes[4]] ?? bad(`unknown scheme byte ${bytes[4]}`);
  if (encodedScheme !== scheme) {
    throw new HeftyError('E_PARAMS_MISMATCH', `a ${encodedScheme} vector cannot be used with a ${scheme} context`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  if (count === 0 || count > MAX_CHUNKS) bad(`chunk count ${count} is outside 1..${MAX_CHUNKS}`);
  if (length === 0 || length > count * slotCount || length <= (count - 1) * slotCount) {
    bad(`length ${length} does not match ${count} chunk(s) of ${slotCount} slots`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 16;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) bad('truncated chunk header');
    const size = view.getUint32(offset, true);
    if (offset + 4 + size > bytes.length) bad('chunk overruns the envelope');
    chunks.push(bytes.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size;
  }
  if (offset !== bytes.length) bad('trailing bytes after the last chunk');
  const periodByte = bytes[6];
  if (periodByte === 0) return { scheme, length, clean: (bytes[5] & 1) === 1, chunks, bareSeal: false };
  const period = 2 ** (periodByte - 1);
  if (scheme !== 'ckks' || count !== 1 || period > slotCount || period < length)
    bad(`period ${period} does not fit a ${scheme} vector of ${count} chunk(s) and length ${length}`);
  return { scheme, length, clean: (bytes[5] & 1) === 1, period, chunks, bareSeal: false };
}
