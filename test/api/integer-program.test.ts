/**
 * Programs on BFV and BGV: the validator knows each scheme's ops, ctx.run evaluates every integer op (checked by
 * decrypting against plain integer arithmetic mod t), the planner makes integer contexts whose keys are exactly
 * what the program rotates with, and the pool runs integer batches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createContext,
  createPool,
  encodeKeySet,
  programGaloisSteps,
  validateProgram,
  type PlannedIntegerContext,
  type Program,
} from '../../src/index.ts';
import { formatPlan } from '../../src/cli/plan.ts';
import { expectHeftyError, expectHeftyErrorAsync } from '../helpers.ts';

const model: Program = {
  inputs: { x: 'vector', y: 'vector', w: 'matrix', b: 'plain', k: 'scalar' },
  steps: [
    { out: 'h', op: 'matvec', args: ['x'], matrix: 'w' },
    { out: 'hb', op: 'add', args: ['h', 'b'] },
    { out: 'p', op: 'polyval', args: ['hb'], coeffs: [1, 0, 2, -1] },
    { out: 'xy', op: 'mul', args: ['x', 'y'] },
    { out: 'scaled', op: 'mul', args: ['xy', 'k'] },
    { out: 'r', op: 'rotate', args: ['scaled'], steps: 5 },
    { out: 'c', op: 'rotateColumns', args: ['x'] },
    { out: 'n', op: 'negate', args: ['y'] },
    { out: 'diff', op: 'sub', args: ['n', { const: [1, 2, 3, 4, 5, 6, 7, 8] }] },
    { out: 'd', op: 'dot', args: ['x', 'y'] },
    { out: 's', op: 'sum', args: ['diff'] },
    { out: 'sq', op: 'square', args: ['y'] },
  ],
  outputs: ['p', 'r', 'c', 'd', 's', 'sq'],
};

const x = [3, -1, 4, 1, -5, 9, 2, -6];
const y = [2, 7, -1, 8, 2, -8, 1, 8];
const w = [
  [1, 0, -2, 3, 0, 1, 0, 2],
  [0, 5, 1, -1, 2, 0, 3, 0],
  [-4, 1, 0, 0, 1, 1, 1, -1],
];
const b = [10, -20, 30];

describe('program validation per scheme', () => {
  it('refuses ops and numbers a scheme does not have, with E_BAD_PROGRAM', () => {
    const one = (step: Record<string, unknown>) => ({ inputs: { x: 'vector' }, steps: [step], outputs: ['y'] });
    expect(validateProgram(model, 'bfv')).toBe(model);
    expect(validateProgram(model, 'bgv')).toBe(model);
    expectHeftyError(() => validateProgram(model, 'ckks'), 'E_BAD_PROGRAM'); // rotateColumns
    const activation = one({ out: 'y', op: 'activation', args: ['x'], fn: 'sigmoid' });
    expect(validateProgram(activation, 'ckks')).toBe(activation);
    for (const scheme of ['bfv', 'bgv'] as const) {
      expectHeftyError(() => validateProgram(activation, scheme), 'E_BAD_PROGRAM');
      expectHeftyError(
        () => validateProgram(one({ out: 'y', op: 'polyval', args: ['x'], coeffs: [1, 0.5] }), scheme),
        'E_BAD_PROGRAM',
      );
      expectHeftyError(
        () =>
          validateProgram(one({ out: 'y', op: 'polyval', args: ['x'], coeffs: [1, 2], basis: 'chebyshev' }), scheme),
        'E_BAD_PROGRAM',
      );
      expectHeftyError(
        () => validateProgram(one({ out: 'y', op: 'add', args: ['x', { const: [1, 2.5] }] }), scheme),
        'E_BAD_PROGRAM',
      );
      expectHeftyError(
        () => validateProgram(one({ out: 'y', op: 'matvec', args: ['x'], matrix: [[1, 0.25]] }), scheme),
        'E_BAD_PROGRAM',
      );
    }
  });

  it('lists row-rotation steps and the column swap (step 0) for integer contexts', () => {
    const sum: Program = { inputs: { x: 'vector' }, steps: [{ out: 's', op: 'sum', args: ['x'] }], outputs: ['s'] };
    expect(programGaloisSteps(sum, 16, 'bfv')).toEqual([0, 1, 2, 4]);
    expect(programGaloisSteps(sum, 16)).toEqual([1, 2, 4, 8]);
  });
});

for (const scheme of ['bfv', 'bgv'] as const) {
  describe(`integer programs on ${scheme.toUpperCase()}`, () => {
    let ctx: PlannedIntegerContext;
    let t: bigint;
    const mod = (v: bigint): bigint => {
      let r = v % t;
      if (r < 0n) r += t;
      return r > t / 2n ? r - t : r;
    };
    const big = (values: readonly (number | bigint)[]) => BigInt64Array.from(values.map((v) => mod(BigInt(v))));

    beforeAll(async () => {
      // The planner picks N and keys; the plain modulus default is 20 bits.
      ctx = await createContext({ scheme, program: model, inputs: { x: 8, y: 8, w: [3, 8], b: 3 } });
      ctx.keygen();
      t = ctx.params.plainModulus as bigint;
    });
    afterAll(() => ctx?.dispose());

    it('plans an integer context: depth, exact row steps with the column swap, relin keys', () => {
      const plan = ctx.plan;
      expect(plan.scheme).toBe(scheme);
      expect(plan.polyModulusDegree).toBe(ctx.params.polyModulusDegree);
      expect(plan.slotCount).toBe(ctx.slotCount);
      expect(plan.levels).toBe(3); // matvec (1) then a cubic (2)
      expect(plan.galoisSteps).toContain(0);
      expect(plan.galoisSteps).toContain(5);
      expect(plan.relinKeys).toBe(true);
      expect(plan.noiseBudget?.fresh).toBeGreaterThan(plan.noiseBudget?.consumed ?? Infinity);
      expect(ctx.session.keys.galoisKeys?.galoisElts).toHaveLength(plan.galoisSteps.length);
      expect(formatPlan(plan)).toContain(`depth          3`);
      expect(ctx.requiredGaloisSteps(model, { x: 8, y: 8, w: [3, 8], b: 3 })).toEqual([...plan.galoisSteps]);
    });

    it('runs every integer op and decrypts exactly', async () => {
      const xv = ctx.encrypt(x);
      const yv = ctx.encrypt(y);
      const out = await ctx.run(model, { x: xv, y: yv, w, b, k: 3n });
      const h = w.map((row, i) => row.reduce((s, m, j) => s + m * x[j], 0) + b[i]);
      expect(out.p.decrypt()).toEqual(big(h.map((v) => 1n + 2n * BigInt(v) ** 2n - BigInt(v) ** 3n)));
      const scaled = x.map((v, i) => 3 * v * y[i]);
      const r = out.r.decrypt();
      expect(r).toEqual(big([...scaled.slice(5), 0, 0, 0, 0, 0].slice(0, 8)));
      expect(out.c.decrypt()).toEqual(big(new Array(8).fill(0))); // row 1 of a fresh short vector is zero
      expect(out.d.decrypt()).toEqual(big([x.reduce((s, v, i) => s + v * y[i], 0)]));
      expect(out.s.decrypt()).toEqual(big([y.reduce((s, v, i) => s - v - (i + 1), 0)]));
      expect(out.sq.decrypt()).toEqual(big(y.map((v) => v * v)));
      expect(out.p.noiseBudget()).toBeGreaterThan(0);
    });

    it('refuses inputs of the wrong kind with typed errors', async () => {
      const xv = ctx.encrypt(x);
      const yv = ctx.encrypt(y);
      await expectHeftyErrorAsync(ctx.run(model, { x: xv, y: yv, w, b, k: 0.5 }), 'E_BAD_PROGRAM');
      await expectHeftyErrorAsync(ctx.run(model, { x: xv, y: yv, w, b: [1.5, 2, 3], k: 1 }), 'E_BAD_PROGRAM');
      await expectHeftyErrorAsync(ctx.run(model, { x: xv, y: [1, 2, 3], w, b, k: 1 }), 'E_BAD_PROGRAM');
      const ckks = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
      try {
        ckks.keygen();
        await expectHeftyErrorAsync(
          ctx.run(model, { x: ckks.encrypt(x) as never, y: yv, w, b, k: 1 }),
          'E_BAD_PROGRAM',
        );
      } finally {
        ckks.dispose();
      }
    });

    it('runs integer batches on the pool', async () => {
      const pool = await createPool({ workers: 1 });
      try {
        const dot: Program = {
          inputs: { x: 'vector', w: 'plain' },
          steps: [
            { out: 'd', op: 'dot', args: ['x', 'w'] },
            { out: 'm', op: 'mul', args: ['x', { const: 7 }] },
          ],
          outputs: ['d', 'm'],
        };
        const keySet = await pool.addKeySet(encodeKeySet(ctx.exportKeySet()));
        const items = [x, y].map((v) => ({ x: ctx.encrypt(v).serialize(), w: y }));
        const results = await pool.runBatch(keySet, dot, items);
        results.forEach((result, i) => {
          if (result instanceof Error) throw result;
          const v = [x, y][i];
          expect(ctx.loadVector(result.outputs.d).decrypt()).toEqual(big([v.reduce((s, e, j) => s + e * y[j], 0)]));
          expect(ctx.loadVector(result.outputs.m).decrypt()).toEqual(big(v.map((e) => 7 * e)));
        });
      } finally {
        await pool.close();
      }
    });
  });
}
