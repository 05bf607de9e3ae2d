/**
 * Hostile bytes against the native BFV loaders: truncations, oversized counts, BFV-specific invariants (plaintext
 * coefficients below t, zero parms_id, scale 1, keys in NTT form at the key level), objects of other parameters,
 * compression bombs and random corruption must end in HeftyError E_BAD_SERIALIZATION — never a crash, an abort or
 * a huge allocation. What does load must then be safe to compute with.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
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
} from './hostile-helpers.ts';

describe.runIf(await nativeAvailable())('native BFV loaders reject hostile input', () => {
  let ctx: B.BackendContext;
  let ckks: B.BackendContext;
  let valid: Valid[];
  let plain: Uint8Array;
  let cipher: Uint8Array;
  let secret: B.SecretKey;
  let pk: Uint8Array;

  beforeAll(async () => {
    const backend = await createNativeBackend();
    const coeffModulus = backend.coeffModulusBfvDefault(4096, 128);
    ctx = backend.createContext(
      { scheme: 'bfv', polyModulusDegree: 4096, coeffModulus, plainModulus: backend.plainModulusBatching(4096, 20) },
      128,
    );
    ckks = backend.createContext({ scheme: 'ckks', polyModulusDegree: 4096, coeffModulus }, 128);
    ({ valid, plain, cipher, secret, pk } = integerObjects(ctx));
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

  it('BFV invariants: coefficients below t, zero parms_id, scale 1, keys in NTT form at the key level', () => {
    const t = ctx.params.plainModulus ?? 0n;
    const cases: [string, Kind, Uint8Array][] = [
      ['plaintext coefficient = t', 'plaintext', u64At(plain, 88, t)],
      ['plaintext coefficient = 2^64 - 1', 'plaintext', u64At(plain, 88 + 8 * 17, (1n << 64n) - 1n)],
      ['plaintext in NTT form (a parms_id)', 'plaintext', u64At(plain, 16, 1n)],
      ['plaintext scale 2', 'plaintext', f64At(plain, 56, 2)],
      ['ciphertext scale 2', 'ciphertext', f64At(cipher, 16 + 57, 2)],
      ['ciphertext scale NaN', 'ciphertext', f64At(cipher, 16 + 57, NaN)],
      ['ciphertext correction factor 2', 'ciphertext', u64At(cipher, 16 + 65, 2n)],
      ['ciphertext degree 8192', 'ciphertext', u64At(cipher, 16 + 41, 8192n)],
      ['ciphertext prime count 3', 'ciphertext', u64At(cipher, 16 + 49, 3n)],
      ['ciphertext size 1', 'ciphertext', u64At(cipher, 16 + 33, 1n)],
      ['ciphertext unreduced residue', 'ciphertext', u64At(cipher, 113, (1n << 64n) - 1n)],
      ['ciphertext at the key level', 'ciphertext', pk],
      ['public key at a data level', 'publicKey', cipher],
      [
        'public key not in NTT form',
        'publicKey',
        (() => {
          const b = pk.slice();
          b[16 + 32] = 0;
          return b;
        })(),
      ],
      ['secret key as a plaintext', 'plaintext', secret.save()],
      ['plaintext as a secret key', 'secretKey', plain],
      [
        'a CKKS ciphertext with the same primes',
        'ciphertext',
        (() => {
          const g = ckks.createKeyGenerator();
          return ckks
            .createEncryptor({ publicKey: g.createPublicKey() })
            .encrypt(ckks.createCkksEncoder().encode(Float64Array.from([1]), 2 ** 20))
            .save();
        })(),
      ],
    ];
    for (const [what, kind, bytes] of cases) {
      expect([what, codeOf(() => ctx.load[kind](bytes))]).toEqual([what, 'E_BAD_SERIALIZATION']);
    }
  });

  it('an NTT-form ciphertext loads (SEAL makes no flag check) but every operation refuses it', () => {
    const b = cipher.slice();
    b[16 + 32] = 1;
    const ct = ctx.load.ciphertext(b);
    expect(ct.isNttForm).toBe(true);
    const ev = ctx.createEvaluator();
    expect(codeOf(() => ev.negate(ct))).toBe('E_INVALID_ARGUMENT');
    expect(codeOf(() => ev.multiply(ct, ct))).toBe('E_INVALID_ARGUMENT');
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
    expectCorruptionRejectedOrSafe(ctx, valid, 15, (kind, object) => {
      if (kind === 'ciphertext') return decryptor.invariantNoiseBudget(ev.negate(object as B.Ciphertext));
      if (kind === 'plaintext') return encoder.decode(object as B.Plaintext);
      return undefined;
    });
  });
});
