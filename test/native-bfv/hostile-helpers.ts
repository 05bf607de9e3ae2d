/** Byte surgery, valid objects and the checks both hostile-input suites of the integer schemes (BFV, BGV) make. */
import zlib from 'node:zlib';
import { expect } from 'vitest';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';

/** The HeftyError code `fn` throws ('no error' when it returns); anything else thrown fails the test. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
    return (e as HeftyError).code;
  }
  return 'no error';
}

/** A SEALHeader with compression `mode` (1 zlib, 2 zstd) in front of `body`. */
export function withHeader(body: Uint8Array, mode: number): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  out.set([0x5e, 0xa1, 0x10, 4, 1, mode, 0, 0]);
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(body, 16);
  return out;
}

export const u64At = (b: Uint8Array, at: number, value: bigint): Uint8Array => {
  const copy = b.slice();
  new DataView(copy.buffer).setBigUint64(at, value, true);
  return copy;
};

export const f64At = (b: Uint8Array, at: number, value: number): Uint8Array => {
  const copy = b.slice();
  new DataView(copy.buffer).setFloat64(at, value, true);
  return copy;
};

/** A small deterministic PRNG (xorshift32) so failures reproduce. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export type Kind = keyof B.ObjectLoader;
export interface Valid {
  what: string;
  kind: Kind;
  bytes: Uint8Array;
  /** Byte offsets of u64 counts the loader must bound before allocating. */
  counts: number[];
}

/** The valid objects of an integer-scheme context at N = 4096 (BFV and BGV share the layout of every count). */
export interface IntegerObjects {
  valid: Valid[];
  values: bigint[];
  plain: Uint8Array;
  cipher: Uint8Array;
  secret: B.SecretKey;
  pk: Uint8Array;
}

export function integerObjects(ctx: B.BackendContext): IntegerObjects {
  const gen = ctx.createKeyGenerator();
  const secret = gen.secretKey();
  const encoder = ctx.createBatchEncoder();
  const values = Array.from({ length: 4096 }, (_, i) => BigInt(i - 2048));
  const pt = encoder.encode(BigInt64Array.from(values));
  const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey(), secretKey: secret });
  const plain = pt.save();
  const cipher = encryptor.encrypt(pt).save();
  const pk = gen.createPublicKey().save();
  // Plaintext: coefficient count and word count; ciphertext: size and word count; keys: the key count and its
  // vector's size, then a ciphertext's counts.
  const PLAIN = [48, 80];
  const CIPHER = [49, 105];
  const KEYS = [48, 56, 64 + 49, 64 + 105];
  const valid: Valid[] = [
    { what: 'plaintext', kind: 'plaintext', bytes: plain, counts: PLAIN },
    { what: 'secret key', kind: 'secretKey', bytes: secret.save(), counts: PLAIN },
    { what: 'ciphertext', kind: 'ciphertext', bytes: cipher, counts: CIPHER },
    { what: 'seeded ciphertext', kind: 'ciphertext', bytes: encryptor.encryptSymmetricSeeded(pt), counts: CIPHER },
    { what: 'public key', kind: 'publicKey', bytes: pk, counts: CIPHER },
    { what: 'seeded public key', kind: 'publicKey', bytes: gen.createPublicKeySeeded(), counts: CIPHER },
    { what: 'relin keys', kind: 'relinKeys', bytes: gen.createRelinKeys().save(), counts: KEYS },
    { what: 'seeded relin keys', kind: 'relinKeys', bytes: gen.createRelinKeysSeeded(), counts: KEYS },
    { what: 'galois keys', kind: 'galoisKeys', bytes: gen.createGaloisKeys([1]).save(), counts: [48] },
    { what: 'seeded galois keys', kind: 'galoisKeys', bytes: gen.createGaloisKeysSeeded([1]), counts: [48] },
  ];
  return { valid, values, plain, cipher, secret, pk };
}

