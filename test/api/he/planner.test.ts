/**
 * The planner against what actually runs: programs are run in contexts it planned, with a key switcher that
 * counts every rotation request, and the levels each output consumed, the rotation steps and counts, and the
 * exported key-set bytes are compared with the plan. Parameter choice is checked against the backend's
 * security limits (smallest N that holds the chain), and the service's default upload limit against the
 * largest key set the planner plans by default.
 */
import { describe, expect, it } from 'vitest';
import { createContext } from '../../../src/api/context.ts';
import type { CKKSVector } from '../../../src/api/ckks-vector.ts';
import { CpuKeySwitcher, type KeySwitchRequest } from '../../../src/api/key-switching.ts';
import { activationPolynomial, chebyshevAt } from '../../../src/api/he/chebyshev.ts';
import { keySetBytes } from '../../../src/api/he/key-size.ts';
import {
  KEY_BUDGET_BYTES,
  coefficientChain,
  planProgram,
  programCost,
  type MaxCoeffModulusBits,
} from '../../../src/api/he/planner.ts';
import { validateProgram, type Program } from '../../../src/api/program.ts';
import { loadBackend } from '../../../src/backend/load.ts';
import { DEFAULT_OPTIONS } from '../../../src/server/config.ts';
import { HeftyError } from '../../../src/errors.ts';
import { expectHeftyError, maxAbsError, randomVector } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const backend = await loadBackend();
const maxBits: MaxCoeffModulusBits = (n, security) => backend.maxCoeffModulusBits(n, security);

const chainOf = (levels: number): Program => ({
  inputs: { x: 'vector' },
  steps: Array.from({ length: levels }, (_, i) => ({
    out: `p${i + 1}`,
    op: 'square' as const,
    args: [i === 0 ? 'x' : `p${i}`] as const,
  })),
  outputs: [levels === 0 ? 'x' : `p${levels}`],
});

/** A program touching every op: plain and ciphertext products, sums of a short vector, a rotation, polyval. */
const mixed: Program = {
  inputs: { x: 'vector', y: 'vector', w: 'plain', m: 'matrix' },
  steps: [
    { out: 'xy', op: 'mul', args: ['x', 'y'] },
    { out: 'xw', op: 'mul', args: ['x', 'w'] },
    { out: 's', op: 'add', args: ['xy', 'xw'] },
    { out: 'total', op: 'sum', args: ['s'] },
    { out: 'd', op: 'dot', args: ['x', 'w'] },
    { out: 'r', op: 'rotate', args: ['x'], steps: 3 },
    { out: 'n', op: 'negate', args: ['r'] },
    { out: 'q', op: 'square', args: ['x'] },
    { out: 'p', op: 'polyval', args: ['x'], coeffs: [0.5, 0.25, 0, 0.125] },
    { out: 'mv', op: 'matvec', args: ['x'], matrix: 'm' },
  ],
  outputs: ['total', 'd', 'n', 'q', 'p', 'mv', 's'],
};

/** Records every rotation step a program's key switching asks for. */
class CountingKeySwitcher extends CpuKeySwitcher {
  readonly steps = new Set<number>();
  rotations = 0;
  override serve(request: KeySwitchRequest, keys: Parameters<CpuKeySwitcher['serve']>[1]) {
    if (request.op === 'rotate') {
      this.steps.add(request.steps);
      this.rotations += request.list.length;
    } else if (request.op === 'rotate-hoisted') {
      for (const s of request.steps) this.steps.add(s);
      this.rotations += request.list.length * request.steps.length;
    }
    return super.serve(request, keys);
  }
}

function totalBytes(bundle: object): number {
  return Object.values(bundle).reduce((sum: number, b: Uint8Array) => sum + b.length, 0);
}

