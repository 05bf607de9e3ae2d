/** Rotation steps composed from keyed steps (src/api/he/rotations.ts), and rotateMany using them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type HeftyContext } from '../../../src/index.ts';
import { composeRotation, nonAdjacentForm, normalizeStep, powerOfTwoSteps } from '../../../src/api/he/rotations.ts';
import { expectHeftyError, maxAbsError } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const weight = (v: number) => v.toString(2).replaceAll('0', '').length;

describe('non-adjacent form', () => {
  it('sums to the value, has no adjacent nonzero digits, and never more terms than binary', () => {
    for (let v = 0; v < 5000; v++) {
      const terms = nonAdjacentForm(v);
      expect(terms.reduce((a, b) => a + b, 0)).toBe(v);
      const exponents = terms.map((t) => Math.log2(Math.abs(t)));
      for (const e of exponents) expect(Number.isInteger(e)).toBe(true);
      for (let i = 1; i < exponents.length; i++) expect(exponents[i] - exponents[i - 1]).toBeGreaterThanOrEqual(2);
      expect(terms.length).toBeLessThanOrEqual(weight(v));
    }
    expect(nonAdjacentForm(7)).toEqual([-1, 8]);
    expect(nonAdjacentForm(0)).toEqual([]);
  });
});

describe('composeRotation', () => {
  const slots = 4096;
  const defaultKeys = new Set(powerOfTwoSteps(slots));
  const hasDefault = (s: number) => defaultKeys.has(s);

  it("uses SEAL's default ±2^k keys with at most ceil(log2(slots) / 2) rotations", () => {
    let worst = 0;
    for (let step = -slots; step <= slots; step++) {
      const parts = composeRotation(step, slots, hasDefault);
      expect(parts).not.toBeNull();
      const list = parts as number[];
      for (const p of list) expect(defaultKeys.has(p)).toBe(true);
      expect(
        normalizeStep(
          list.reduce((a, b) => a + b, 0),
          slots,
        ),
      ).toBe(normalizeStep(step, slots));
      worst = Math.max(worst, list.length);
    }
    expect(worst).toBe(Math.ceil(Math.log2(slots) / 2));
    // 7 = 8 - 1 (two rotations, where positive powers alone need three); 4095 = -1 (one)
    expect(composeRotation(7, slots, hasDefault)).toHaveLength(2);
    expect(composeRotation(4095, slots, hasDefault)).toEqual([4095]);
    expect(composeRotation(0, slots, hasDefault)).toEqual([]);
  });

  it('falls back to positive powers of two, uses an exact key when present, and says when it cannot', () => {
    const positive = new Set([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(composeRotation(7, slots, (s) => positive.has(s))).toEqual([1, 2, 4]);
    expect(composeRotation(7, slots, (s) => s === 7 || positive.has(s))).toEqual([7]);
    expect(composeRotation(7, slots, (s) => s === 1)).toBeNull();
  });
});

describe('rotateMany composes missing steps in NAF', () => {
  let ctx: HeftyContext;
  beforeAll(async () => {
    ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native' });
    ctx.keygen({ galois: [1, 8, 4096 - 1, 4096 - 8] });
  });
  afterAll(() => ctx.dispose());

  it('rotates by 7 = 8 - 1 and by -9 = -8 - 1 with keys for ±1 and ±8 only', () => {
    const values = Array.from({ length: 4096 }, (_, i) => Math.sin(i));
    const v = ctx.encrypt(values);
    const rotated = (k: number) => Array.from({ length: 4096 }, (_, i) => values[normalizeStep(i + k, 4096)]);
    expect(maxAbsError(v.rotate(7).decrypt(RAW), rotated(7))).toBeLessThan(1e-5);
    expect(maxAbsError(v.rotate(-9).decrypt(RAW), rotated(-9))).toBeLessThan(1e-5);
    expectHeftyError(() => v.rotate(2), 'E_MISSING_GALOIS_KEY');
  });
});
