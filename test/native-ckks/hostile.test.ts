/**
 * Hostile bytes against the native loaders: truncations, flipped counts, foreign parameters, unreduced words
 * and compression bombs must all end in HeftyError E_BAD_SERIALIZATION (or E_PARAMS_MISMATCH), never a crash
 * or a huge allocation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

/**
 * The same five attacks on every loader, seeded and full forms alike: truncation, an oversized count, objects of
 * other parameters, a bad magic (outer and nested headers) and compression bombs.
 */
describe.runIf(await nativeAvailable())('every native loader rejects each kind of hostile input', () => {
  type Kind = keyof B.ObjectLoader;
  interface Valid {
    what: string;
    kind: Kind;
    bytes: Uint8Array;
    /** [field, byte offset] of u64 counts the loader must bound before allocating. */
    counts: [string, number][];
    /** Offsets of nested SEALHeaders. */
    nested: number[];
  }
  const u64At = (b: Uint8Array, at: number, value: bigint): Uint8Array => {
    const copy = b.slice();
    new DataView(copy.buffer).setBigUint64(at, value, true);
    return copy;
  };
  const HUGE = [1n << 60n, (1n << 64n) - 1n, 1n << 33n];
  // Offsets from spec §1.5-1.7: plaintext coeff_count 48 / array count 80; ciphertext size 49 / count 105;
  // key sets dim1 48, dim2 56, then the first key (a ciphertext) at 64.
  const PLAIN = {
    counts: [
      ['coeff_count', 48],
      ['array count', 80],
    ] as [string, number][],
    nested: [64],
  };
  const CIPHER = {
    counts: [
      ['size', 49],
      ['array count', 105],
    ] as [string, number][],
    nested: [89],
  };
  const KEYS = {
    counts: [
      ['dim1', 48],
      ['dim2', 56],
      ['key size', 64 + 49],
      ['key array count', 64 + 105],
    ] as [string, number][],
    nested: [64, 64 + 89],
  };

  let ctx: B.BackendContext;
  let other: B.BackendContext;
  let valid: Valid[];
  let params: Uint8Array;
  beforeAll(async () => {
    const backend = await createNativeBackend();
    const make = (bits: number[]) =>
      backend.createContext(
        { scheme: 'ckks', polyModulusDegree: 2048, coeffModulus: backend.coeffModulusCreate(2048, bits) },
        128,
      );
    ctx = make([20, 20, 14]);
    other = make([20, 19, 14]);
    params = backend.saveParams(ctx.params);
    const gen = ctx.createKeyGenerator();
    const encoder = ctx.createCkksEncoder();
    const plain = encoder.encode(Float64Array.from([1, 2]), 2 ** 14);
    const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey(), secretKey: gen.secretKey() });
    valid = [
      { what: 'plaintext', kind: 'plaintext', bytes: plain.save(), ...PLAIN },
      { what: 'secret key', kind: 'secretKey', bytes: gen.secretKey().save(), ...PLAIN },
      { what: 'ciphertext', kind: 'ciphertext', bytes: encryptor.encrypt(plain).save(), ...CIPHER },
      { what: 'seeded ciphertext', kind: 'ciphertext', bytes: encryptor.encryptSymmetricSeeded(plain), ...CIPHER },
      { what: 'public key', kind: 'publicKey', bytes: gen.createPublicKey().save(), ...CIPHER },
      { what: 'seeded public key', kind: 'publicKey', bytes: gen.createPublicKeySeeded(), ...CIPHER },
      { what: 'relin keys', kind: 'relinKeys', bytes: gen.createRelinKeys().save(), ...KEYS },
      { what: 'seeded relin keys', kind: 'relinKeys', bytes: gen.createRelinKeysSeeded(), ...KEYS },
      {
        what: 'galois keys',
        kind: 'galoisKeys',
        bytes: gen.createGaloisKeys([1]).save(),
        ...KEYS,
        counts: KEYS.counts.slice(0, 1),
      },
      {
        what: 'seeded galois keys',
        kind: 'galoisKeys',
        bytes: gen.createGaloisKeysSeeded([1]),
        ...KEYS,
        counts: KEYS.counts.slice(0, 1),
      },
    ];
  });

  it('the valid inputs load (so each rejection below is caused by its corruption)', () => {
    for (const v of valid) expect(() => ctx.load[v.kind](v.bytes), v.what).not.toThrow();
  });

  it('truncated', () => {
    for (const v of valid) {
      for (const cut of [0, 15, 16, 47, 64, 100, v.bytes.length >> 1, v.bytes.length - 8, v.bytes.length - 1]) {
        const bytes = v.bytes.slice(0, cut);
        expect([v.what, cut, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([v.what, cut, 'E_BAD_SERIALIZATION']);
        // A truncated object under a consistent header (size field rewritten) fails in the body parser.
        if (cut >= 16) {
          const resized = u64At(bytes, 8, BigInt(cut));
          expect([v.what, cut, codeOf(() => ctx.load[v.kind](resized))]).toEqual([v.what, cut, 'E_BAD_SERIALIZATION']);
        }
      }
    }
  });

  it('oversized counts', () => {
    for (const v of valid) {
      for (const [field, at] of v.counts) {
        for (const value of HUGE) {
          const bytes = u64At(v.bytes, at, value);
          expect([v.what, field, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([
            v.what,
            field,
            'E_BAD_SERIALIZATION',
          ]);
        }
      }
    }
  });

  it('objects of other parameters', () => {
    for (const v of valid) {
      expect([v.what, codeOf(() => other.load[v.kind](v.bytes))]).toEqual([v.what, 'E_BAD_SERIALIZATION']);
    }
    // A data-level object where a key is expected, and keys where data is expected.
    const [plain, sk, ct, , pk, , rk] = valid.map((v) => v.bytes);
    expect(codeOf(() => ctx.load.secretKey(plain))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.plaintext(sk))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.publicKey(ct))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.ciphertext(pk))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.ciphertext(rk))).toBe('E_BAD_SERIALIZATION');
  });

  it('bad magic, outer and nested', () => {
    for (const v of valid) {
      for (const at of [0, 1, ...v.nested]) {
        const bytes = v.bytes.slice();
        bytes[at] ^= 0xff;
        expect([v.what, at, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([v.what, at, 'E_BAD_SERIALIZATION']);
      }
    }
  });

  it('compression bombs: zeros, and a valid object followed by a long run of zeros', () => {
    const zeros = Buffer.alloc(256 << 20);
    const bombs = [
      withHeader(zlib.deflateSync(zeros), 1),
      withHeader(zlib.zstdCompressSync(zeros), 2),
      ...valid
        .filter((v) => v.kind === 'galoisKeys' || v.kind === 'relinKeys')
        .map((v) => withHeader(zlib.zstdCompressSync(Buffer.concat([v.bytes.subarray(16), zeros])), 2)),
    ];
    for (const v of valid) {
      for (const bomb of bombs)
        expect([v.what, codeOf(() => ctx.load[v.kind](bomb))]).toEqual([v.what, 'E_BAD_SERIALIZATION']);
    }
  });

  it('EncryptionParameters: truncated, oversized counts, wrong scheme data, bad magic and bombs', async () => {
    const backend = await createNativeBackend();
    const load = (bytes: Uint8Array) => codeOf(() => backend.loadParams(bytes));
    expect(backend.loadParams(params)).toEqual({ ...ctx.params, coeffModulus: [...ctx.params.coeffModulus] });
    for (let cut = 0; cut < params.length; cut += 7)
      expect([cut, load(params.slice(0, cut))]).toEqual([cut, 'E_BAD_SERIALIZATION']);
    for (const value of HUGE) {
      expect(load(u64At(params, 25, value))).toBe('E_BAD_SERIALIZATION'); // prime count
      expect(load(u64At(params, 17, value))).toBe('E_BAD_SERIALIZATION'); // degree
    }
    const ckksWithPlain = u64At(params, params.length - 8, 65537n);
    expect(load(ckksWithPlain)).toBe('E_BAD_SERIALIZATION');
    const unknownScheme = params.slice();
    unknownScheme[16] = 9;
    expect(load(unknownScheme)).toBe('E_BAD_SERIALIZATION');
    expect(load(u64At(params, 33 + 16, 1n))).toBe('E_BAD_SERIALIZATION'); // modulus 1
    expect(load(u64At(params, 33 + 16, 1n << 62n))).toBe('E_BAD_SERIALIZATION'); // modulus ≥ 2^61
    for (const at of [0, 2, 33]) {
      const bytes = params.slice();
      bytes[at] ^= 0xff;
      expect([at, load(bytes)]).toEqual([at, 'E_BAD_SERIALIZATION']);
    }
    expect(load(withHeader(zlib.deflateSync(Buffer.alloc(64 << 20)), 1))).toBe('E_BAD_SERIALIZATION');
    expect(load(withHeader(zlib.zstdCompressSync(Buffer.alloc(64 << 20)), 2))).toBe('E_BAD_SERIALIZATION');
  });
});

