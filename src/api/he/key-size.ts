/**
 * Byte size of a key set (parameters, public key, relinearization keys, galois keys) in SEAL's serialization,
 * computed from the parameters alone, so the planner can say what a program's keys weigh before they exist.
 *
 * Full and seeded sizes are exact (spec §1.6–1.9): a key-switching key is one public-key-shaped object per data
 * prime of the first level, each holding K primes (the key level) × N words per polynomial; the seeded form
 * keeps c0 and replaces c1 by a 64-byte seed. The zstd size is an estimate: the words are uniform below their
 * primes, so a sample of one key object's words from that distribution, compressed the same way, tells how
 * well all of them compress (within 2% of real key sets, test/api/he/planner.test.ts).
 */
import { compress } from '../../backend/seal-compression.ts';

/** Serialized sizes in bytes. */
export interface KeySetBytes {
  /** Full (unseeded), uncompressed: every polynomial written out. */
  readonly full: number;
  /** Seeded, uncompressed. */
  readonly seeded: number;
  /** Seeded with zstd (what exportKeySet() produces by default): an estimate, within 3%. */
  readonly seededZstd: number;
}

export interface KeySetShape {
  readonly polyModulusDegree: number;
  /** Bit sizes of the coefficient-modulus primes, special prime last. */
  readonly coeffModulusBits: readonly number[];
  /** Galois elements (distinct rotation steps, plus conjugation if any). */
  readonly galoisKeys: number;
  readonly relinKeys: boolean;
}

const HEADER = 16;
/** Ciphertext/public-key body before its word array: parms_id, ntt flag, size, N, L, scale, correction. */
const CIPHER_FIELDS = 32 + 1 + 8 + 8 + 8 + 8 + 8;
/** DynArray header and its word count. */
const DYN_ARRAY = HEADER + 8;
/** The seed object (prng type + 64 bytes) that replaces c1 in the seeded form. */
const SEED_INFO = HEADER + 1 + 64;
/** KSwitchKeys: header, parms_id, dim1; then a u64 dim2 per entry of dim1. */
const KSWITCH_FIELDS = HEADER + 32 + 8;
/** EncryptionParameters: header, scheme, N, modulus count, each modulus and the plain modulus as objects. */
const paramsBytes = (primes: number) => HEADER + 1 + 8 + 8 + (primes + 1) * (HEADER + 8);

/** A public-key-shaped object at the key level: 2 polynomials, or c0 plus a seed. */
function keyObjectBytes(n: number, primes: number, seeded: boolean): number {
  const words = (seeded ? 1 : 2) * n * primes;
  return HEADER + CIPHER_FIELDS + DYN_ARRAY + 8 * words + (seeded ? SEED_INFO : 0);
}

/**
 * zstd bytes of one key object's words: a sample of the same distribution (uniform words below primes of these
 * bit sizes, N per prime, in SEAL's order) compressed as exportKeySet() compresses. Memoized per shape.
 */
const sampleCache = new Map<string, number>();
const SAMPLE_RUN = 16384;
function compressedWordBytes(n: number, bits: readonly number[]): number {
  const key = `${n}:${bits.join(',')}`;
  const known = sampleCache.get(key);
  if (known !== undefined) return known;
  // Past one zstd block (16,384 words) per prime, a prime's run compresses like its first block: sample that.
  const run = Math.min(n, SAMPLE_RUN);
  // A SEAL object's 16 header bytes (left zero: compress() keeps them out of the zstd frame), then the words.
  const object = new Uint8Array(16 + 8 * run * bits.length);
  const halves = new Uint32Array(object.buffer, 16);
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  bits.forEach((b, j) => {
    const highMask = b >= 64 ? 0xffffffff : b > 32 ? 2 ** (b - 32) - 1 : 0;
    const lowMask = b >= 32 ? 0xffffffff : 2 ** b - 1;
    for (let i = 0; i < run; i++) {
      const w = 2 * (j * run + i);
      halves[w] = (next() & lowMask) >>> 0; // little-endian: low half first
      halves[w + 1] = (next() & highMask) >>> 0;
    }
  });
  const bytes = ((compress(object, 'zstd').length - 16) * n) / run;
  sampleCache.set(key, bytes);
  return bytes;
}

/** Sizes of the key set a context with these parameters exports (public key always included). */
export function keySetBytes(shape: KeySetShape): KeySetBytes {
  const n = shape.polyModulusDegree;
  const bits = shape.coeffModulusBits;
  const k = bits.length;
  const decomposition = Math.max(1, k - 1);
  const sized = (seeded: boolean) => {
    const object = keyObjectBytes(n, k, seeded);
    const relin = shape.relinKeys ? KSWITCH_FIELDS + 8 + decomposition * object : 0;
    const galois = shape.galoisKeys > 0 ? KSWITCH_FIELDS + 8 * n + shape.galoisKeys * decomposition * object : 0;
    return paramsBytes(k) + object + relin + galois;
  };
  const seeded = sized(true);
  // The galois keys' table of N entries is zeros where an element has no key: zstd removes it. The rest that
  // is not c0 words (headers, seeds) is small and counted as stored.
  const wordBytes = 8 * n * k;
  const objects = 1 + (shape.relinKeys ? decomposition : 0) + shape.galoisKeys * decomposition;
  const emptyTable = shape.galoisKeys > 0 ? 8 * (n - shape.galoisKeys) : 0;
  const saved = objects * (wordBytes - compressedWordBytes(n, bits)) + emptyTable;
  return { full: sized(false), seeded, seededZstd: Math.round(seeded - saved) };
}
