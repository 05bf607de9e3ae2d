/** Byte surgery for the hostile-input suites of the integer schemes (BFV, BGV). */
import { expect } from 'vitest';
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
