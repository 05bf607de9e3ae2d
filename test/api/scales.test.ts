/**
 * Scale handling (src/api/ckks-ops.ts): ciphertexts at different scales multiply (scales multiply, only levels
 * align, as SEAL allows), and additions of different scales are aligned exactly — by a plaintext 1 at the
 * integer ratio of the scales (no level), or encoded at ratio × prime and rescaled (one level) — never by
 * relabelling, which would scale the value. Relabelling stays for rounding drift only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, CKKSVector, type HeftyContext } from '../../src/index.ts';
import { backendsUnderTest, expectHeftyError, maxAbsError, randomVector } from '../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const backends = await backendsUnderTest();

describe.each(backends)('scales on %s (N=8192, [60, 40, 40, 60])', (backend) => {
  let ctx: HeftyContext;
  const x = randomVector(50, 3, 2);
  const y = randomVector(50, 4, 2);

  /** An encryption of `values` at an explicit scale (the context's default is 2^40). */
  function encryptAt(values: readonly number[], scale: number): CKKSVector {
    const s = ctx.session;
    const plain = s.ckksEncoder.encode(Float64Array.from(values), scale);
    try {
      return new CKKSVector(s, [s.encryptor.encrypt(plain)], values.length, true);
    } finally {
      plain.dispose();
    }
  }

  beforeAll(async () => {
    ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 8192,
      coeffModulusBits: [60, 40, 40, 60],
      scale: 2 ** 40,
      backend,
    });
    ctx.keygen();
  });
  afterAll(() => ctx.dispose());

  it('multiplies 2^40 × 2^30 ciphertexts: the scales multiply, then one rescale', () => {
    const a = encryptAt(x, 2 ** 40);
    const b = encryptAt(y, 2 ** 30);
    const product = a.mul(b);
    expect(product.chainIndex).toBe(a.chainIndex - 1);
    const prime = ctx.session.lastPrime(a.chainIndex);
    expect(product.scale / ((2 ** 40 * 2 ** 30) / prime)).toBeCloseTo(1, 12);
    expect(
      maxAbsError(
        product.decrypt(RAW),
        x.map((v, i) => v * y[i]),
      ),
    ).toBeLessThan(1e-4);
    // Across levels too: the higher operand drops, the scales still multiply.
    const lower = encryptAt(y, 2 ** 40).mul(0.5); // level 1, scale 2^40
    const mixed = b.mul(lower);
    expect(
      maxAbsError(
        mixed.decrypt(RAW),
        y.map((v) => v * v * 0.5),
      ),
    ).toBeLessThan(1e-3);
  });

  // A fresh encryption at scale 2^30 carries ~1e-6 of noise; relabelling instead of aligning would be off by ~2^10.
  it('adds 2^40 and 2^30 exactly at the integer ratio, without a level', () => {
    const a = encryptAt(x, 2 ** 40);
    const b = encryptAt(y, 2 ** 30);
    for (const sum of [a.add(b), b.add(a)]) {
      expect(sum.chainIndex).toBe(a.chainIndex);
      expect(sum.scale).toBe(2 ** 40);
      expect(
        maxAbsError(
          sum.decrypt(RAW),
          x.map((v, i) => v + y[i]),
        ),
      ).toBeLessThan(1e-5);
    }
    expect(
      maxAbsError(
        b.sub(a).decrypt(RAW),
        y.map((v, i) => v - x[i]),
      ),
    ).toBeLessThan(1e-5);
  });

  it('adds scales with no integer ratio exactly by spending one level', () => {
    const a = encryptAt(x, 2 ** 40);
    const odd = encryptAt(y, 2 ** 40 / 3); // ratio 3 is an integer; 2^40/π is not
    expect(
      maxAbsError(
        a.add(odd).decrypt(RAW),
        x.map((v, i) => v + y[i]),
      ),
    ).toBeLessThan(1e-6);
    const irrational = encryptAt(y, 2 ** 40 / Math.PI);
    const sum = a.add(irrational);
    expect(sum.chainIndex).toBe(a.chainIndex - 1);
    expect(sum.scale / a.scale).toBeCloseTo(1, 9);
    expect(
      maxAbsError(
        sum.decrypt(RAW),
        x.map((v, i) => v + y[i]),
      ),
    ).toBeLessThan(1e-5);
  });

  it('relabels only rounding drift, and says when no level is left to align', () => {
    const a = encryptAt(x, 2 ** 40);
    const drift = encryptAt(y, 2 ** 40 * (1 + 1e-9));
    const sum = a.add(drift);
    expect(sum.chainIndex).toBe(a.chainIndex);
    expect(
      maxAbsError(
        sum.decrypt(RAW),
        x.map((v, i) => v + y[i]),
      ),
    ).toBeLessThan(1e-6);
    // At the last level a non-integer ratio cannot be aligned: a clear error, not a wrong value.
    const last = a.mul(1).mul(1);
    expect(last.chainIndex).toBe(0);
    const lastOdd = encryptAt(y, 2 ** 40 / Math.PI)
      .mul(1)
      .mul(1);
    expectHeftyError(() => last.add(lastOdd), 'E_LEVEL_EXHAUSTED');
  });
});