/**
 * Inputs of past fuzzer findings (native/test/fuzz/regressions/<target>/, also replayed under the sanitizers by
 * scripts/fuzz-smoke.sh) through the JS loaders, in the fuzz targets' context: each loads or throws a HeftyError.
 */
describe.runIf(await nativeAvailable())('fuzzer findings stay fixed', () => {
  const dir = new URL('../../native/test/fuzz/regressions/', import.meta.url);
  const findings = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ target: path.basename(e.parentPath), file: path.join(e.parentPath, e.name) }));

  it.each(findings)('$target: $file', async ({ target, file }) => {
    const backend = await createNativeBackend();
    const ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 64, coeffModulus: backend.coeffModulusCreate(64, [40, 30, 40]) },
      'none',
    );
    const bytes = new Uint8Array(readFileSync(file));
    const seededKinds: (keyof B.ObjectLoader)[] = ['ciphertext', 'publicKey', 'relinKeys'];
    const loaders: Record<string, () => unknown> = {
      fuzz_params: () => backend.loadParams(bytes),
      fuzz_plaintext: () => ctx.load.plaintext(bytes),
      fuzz_secret_key: () => ctx.load.secretKey(bytes),
      fuzz_ciphertext: () => ctx.load.ciphertext(bytes),
      fuzz_public_key: () => ctx.load.publicKey(bytes),
      fuzz_kswitch_keys: () => ctx.load.relinKeys(bytes),
      fuzz_seeded: () => ctx.load[seededKinds[bytes[0] % 3]](bytes.subarray(1)),
    };
    expect(loaders[target], `a loader for ${target}`).toBeDefined();
    const code = codeOf(loaders[target]);
    expect(['no error', 'E_BAD_SERIALIZATION']).toContain(code);
  });
});
