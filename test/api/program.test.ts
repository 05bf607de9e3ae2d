/** Programs: validation errors, galois-step analysis and evaluation checked by decrypting. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createContext,
  programGaloisSteps,
  PROGRAM_LIMITS,
  validateProgram,
  type HeftyContext,
  type Program,
} from '../../src/index.ts';
import { expectHeftyError, expectHeftyErrorAsync, maxAbsError } from '../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const scoring: Program = {
  inputs: { x: 'vector', w: 'plain', bias: 'scalar' },
  steps: [
    { out: 'xw', op: 'mul', args: ['x', 'w'] },
    { out: 'shifted', op: 'add', args: ['xw', 'bias'] },
    { out: 'score', op: 'sum', args: ['shifted'] },
    { out: 'moved', op: 'rotate', args: ['x'], steps: -1 },
  ],
  outputs: ['score', 'moved'],
};

describe('program form', () => {
  it('validates structure and references', () => {
    expect(validateProgram(scoring)).toBe(scoring);
    expectHeftyError(() => validateProgram(null), 'E_BAD_PROGRAM');
    expectHeftyError(() => validateProgram({ inputs: {}, steps: [], outputs: [] }), 'E_BAD_PROGRAM');
    expectHeftyError(
      () =>
        validateProgram({ inputs: { x: 'vector' }, steps: [{ out: 'y', op: 'explode', args: ['x'] }], outputs: ['y'] }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () =>
        validateProgram({
          inputs: { x: 'vector' },
          steps: [{ out: 'y', op: 'add', args: ['x', 'z'] }],
          outputs: ['y'],
        }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () =>
        validateProgram({ inputs: { x: 'vector' }, steps: [{ out: 'x', op: 'negate', args: ['x'] }], outputs: ['x'] }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () => validateProgram({ inputs: { x: 'vector', w: 'plain' }, steps: [], outputs: ['w'] }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () =>
        validateProgram({
          inputs: { x: 'vector' },
          steps: [{ out: 'y', op: 'polyval', args: ['x'], coeffs: [1, Number.NaN] }],
          outputs: ['y'],
        }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () =>
        validateProgram({
          inputs: { x: 'vector' },
          steps: [{ out: 'y', op: 'matvec', args: ['x'], matrix: [[1, 2], [3]] }],
          outputs: ['y'],
        }),
      'E_BAD_PROGRAM',
    );
    expectHeftyError(
      () =>
        validateProgram({ inputs: { w: 'plain' }, steps: [{ out: 'y', op: 'negate', args: ['w'] }], outputs: ['y'] }),
      'E_BAD_PROGRAM',
    );
  });

  it('validates polynomial and activation steps (both bases, intervals, degree cap)', () => {
    const one = (step: Record<string, unknown>) => ({
      inputs: { x: 'vector' },
      steps: [{ out: 'y', args: ['x'], ...step }],
      outputs: ['y'],
    });
    const ok = [
      { op: 'polyval', coeffs: [1, 2], basis: 'monomial' },
      { op: 'polyval', coeffs: [1, 2, 3], basis: 'chebyshev', interval: [-8, 8] },
      { op: 'polyval', coeffs: new Array(PROGRAM_LIMITS.maxPolyDegree + 1).fill(0.5) },
      { op: 'activation', fn: 'sigmoid' },
      { op: 'activation', fn: 'gelu', interval: [-3, 3], degree: 15 },
    ];
    for (const step of ok) expect(() => validateProgram(one(step))).not.toThrow();
    expect(PROGRAM_LIMITS.maxPolyDegree).toBeGreaterThanOrEqual(63);
    const bad = [
      { op: 'polyval', coeffs: new Array(PROGRAM_LIMITS.maxPolyDegree + 2).fill(0.5) },
      { op: 'polyval', coeffs: [1, 2], basis: 'legendre' },
      { op: 'polyval', coeffs: [1, 2], interval: [-1, 1] }, // an interval needs the Chebyshev basis
      { op: 'polyval', coeffs: [1, 2], basis: 'chebyshev', interval: [2, 1] },
      { op: 'polyval', coeffs: [1, 2], basis: 'chebyshev', interval: [0, Number.POSITIVE_INFINITY] },
      { op: 'activation', fn: 'relu' },
      { op: 'activation', fn: 'sigmoid', degree: 0 },
      { op: 'activation', fn: 'sigmoid', degree: 2.5 },
      { op: 'activation', fn: 'tanh', interval: [1] },
    ];
    for (const step of bad) expectHeftyError(() => validateProgram(one(step)), 'E_BAD_PROGRAM');
  });

  it('reports exactly the galois steps it needs', () => {
    expect(programGaloisSteps(scoring, 16)).toEqual([1, 2, 4, 8, 15]);
    expect(
      programGaloisSteps(
        { inputs: { x: 'vector' }, steps: [{ out: 'y', op: 'negate', args: ['x'] }], outputs: ['y'] },
        16,
      ),
    ).toEqual([]);
  });

  describe('evaluation', () => {
    let ctx: HeftyContext;
    beforeAll(async () => {
      ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
      ctx.keygen({ galois: ctx.requiredGaloisSteps(scoring) });
    });

    it('runs a program and matches the float64 reference', async () => {
      const x = [1, -2, 3, 0.5];
      const w = [0.5, 0.25, -1, 2];
      const out = await ctx.run(scoring, { x: ctx.encrypt(x), w, bias: 0.1 });
      expect(maxAbsError(out.score.decrypt(RAW), [x.reduce((s, v, i) => s + v * w[i] + 0.1, 0)])).toBeLessThan(1e-5);
      const moved = out.moved.decrypt(RAW);
      expect(moved[0]).toBeCloseTo(0, 5);
      expect(maxAbsError(moved.subarray(1), x.slice(0, 3))).toBeLessThan(1e-5);
    });

    it('runs matvec with a matrix input and inline constants', async () => {
      const program = {
        inputs: { x: 'vector', m: 'matrix' },
        steps: [
          { out: 'y', op: 'matvec', args: ['x'], matrix: 'm' },
          { out: 'z', op: 'add', args: ['y', { const: [1, 2] }] },
        ],
        outputs: ['z'],
      };
      const out = await ctx.run(program, {
        x: ctx.encrypt([1, 2, 3]),
        m: [
          [1, 0, 1],
          [0, 2, 0],
        ],
      });
      expect(maxAbsError(out.z.decrypt(RAW), [5, 6])).toBeLessThan(1e-4);
    });

    it('rejects bad inputs', async () => {
      await expectHeftyErrorAsync(ctx.run(scoring, { x: ctx.encrypt([1]) }), 'E_BAD_PROGRAM');
      await expectHeftyErrorAsync(ctx.run(scoring, { x: [1, 2], w: [1, 2], bias: 1 }), 'E_BAD_PROGRAM');
      await expectHeftyErrorAsync(ctx.run(scoring, { x: ctx.encrypt([1, 2]), w: [1], bias: 1 }), 'E_LENGTH_MISMATCH');
      await expectHeftyErrorAsync(ctx.run({ inputs: {}, steps: [], outputs: ['q'] }, {}), 'E_BAD_PROGRAM');
    });
  });
});

describe('program levels', () => {
  const square: Program = {
    inputs: { x: 'vector' },
    steps: [
      { out: 'y', op: 'square', args: ['x'] },
      { out: 'z', op: 'polyval', args: ['y'], coeffs: [0.5, 1, 0.25] },
    ],
    outputs: ['z'],
  };
  const want = (v: number) => 0.5 + v * v + 0.25 * v ** 4;

  it('drops encrypted inputs to the levels the program needs, unless asked to keep them', async () => {
    // N=16384's default chain: 6 levels, a 60-bit first prime above a 2^40 scale. The program needs 3.
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 16384 });
    try {
      ctx.keygen();
      const x = ctx.encrypt([0.5, -1, 1.5]);
      const { z } = await ctx.run(square, { x });
      expect(z.chainIndex).toBe(0);
      expect(maxAbsError(z.decrypt(RAW), [0.5, -1, 1.5].map(want))).toBeLessThan(1e-4);
      const kept = (await ctx.run(square, { x }, { keepInputLevels: true })).z;
      expect(kept.chainIndex).toBe(x.chainIndex - 3);
      expect(x.chainIndex).toBe(6); // the caller's input is not touched
      for (const v of [x, z, kept]) v.dispose();
    } finally {
      ctx.dispose();
    }
  });

  it('leaves one level spare where the first prime has no room above the scale', async () => {
    const ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 16384,
      coeffModulusBits: [40, 40, 40, 40, 40, 40, 40, 50],
    });
    try {
      ctx.keygen();
      const x = ctx.encrypt([0.5, -1, 1.5]);
      const { z } = await ctx.run(square, { x });
      expect(z.chainIndex).toBe(1);
      expect(maxAbsError(z.decrypt(RAW), [0.5, -1, 1.5].map(want))).toBeLessThan(1e-3);
      x.dispose();
      z.dispose();
    } finally {
      ctx.dispose();
    }
  });
});
