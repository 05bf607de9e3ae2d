/**
 * Hostile bytes against the native BGV loaders: truncations, oversized counts, BGV's invariants (correction factor
 * in [1, t), scale 1, plaintexts with a zero parms_id and coefficients below t, keys in NTT form at the key level),
 * objects of other parameters (BFV with the same primes and t has other parms_ids), compression bombs and random
 * corruption must end in HeftyError E_BAD_SERIALIZATION — never a crash, an abort or a huge allocation. What does
 * load must then be safe to compute with.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import {
  codeOf,
  expectCompressionBombsRejected,
  expectCorruptionRejectedOrSafe,
  expectOversizedCountsRejected,
  expectTruncationsRejected,
  expectValidInputsLoad,
  f64At,
  integerObjects,
  u64At,
  type Kind,
  type Valid,
} from '../native-bfv/hostile-helpers.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

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
    ({ valid, values, plain, cipher, secret, pk } = integerObjects(ctx));
  });

  it('the valid inputs load (so each rejection below is caused by its corruption)', () => {
    expectValidInputsLoad(ctx, valid);
  });

  it('truncated, with and without a consistent header', () => {
    expectTruncationsRejected(ctx, valid);
  });

  it('oversized counts', () => {
    expectOversizedCountsRejected(ctx, valid);
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
    expectCompressionBombsRejected(ctx);
  });

  it('random corruption: rejected with E_BAD_SERIALIZATION, or loaded and safe to compute with', () => {
    const ev = ctx.createEvaluator();
    const decryptor = ctx.createDecryptor(secret);
    const encoder = ctx.createBatchEncoder();
    // Whatever loads must compute without crashing: results or typed errors.
    expectCorruptionRejectedOrSafe(ctx, valid, 16, (kind, object) => {
      if (kind === 'ciphertext') {
        const c = object as B.Ciphertext;
        return [decryptor.invariantNoiseBudget(ev.negate(c)), decryptor.decrypt(ev.modSwitchToNext(c))];
      }
      if (kind === 'plaintext') return encoder.decode(object as B.Plaintext);
      return undefined;
    });
  });
});
