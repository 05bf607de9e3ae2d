/**
 * The RNS words of SEAL-format ciphertexts and key-switching keys (spec §1.6, §1.7), read from and written to
 * uncompressed bytes as the backends save them, so the GPU path can work on any backend's objects and hand
 * back objects that load like any other. Every size is bounded by the bytes actually present.
 */
import { HeftyError } from '../errors.ts';

const HEADER = 16;
const BODY_WORDS = 73; // parms_id, ntt flag, size, N, L, scale, correction factor
const DYN_ARRAY = 24; // header + count
export const CIPHER_WORDS_OFFSET = HEADER + BODY_WORDS + DYN_ARRAY;

export interface CipherWords {
  /** Bytes up to the words: header and body fields, reused when writing a result. */
  readonly prefix: Uint8Array;
  readonly size: number;
  readonly n: number;
  readonly primes: number;
  /** size × primes × N words, polynomial-major then prime. */
  readonly words: BigUint64Array;
}

function bad(message: string): never {
  throw new HeftyError('E_BAD_SERIALIZATION', message);
}

/** Parses an uncompressed SEAL 4.x ciphertext (or public key) starting at `offset`; returns it and its length. */
export function readCipher(bytes: Uint8Array, offset = 0): { cipher: CipherWords; length: number } {
  if (bytes.length - offset < CIPHER_WORDS_OFFSET) bad('ciphertext too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.length - offset);
  if (view.getUint16(0, true) !== 0xa15e || bytes[offset + 2] !== HEADER) bad('invalid SEALHeader');
  if (bytes[offset + 3] !== 4 || bytes[offset + 5] !== 0) {
    throw new HeftyError('E_UNSUPPORTED', 'the GPU path reads uncompressed SEAL 4.x ciphertexts only');
  }
  const length = Number(view.getBigUint64(8, true));
  const size = Number(view.getBigUint64(HEADER + 33, true));
  const n = Number(view.getBigUint64(HEADER + 41, true));
  const primes = Number(view.getBigUint64(HEADER + 49, true));
  const count = Number(view.getBigUint64(HEADER + BODY_WORDS + 16, true));
  if (!(length <= bytes.length - offset) || count !== size * n * primes) bad('ciphertext sizes do not match');
  if (length !== CIPHER_WORDS_OFFSET + 8 * count) bad('ciphertext length does not match its words (seeded?)');
  const words = new BigUint64Array(count);
  new Uint8Array(words.buffer).set(bytes.subarray(offset + CIPHER_WORDS_OFFSET, offset + length));
  return { cipher: { prefix: bytes.slice(offset, offset + CIPHER_WORDS_OFFSET), size, n, primes, words }, length };
}

/** The bytes of a ciphertext like `like` but with `size` polynomials holding `words`. */
export function writeCipher(like: CipherWords, size: number, words: BigUint64Array): Uint8Array {
  if (words.length !== size * like.n * like.primes) throw new HeftyError('E_LENGTH_MISMATCH', 'word count differs');
  const out = new Uint8Array(CIPHER_WORDS_OFFSET + words.byteLength);
  out.set(like.prefix);
  out.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), CIPHER_WORDS_OFFSET);
  const view = new DataView(out.buffer);
  view.setBigUint64(8, BigInt(out.length), true);
  view.setBigUint64(HEADER + 33, BigInt(size), true);
  view.setBigUint64(HEADER + BODY_WORDS + 8, BigInt(DYN_ARRAY + words.byteLength), true);
  view.setBigUint64(HEADER + BODY_WORDS + 16, BigInt(words.length), true);
  return out;
}

/** Entry `index` of a KSwitchKeys object (relin: power − 2; galois: (g − 1)/2): one 2-poly key per digit. */
export function readKeySwitchEntry(bytes: Uint8Array, index: number): CipherWords[] {
  if (bytes.length < HEADER + 40) bad('key-switching keys too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[5] !== 0) throw new HeftyError('E_UNSUPPORTED', 'the GPU path reads uncompressed keys only');
  const dim1 = Number(view.getBigUint64(HEADER + 32, true));
  if (index >= dim1) throw new HeftyError('E_MISSING_KEY', `no key-switching key at index ${index}`);
  let offset = HEADER + 40;
  const dim2At = (at: number) => (at + 8 <= bytes.length ? Number(view.getBigUint64(at, true)) : bad('keys truncated'));
  for (let i = 0; i < index; i++) {
    const dim2 = dim2At(offset);
    offset += 8;
    for (let j = 0; j < dim2; j++) {
      const length = offset + HEADER <= bytes.length ? Number(view.getBigUint64(offset + 8, true)) : 0;
      if (length < HEADER) bad('key-switching keys truncated');
      offset += length;
    }
  }
  const dim2 = dim2At(offset);
  offset += 8;
  if (dim2 === 0) throw new HeftyError('E_MISSING_KEY', `no key-switching key at index ${index}`);
  const entries: CipherWords[] = [];
  for (let j = 0; j < dim2; j++) {
    const { cipher, length } = readCipher(bytes, offset);
    entries.push(cipher);
    offset += length;
  }
  return entries;
}
