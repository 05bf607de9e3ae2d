/**
 * Hostile bytes against the native BGV loaders: truncations, oversized counts, BGV's invariants (correction factor
 * in [1, t), scale 1, plaintexts with a zero parms_id and coefficients below t, keys in NTT form at the key level),
 * objects of other parameters (BFV with the same primes and t has other parms_ids), compression bombs and random
 * corruption must end in HeftyError E_BAD_SERIALIZATION — never a crash, an abort or a huge allocation. What does
 * load must then be safe to compute with.
 */
import zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';
import { codeOf, f64At, prng, u64At, withHeader } from '../native-bfv/hostile-helpers.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

type Kind = keyof B.ObjectLoader;
interface Valid {
  what: string;
  kind: Kind;
  bytes: Uint8Array;
  /** Byte offsets of u64 counts the loader must bound before allocating. */
  counts: number[];
}

// Ciphertext layout: header (16), parms_id (32), NTT flag (1), size, N, prime count, scale, correction factor
// (8 each), then the word array (header 16, count 8, words).
const AT = { ntt: 48, size: 49, degree: 57, primes: 65, scale: 73, factor: 81, words: 113 };

describe.runIf(await nativeAvailable())('native BGV loaders reject hostile input', () => {
  let ctx: B.BackendContext;
  let bfv: B.BackendContext;
  let valid: Valid[];
  let plain: Uint8Array;
  let cipher: Uint8Array;
  let secret: B.SecretKey;
  let pk: Uint8Array;
  let values: bigint[];

  beforeAll(async () => {
    const backend = await createNativeBackend();
    const coeffModulus = backend.coeffModulusBfvDefault(4096, 128);
    const plainModulus = backend.plainModulusBatching(4096, 20);
    ctx = backend.createContext({ scheme: 'bgv', polyModulusDegree: 4096, coeffModulus, plainModulus }, 128);
    bfv = backend.createContext({ scheme: 'bfv', polyModulusDegree: 4096, coeffModulus, plainModulus }, 128);
    const gen = ctx.createKeyGenerator();
    secret = gen.secretKey();
    const encoder = ctx.createBatchEncoder();
    values = Array.from({ length: 4096 }, (_, i) => BigInt(i - 2048));
    const pt = encoder.encode(BigInt64Array.from(values));
    const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey(), secretKey: secret });
    plain = pt.save();
    cipher = encryptor.encrypt(pt).save();
    pk = gen.createPublicKey().save();
    const PLAIN = [48, 80];
    const CIPHER = [AT.size, AT.words - 8];
    const KEYS = [48, 56, 64 + AT.size, 64 + AT.words - 8];
    valid = [
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
  });

  it('the valid inputs load (so each rejection below is caused by its corruption)', () => {
    for (const v of valid) expect(() => ctx.load[v.kind](v.bytes), v.what).not.toThrow();
  });

  it('truncated, with and without a consistent header', () => {
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
  });

  it('oversized counts', () => {
    for (const v of valid) {
      for (const at of v.counts) {
        for (const value of [1n << 60n, (1n << 64n) - 1n, 1n << 33n, 4097n]) {
          const bytes = u64At(v.bytes, at, value);
          expect([v.what, at, codeOf(() => ctx.load[v.kind](bytes))]).toEqual([v.what, at, 'E_BAD_SERIALIZATION']);
        }
      }
    }
  });

  it('BGV invariants: correction factor in [1, t), scale 1, plaintexts below t in coefficient form, keys at the key level', () => {
    const t = ctx.params.plainModulus ?? 0n;
    const cases: [string, Kind, Uint8Array][] = [
      ['ciphertext correction factor 0', 'ciphertext', u64At(cipher, AT.factor, 0n)],
      ['ciphertext correction factor t', 'ciphertext', u64At(cipher, AT.factor, t)],
      ['ciphertext correction factor 2^64 - 1', 'ciphertext', u64At(cipher, AT.factor, (1n << 64n) - 1n)],
      ['ciphertext scale 2', 'ciphertext', f64At(cipher, AT.scale, 2)],
      ['ciphertext scale NaN', 'ciphertext', f64At(cipher, AT.scale, NaN)],
      ['ciphertext degree 8192', 'ciphertext', u64At(cipher, AT.degree, 8192n)],
      ['ciphertext prime count 3', 'ciphertext', u64At(cipher, AT.primes, 3n)],
      ['ciphertext size 1', 'ciphertext', u64At(cipher, AT.size, 1n)],
      ['ciphertext size 17', 'ciphertext', u64At(cipher, AT.size, 17n)],
      ['ciphertext unreduced residue', 'ciphertext', u64At(cipher, AT.words, (1n << 64n) - 1n)],
      ['ciphertext at the key level', 'ciphertext', pk],
      ['public key at a data level', 'publicKey', cipher],
      ['public key correction factor 0', 'publicKey', u64At(pk, AT.factor, 0n)],
      [
        'public key not in NTT form',
        'publicKey',
        (() => {
          const b = pk.slice();
          b[AT.ntt] = 0;
          return b;
        })(),
      ],
      ['plaintext coefficient = t', 'plaintext', u64At(plain, 88, t)],
      ['plaintext coefficient = 2^64 - 1', 'plaintext', u64At(plain, 88 + 8 * 17, (1n << 64n) - 1n)],
      ['plaintext in NTT form (a parms_id)', 'plaintext', u64At(plain, 16, 1n)],
      ['plaintext scale 2', 'plaintext', f64At(plain, 56, 2)],
      ['secret key as a plaintext', 'plaintext', secret.save()],
      ['plaintext as a secret key', 'secretKey', plain],
      [
        'a BFV ciphertext with the same primes and t',
        'ciphertext',
        (() => {
          const g = bfv.createKeyGenerator();
          return bfv
            .createEncryptor({ publicKey: g.createPublicKey() })
            .encrypt(bfv.createBatchEncoder().encode(BigInt64Array.from([1n])))
            .save();
        })(),
      ],
      ['BFV relin keys with the same primes and t', 'relinKeys', bfv.createKeyGenerator().createRelinKeysSeeded()],
    ];
    for (const [what, kind, bytes] of cases) {
      expect([what, codeOf(() => ctx.load[kind](bytes))]).toEqual([what, 'E_BAD_SERIALIZATION']);
    }
  });

  it('a correction factor in range loads and is honoured: factor 2 decrypts to m / 2 (mod t)', () => {
    const t = ctx.params.plainModulus ?? 0n;
    const ct = ctx.load.ciphertext(u64At(cipher, AT.factor, 2n));
    const half = (t + 1n) / 2n; // 2^-1 mod t
    const expected = values.map((v) => {
      const r = (((v * half) % t) + t) % t;
      return r > t / 2n ? r - t : r;
    });
    expect(Array.from(ctx.createBatchEncoder().decode(ctx.createDecryptor(secret).decrypt(ct)))).toEqual(expected);
  });

  it('a coefficient-form ciphertext loads (SEAL makes no flag check) but every operation refuses it', () => {
    const b = cipher.slice();
    b[AT.ntt] = 0;
    const ct = ctx.load.ciphertext(b);
    expect(ct.isNttForm).toBe(false);
    const ev = ctx.createEvaluator();
    expect(codeOf(() => ev.negate(ct))).toBe('E_INVALID_ARGUMENT');
    expect(codeOf(() => ev.multiply(ct, ct))).toBe('E_INVALID_ARGUMENT');
    expect(codeOf(() => ev.modSwitchToNext(ct))).toBe('E_INVALID_ARGUMENT');
    expect(codeOf(() => ctx.createDecryptor(secret).decrypt(ct))).toBe('E_INVALID_ARGUMENT');
  });

  it('compression bombs and broken streams', () => {
    const bomb = withHeader(zlib.deflateSync(Buffer.alloc(64 << 20)), 1);
    expect(codeOf(() => ctx.load.ciphertext(bomb))).toBe('E_BAD_SERIALIZATION');
    const zstdBomb = withHeader(zlib.zstdCompressSync(Buffer.alloc(64 << 20)), 2);
    expect(codeOf(() => ctx.load.plaintext(zstdBomb))).toBe('E_BAD_SERIALIZATION');
    expect(codeOf(() => ctx.load.relinKeys(withHeader(Uint8Array.from([1, 2, 3]), 1)))).toBe('E_BAD_SERIALIZATION');
  });

  it('random corruption: rejected with E_BAD_SERIALIZATION, or loaded and safe to compute with', () => {
    const next = prng(16);
    const ev = ctx.createEvaluator();
    const decryptor = ctx.createDecryptor(secret);
    const encoder = ctx.createBatchEncoder();
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
        // Whatever loads must compute without crashing: results or typed errors.
        const use = (): unknown => {
          if (v.kind === 'ciphertext') {
            const c = object as B.Ciphertext;
            return [decryptor.invariantNoiseBudget(ev.negate(c)), decryptor.decrypt(ev.modSwitchToNext(c))];
          }
          if (v.kind === 'plaintext') return encoder.decode(object as B.Plaintext);
          return undefined;
        };
        try {
          use();
        } catch (e) {
          expect(e).toBeInstanceOf(HeftyError);
        }
      }
    }
    expect(loaded).toBeGreaterThan(0); // flips in the bulk words leave valid objects
  });
});