describe('parameter choice', () => {
  it('builds the chain: first prime = scale + integer bits, one prime per level, special prime', () => {
    expect(coefficientChain(2, 40, 20)).toEqual([60, 40, 40, 60]);
    expect(coefficientChain(0, 40, 20)).toEqual([60, 60]);
    expect(coefficientChain(3, 30, 18)).toEqual([48, 30, 30, 30, 48]);
  });

  it('picks the smallest N whose security limit holds the chain', () => {
    for (const levels of [0, 1, 2, 3, 7, 8, 19]) {
      const plan = planProgram(validateProgram(chainOf(levels)), { inputs: { x: 16 } }, maxBits);
      expect(plan.levels).toBe(levels);
      expect(plan.coeffModulusBits).toEqual(coefficientChain(levels, 40, 20));
      const bits = plan.coeffModulusBits.reduce((a, b) => a + b, 0);
      expect(bits).toBeLessThanOrEqual(maxBits(plan.polyModulusDegree, 128));
      if (plan.polyModulusDegree > 4096) expect(bits).toBeGreaterThan(maxBits(plan.polyModulusDegree / 2, 128));
    }
    const at = (levels: number) => planProgram(validateProgram(chainOf(levels)), { inputs: { x: 16 } }, maxBits);
    expect([2, 3, 7, 8, 19].map((l) => at(l).polyModulusDegree)).toEqual([8192, 16384, 16384, 32768, 32768]);
    // Lower precision fits more levels: three levels at 2^30 fit N=8192 (218 bits).
    const low = planProgram(
      validateProgram(chainOf(3)),
      { inputs: { x: 16 }, scaleBits: 30, integerBits: 18 },
      maxBits,
    );
    expect([low.polyModulusDegree, ...low.coeffModulusBits]).toEqual([8192, 48, 30, 30, 30, 48]);
  });

  it('says how many levels a program needs when no chain holds them', () => {
    let error: unknown;
    try {
      planProgram(validateProgram(chainOf(20)), { inputs: { x: 16 } }, maxBits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HeftyError);
    expect((error as HeftyError).code).toBe('E_LEVEL_EXHAUSTED');
    expect((error as HeftyError).message).toMatch(/needs 20 levels.*gives 19 \(N=32768\)/);
    expectHeftyError(() => planProgram(validateProgram(chainOf(1)), { inputs: {} }, maxBits), 'E_BAD_PROGRAM');
    expectHeftyError(
      () => planProgram(validateProgram(chainOf(1)), { inputs: { x: 4 }, scaleBits: 70 }, maxBits),
      'E_INVALID_ARGUMENT',
    );
  });
});

describe('galois steps and levels per op', () => {
  it('sums and dot products rotate only over their length', () => {
    const sum = (length: number, slots: number) =>
      programCost(
        validateProgram({ inputs: { x: 'vector' }, steps: [{ out: 's', op: 'sum', args: ['x'] }], outputs: ['s'] }),
        { x: length },
        slots,
      ).galoisSteps;
    expect(sum(1, 4096)).toEqual([]);
    expect(sum(2, 4096)).toEqual([1]);
    expect(sum(100, 4096)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(sum(128, 4096)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(sum(9000, 4096)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
  });

  it('counts levels of products, squares, additions and rescales', () => {
    const cost = programCost(validateProgram(mixed), { x: 100, y: 100, m: [8, 100] }, 4096);
    const depth = Object.fromEntries(cost.steps.map((s) => [s.out, s.depth]));
    expect(depth).toEqual({ xy: 1, xw: 1, s: 1, total: 1, d: 1, r: 0, n: 0, q: 1, p: 2, mv: 1 });
    expect(cost.levels).toBe(2);
    expect(cost.steps.find((s) => s.out === 'r')?.galoisSteps).toEqual([3]);
    // An unclean vector (a rotation of part of the slots) is masked before a sum: one more level.
    const masked = programCost(
      validateProgram({
        inputs: { x: 'vector' },
        steps: [
          { out: 'r', op: 'rotate', args: ['x'], steps: -1 },
          { out: 's', op: 'sum', args: ['r'] },
        ],
        outputs: ['s'],
      }),
      { x: 10 },
      4096,
    );
    expect(masked.steps.map((s) => [s.depth, ...s.galoisSteps])).toEqual([
      [0, 4095],
      [1, 1, 2, 4, 8],
    ]);
  });
});

describe('plans against what runs', () => {
  it('levels, steps, rotations and keys of a planned context are those the program uses', async () => {
    const sizes = { x: 100, y: 100, m: [8, 100] as const };
    using ctx = await createContext({ program: mixed, inputs: sizes, scaleBits: 30, integerBits: 18 });
    const plan = ctx.plan!;
    expect(plan.polyModulusDegree).toBe(8192);
    ctx.keygen();
    expect([...ctx.session.keys.galoisKeys!.galoisElts].sort((a, b) => a - b)).toEqual(
      plan.galoisSteps.map((s) => ctx.session.ctx.galoisElt(s)).sort((a, b) => a - b),
    );
    expect(ctx.requiredGaloisSteps(mixed, sizes)).toEqual(plan.galoisSteps);
    const counter = new CountingKeySwitcher(ctx.session.evaluator);
    ctx.session.useKeySwitcher(counter);
    const x = randomVector(100, 1);
    const y = randomVector(100, 2);
    const w = randomVector(100, 3);
    const m = Array.from({ length: 8 }, (_, i) => randomVector(100, 10 + i));
    const fresh = ctx.encrypt(x);
    const top = fresh.chainIndex;
    const out = await ctx.run(mixed, { x: fresh, y: ctx.encrypt(y), w, m });
    for (const step of plan.steps) {
      if (!(step.out in out)) continue;
      expect(top - out[step.out].chainIndex, `levels consumed by ${step.out}`).toBe(step.depth);
    }
    expect([...counter.steps].sort((a, b) => a - b)).toEqual(plan.galoisSteps);
    expect(counter.rotations).toBe(plan.rotations);
    // The results are right, too.
    const dot = x.reduce((s, v, i) => s + v * w[i], 0);
    expect(out.d.decrypt(RAW)[0]).toBeCloseTo(dot, 2);
    expect(
      maxAbsError(
        out.mv.decrypt(RAW),
        m.map((row) => row.reduce((s, v, i) => s + v * x[i], 0)),
      ),
    ).toBeLessThan(1e-2);
    for (const v of Object.values(out)) (v as CKKSVector).dispose();
    fresh.dispose();
  });

  it('a two-layer network: BSGS matvecs and an activation, with exact keys and with composed power-of-two keys', async () => {
    const mlp: Program = {
      inputs: { x: 'vector', w1: 'matrix', w2: 'matrix' },
      steps: [
        { out: 'h', op: 'matvec', args: ['x'], matrix: 'w1' },
        { out: 'a', op: 'activation', args: ['h'], fn: 'tanh', degree: 3 },
        { out: 'y', op: 'matvec', args: ['a'], matrix: 'w2' },
      ],
      outputs: ['y'],
    };
    const sizes = { x: 64, w1: [24, 64] as const, w2: [10, 24] as const };
    const x = randomVector(64, 7);
    const w1 = Array.from({ length: 24 }, (_, i) => randomVector(64, 100 + i, 0.1));
    const w2 = Array.from({ length: 10 }, (_, i) => randomVector(24, 200 + i, 0.5));
    const { coeffs, interval } = activationPolynomial('tanh', { degree: 3 });
    const h = w1.map((row) => row.reduce((sum, v, i) => sum + v * x[i], 0));
    const a = h.map((v) => chebyshevAt(coeffs, interval, v));
    const expected = w2.map((row) => row.reduce((sum, v, i) => sum + v * a[i], 0));
    const options = { program: mlp, inputs: sizes, scaleBits: 30, integerBits: 10 };
    const exactBytes = planProgram(validateProgram(mlp), options, maxBits).keyBytes.seededZstd;
    for (const maxKeyBytes of [undefined, exactBytes - 1]) {
      using ctx = await createContext({ ...options, maxKeyBytes });
      const plan = ctx.plan;
      expect(plan.keyBasis).toBe(maxKeyBytes === undefined ? 'exact' : 'power-of-two');
      expect([plan.levels, plan.polyModulusDegree]).toEqual([4, 8192]);
      expect(plan.steps.map((s) => s.levels)).toEqual([1, 2, 1]);
      ctx.keygen();
      const counter = new CountingKeySwitcher(ctx.session.evaluator);
      ctx.session.useKeySwitcher(counter);
      const input = ctx.encrypt(x);
      const out = await ctx.run(mlp, { x: input, w1, w2 });
      expect(input.chainIndex - out.y.chainIndex).toBe(plan.levels);
      expect([...counter.steps].sort((p, q) => p - q)).toEqual(plan.galoisSteps);
      expect(counter.rotations).toBe(plan.rotations);
      expect(maxAbsError(out.y.decrypt(RAW), expected)).toBeLessThan(1e-2);
      out.y.dispose();
      input.dispose();
    }
  });

  it('key-set bytes: full and seeded exact, seeded+zstd within 3% of what exportKeySet() produces', async () => {
    const cases: [number, readonly number[], number[]][] = [
      [4096, [40, 29, 40], [1, 2, 4]],
      [8192, [60, 40, 40, 60], [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]],
      [8192, [48, 30, 30, 30, 48], [7]],
      [16384, [60, 40, 40, 40, 60], [1]],
    ];
    for (const [n, bits, steps] of cases) {
      using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: n, coeffModulusBits: bits });
      ctx.keygen({ galois: steps });
      const estimate = keySetBytes({
        polyModulusDegree: n,
        coeffModulusBits: bits,
        galoisKeys: steps.length,
        relinKeys: true,
      });
      expect(estimate.full).toBe(totalBytes(ctx.exportKeySet({ form: 'full', compression: 'none' })));
      expect(estimate.seeded).toBe(totalBytes(ctx.exportKeySet({ compression: 'none' })));
      const real = totalBytes(ctx.exportKeySet());
      expect(Math.abs(estimate.seededZstd / real - 1), `N=${n} [${bits}]`).toBeLessThan(0.03);
    }
  });

  it('a planned context reports its plan in E_LEVEL_EXHAUSTED when run with too few levels', async () => {
    using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    ctx.keygen();
    const x = ctx.encrypt([0.5, 0.25]);
    let error: unknown;
    try {
      await ctx.run(chainOf(3), { x });
    } catch (e) {
      error = e;
    }
    expect((error as HeftyError).code).toBe('E_LEVEL_EXHAUSTED');
    expect((error as HeftyError).message).toMatch(
      /step "p3" \(square\): .*needs 1 level.*has 0 left.*program needs 3 levels; this context's chain has 2/,
    );
    x.dispose();
  });
});

describe('key budget and the service upload limit', () => {
  it('the largest key set the planner plans by default fits the service upload limit', () => {
    // Many distinct rotations at the deepest N=16384 chain: exact keys would be far over the budget, so the
    // planner falls back to power-of-two keys, which compose every step. Any plan stays within the budget.
    const rotations: Program = {
      inputs: { x: 'vector' },
      steps: [
        ...Array.from({ length: 100 }, (_, i) => ({
          out: `r${i}`,
          op: 'rotate' as const,
          args: ['x'] as const,
          steps: 37 * i + 1,
        })),
        ...chainOf(7).steps,
      ],
      outputs: ['r99', 'p7'],
    };
    const plan = planProgram(validateProgram(rotations), { inputs: { x: 8192 } }, maxBits);
    expect(plan.polyModulusDegree).toBe(16384);
    const exact = programCost(validateProgram(rotations), { x: 8192 }, plan.slotCount);
    expect(exact.galoisSteps).toHaveLength(100);
    const exactBytes = keySetBytes({
      polyModulusDegree: 16384,
      coeffModulusBits: plan.coeffModulusBits,
      galoisKeys: 100,
      relinKeys: true,
    });
    expect(exactBytes.seededZstd).toBeGreaterThan(KEY_BUDGET_BYTES);
    // ±powers of two compose the 100 steps (NAF), at more rotations than one key each would take.
    expect(plan.keyBasis).toBe('power-of-two');
    const isPowerOfTwo = (v: number) => (v & (v - 1)) === 0;
    expect(plan.galoisSteps.every((s) => isPowerOfTwo(s) || isPowerOfTwo(plan.slotCount - s))).toBe(true);
    expect(plan.galoisSteps.length).toBeLessThanOrEqual(2 * Math.log2(plan.slotCount) - 1);
    expect(plan.rotations).toBeGreaterThan(exact.rotations);
    expect(plan.keyBytes.seededZstd).toBeLessThanOrEqual(KEY_BUDGET_BYTES);
    // Every key set within the budget (estimates are within 3%) plus the envelope fits the default upload limit.
    expect(DEFAULT_OPTIONS.maxKeySetBytes).toBeGreaterThanOrEqual(KEY_BUDGET_BYTES * 1.03 + 1024);
    // A budget the fallback cannot meet is an error that says so.
    expectHeftyError(
      () => planProgram(validateProgram(rotations), { inputs: { x: 8192 }, maxKeyBytes: 10e6 }, maxBits),
      'E_INVALID_PARAMS',
    );
  });
});
