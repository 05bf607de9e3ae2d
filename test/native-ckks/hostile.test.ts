/**
 * Hostile bytes against the native loaders: truncations, flipped counts, foreign parameters, unreduced words
 * and compression bombs must all end in HeftyError E_BAD_SERIALIZATION (or E_PARAMS_MISMATCH), never a crash
 * or a huge allocation.
 */
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';
import { nativeAvailable } from './native-available.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
    return (e as HeftyError).code;
  }
  return 'no error';
}

function withHeader(body: Uint8Array, mode: number): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  out.set([0x5e, 0xa1, 0x10, 4, 1, mode, 0, 0]);
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(body, 16);
  return out;
}

describe.runIf(await nativeAvailable())('native loaders reject hostile bytes', () => {
  let ctx: B.BackendContext;
  let ct: Uint8Array;
  let relin: Uint8Array;

  beforeAll(async () => {
    const backend = await createNativeBackend();
    ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 4096, coeffModulus: backend.coeffModulusCreate(4096, [40, 29, 40]) },
      128,
    );
    const gen = ctx.createKeyGenerator();
    const encoder = ctx.createCkksEncoder();
    ct = ctx
      .createEncryptor({ publicKey: gen.createPublicKey() })
      .encrypt(encoder.encode(Float64Array.from([1, 2]), 2 ** 29))
      .save();
    relin = gen.createRelinKeysSeeded();
  });

  it('every truncation of a ciphertext and of seeded relin keys', () => {
    for (const bytes of [ct, relin]) {
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 97))) {
        const truncated = bytes.slice(0, cut);
        expect(codeOf(() => ctx.load.ciphertext(truncated))).toBe('E_BAD_SERIALIZATION');
        expect(codeOf(() => ctx.load.relinKeys(truncated))).toBe('E_BAD_SERIALIZATION');
      }
    }
  });

  it('corrupted header fields, counts and residues', () => {
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const cases: [string, (b: Uint8Array) => void][] = [
      ['magic', (b) => (b[0] = 0)],
      ['version', (b) => (b[4] = 0)],
      ['size field', (b) => view(b).setBigUint64(8, 1n << 40n, true)],
      ['parms_id', (b) => (b[20] ^= 0xff)],
      ['poly count', (b) => view(b).setBigUint64(16 + 33, 1n << 62n, true)],
      ['degree', (b) => view(b).setBigUint64(16 + 41, 8192n, true)],
      ['prime count', (b) => view(b).setBigUint64(16 + 49, 3n, true)],
      ['word count', (b) => view(b).setBigUint64(16 + 73 + 16, (1n << 61n) - 1n, true)],
      ['unreduced word', (b) => view(b).setBigUint64(113, ~0n, true)],
      ['zero scale', (b) => view(b).setFloat64(16 + 57, 0, true)],
    ];
    for (const [what, corrupt] of cases) {
      const bytes = ct.slice();
      corrupt(bytes);
      expect([what, codeOf(() => ctx.load.ciphertext(bytes))]).toEqual([what, 'E_BAD_SERIALIZATION']);
    }
    const keys = relin.slice();
    view(keys).setBigUint64(16 + 32, 1n << 60n, true); // dim1
    expect(codeOf(() => ctx.load.relinKeys(keys))).toBe('E_BAD_SERIALIZATION');
  });

  it('compression bombs and broken streams', () => {
    const bomb = withHeader(zlib.deflateSync(Buffer.alloc(64 << 20)), 1);
    expect(codeOf(() => ctx.load.ciphertext(bomb))).toBe('E_BAD_SERIALIZATION');
    const zstdBomb = withHeader(zlib.zstdCompressSync(Buffer.alloc(64 << 20)), 2);
    expect(codeOf(() => ctx.load.plaintext(zstdBomb))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.ciphertext(withHeader(Uint8Array.from([1, 2, 3]), 1)))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.ciphertext(withHeader(new Uint8Array(8), 7)))).toBe('E_BAD_SERIALIZATION');
  });

  it('objects of another context and of the wrong kind', async () => {
    const backend = await createNativeBackend();
    const other = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 4096, coeffModulus: backend.coeffModulusCreate(4096, [40, 30, 39]) },
      128,
    );
    expect(codeOf(() => other.load.ciphertext(ct))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.secretKey(ct))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.publicKey(ct))).toBe('E_BAD_SERIALIZATION');
    const foreign = other.createEvaluator();
    expect(codeOf(() => foreign.negate(ctx.load.ciphertext(ct)))).toBe('E_PARAMS_MISMATCH');
  });
});