/** Every valid input loads, so each rejection that follows is caused by its corruption. */
export function expectValidInputsLoad(ctx: B.BackendContext, valid: Valid[]): void {
  for (const v of valid) expect(() => ctx.load[v.kind](v.bytes), v.what).not.toThrow();
}

/** Truncations, with and without a header whose size agrees, are E_BAD_SERIALIZATION. */
export function expectTruncationsRejected(ctx: B.BackendContext, valid: Valid[]): void {
  for (const v of valid) {
    for (const cut of [0, 15, 16, 47, 64, 100, v.bytes.length >> 1, v.bytes.length - 8, v.bytes.length - 1]) {
      const bytes = v.bytes.slice(0, cut);
      expect([v.what, cut, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([v.what, cut, 'E_BAD_SERIALIZATION']);
      if (cut >= 16) {
        const resized = u64At(bytes, 8, BigInt(cut));
        expect([v.what, cut, codeOf(() => ctx.load[v.kind](resized))]).toEqual([v.what, cut, 'E_BAD_SERIALIZATION']);
      }
    }
  }
}

/** Counts far above what the bytes hold are E_BAD_SERIALIZATION before any allocation. */
export function expectOversizedCountsRejected(ctx: B.BackendContext, valid: Valid[]): void {
  for (const v of valid) {
    for (const at of v.counts) {
      for (const value of [1n << 60n, (1n << 64n) - 1n, 1n << 33n, 4097n]) {
        const bytes = u64At(v.bytes, at, value);
        expect([v.what, at, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([v.what, at, 'E_BAD_SERIALIZATION']);
      }
    }
  }
}

/**
 * 40 random bit-flip corruptions of each valid input (from `seed`): each is E_BAD_SERIALIZATION, or loads and
 * `use` on it returns or throws a HeftyError. Some must load (flips in the bulk words leave valid objects).
 */
export function expectCorruptionRejectedOrSafe(
  ctx: B.BackendContext,
  valid: Valid[],
  seed: number,
  use: (kind: Kind, object: unknown) => unknown,
): void {
  const next = prng(seed);
  let loaded = 0;
  for (const v of valid) {
    for (let trial = 0; trial < 40; trial++) {
      const bytes = v.bytes.slice();
      // Corrupt the header and metadata more often than the bulk words: that is where the checks are.
      for (let k = 0; k < 1 + (next() % 4); k++) {
        const at = next() % 2 === 0 ? next() % Math.min(bytes.length, 200) : next() % bytes.length;
        bytes[at] ^= 1 << (next() % 8);
      }
      let object: unknown;
      try {
        object = ctx.load[v.kind](bytes);
      } catch (e) {
        expect([v.what, (e as HeftyError).code]).toEqual([v.what, 'E_BAD_SERIALIZATION']);
        continue;
      }
      loaded++;
      try {
        use(v.kind, object);
      } catch (e) {
        expect(e).toBeInstanceOf(HeftyError);
      }
    }
  }
  expect(loaded).toBeGreaterThan(0);
}

/** A zlib and a zstd bomb (64 MiB of zeros) and a broken zlib stream are E_BAD_SERIALIZATION. */
export function expectCompressionBombsRejected(ctx: B.BackendContext): void {
  const bomb = withHeader(zlib.deflateSync(Buffer.alloc(64 << 20)), 1);
  expect(codeOf(() => ctx.load.ciphertext(bomb))).toBe('E_BAD_SERIALIZATION');
  const zstdBomb = withHeader(zlib.zstdCompressSync(Buffer.alloc(64 << 20)), 2);
  expect(codeOf(() => ctx.load.plaintext(zstdBomb))).toBe('E_BAD_SERIALIZATION');
  expect(codeOf(() => ctx.load.relinKeys(withHeader(Uint8Array.from([1, 2, 3]), 1)))).toBe('E_BAD_SERIALIZATION');
}
