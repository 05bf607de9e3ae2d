/**
 * BSGS matrix × vector (src/api/he/linear-transform.ts) on every backend: results against float64 and against
 * the per-row path built from vector ops, every shape (square, wide, tall, several input chunks, more rows than
 * slots), chained layers on the periodic layout, and the planner's numbers (steps, rotations, requests, levels)
 * against the key-switch requests the evaluation actually makes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createContext,
  loadSecretContext,
  type CKKSVector,
  type HeftyContext,
  type KeySwitcher,
  type KeySwitchRequest,
} from '../../../src/index.ts';
import { serveOnCpu } from '../../../src/api/key-switching.ts';
import { linearTransformSteps, planLinearTransform } from '../../../src/api/he/linear-transform.ts';
import { hasRotationKey } from '../../../src/api/ckks-ops.ts';
import { backendsUnderTest, expectHeftyError, maxAbsError, randomVector } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const backends = await backendsUnderTest();
const SLOTS = 2048; // N = 4096

function matrixOf(rows: number, cols: number, seed: number): number[][] {
  return Array.from({ length: rows }, (_, i) => randomVector(cols, seed + i));
}

function product(matrix: number[][], x: readonly number[]): number[] {
  return matrix.map((row) => row.reduce((acc, m, j) => acc + m * x[j], 0));
}

/** Serves requests on the CPU like the default switcher, and records each one. */
class CountingKeySwitcher implements KeySwitcher {
  readonly device = null;
  readonly stats = { requests: 0, ciphertexts: 0, gpuRequests: 0, gpuCiphertexts: 0, largestRequest: 0 };
  readonly requests: { op: KeySwitchRequest['op']; size: number; steps: number[] }[] = [];
  readonly #ctx: HeftyContext;
  constructor(ctx: HeftyContext) {
    this.#ctx = ctx;
  }
  serve(request: KeySwitchRequest) {
    const steps = request.op === 'relinearize' ? [] : request.op === 'rotate' ? [request.steps] : [...request.steps];
    this.requests.push({ op: request.op, size: request.list.length, steps });
    return serveOnCpu(this.#ctx.session.evaluator, request, this.#ctx.session);
  }
  get rotations() {
    const hoisted = this.requests.filter((r) => r.op === 'rotate-hoisted');
    const plain = this.requests.filter((r) => r.op === 'rotate');
    return {
      hoisted: hoisted.reduce((n, r) => n + r.size * r.steps.length, 0),
      plain: plain.reduce((n, r) => n + r.size, 0),
      steps: [...new Set(this.requests.flatMap((r) => r.steps))].sort((a, b) => a - b),
    };
  }
  dispose() {}
}

describe.each(backends)('linear transforms on %s (N=4096, 4 levels)', (backend) => {
  let ctx: HeftyContext;

  beforeAll(async () => {
    ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulusBits: [60, 40, 40, 40, 40, 60],
      scale: 2 ** 40,
      security: 'none',
      allowInsecure: true,
      backend,
    });
    ctx.keygen({ galois: 'power-of-two' });
  });
  afterAll(() => ctx.dispose());

  /** The per-row path from vector ops: one dot product per row. */
  const perRow = (v: CKKSVector, matrix: number[][]) =>
    matrix.map((row) => {
      using d = v.dot(row);
      return d.decrypt(RAW)[0];
    });

  it.each([
    ['square', 16, 16],
    ['wide', 8, 100],
    ['tall', 100, 8],
    ['one row', 1, 37],
    ['one column', 37, 1],
    ['several input chunks', 3, 2 * SLOTS + 500],
    ['more rows than slots', SLOTS + 300, 5],
  ])('%s (%i×%i): float64 and per-row agree, 1 level, periodic output', (_name, rows, cols) => {
    const x = randomVector(cols, 7);
    const matrix = matrixOf(rows, cols, 1000);
    using v = ctx.encrypt(x);
    using y = v.matvec(matrix);
    const got = y.decrypt(RAW);
    const want = product(matrix, x);
    const bound = 1e-6 * Math.sqrt(cols) + 1e-6;
    expect(maxAbsError(got, want)).toBeLessThan(bound);
    expect(v.chainIndex - y.chainIndex).toBe(1);
    expect(y.length).toBe(rows);
    expect(y.period).toBe(rows > SLOTS ? SLOTS : 2 ** Math.ceil(Math.log2(rows)));
    expect(y.clean).toBe(true);
    if (rows <= 16) expect(maxAbsError(got, perRow(v, matrix))).toBeLessThan(bound);
  });

  it('chains matvec → polyval → matvec on the periodic layout, with no masking', () => {
    const x = randomVector(20, 3);
    const first = matrixOf(6, 20, 50);
    const second = matrixOf(4, 6, 80);
    const coeffs = [0.1, 0.5, 0, -0.05];
    using v = ctx.encrypt(x);
    using h = v.matvec(first);
    expect(h.period).toBe(8);
    using a = h.polyval(coeffs);
    expect(a.period).toBe(8);
    using out = a.matvec(second);
    const hidden = product(first, x).map((t) => coeffs.reduce((acc, c, k) => acc + c * t ** k, 0));
    const want = product(second, hidden);
    expect(maxAbsError(out.decrypt(RAW), want)).toBeLessThan(1e-4);
    expect(out.period).toBe(4);
    // matvec 1 + polyval (degree 3) 2 + matvec 1
    expect(v.chainIndex - out.chainIndex).toBe(h.chainIndex - a.chainIndex + 2);
    // the second layer consumed period 8 directly: no replication rotations
    expect(planLinearTransform(4, 6, SLOTS, { inputPeriod: 8, inputClean: true }).replicate).toHaveLength(0);
  });

  it('element-wise ops, sum, dot and serialization keep the periodic layout right', () => {
    const x = randomVector(12, 4);
    const matrix = matrixOf(5, 12, 90);
    const w = randomVector(5, 91);
    using v = ctx.encrypt(x);
    using y = v.matvec(matrix);
    const yy = product(matrix, x);
    expect(y.period).toBe(8);
    const check = (vec: CKKSVector, want: number[]) => expect(maxAbsError(vec.decrypt(RAW), want)).toBeLessThan(1e-5);
    check(
      y.add(w),
      yy.map((t, i) => t + w[i]),
    );
    check(
      y.sub(2),
      yy.map((t) => t - 2),
    );
    check(
      y.mul(w),
      yy.map((t, i) => t * w[i]),
    );
    check(
      y.add(y),
      yy.map((t) => 2 * t),
    );
    // plain operands go into every period, and scalars only onto the vector's slots (it stays clean)
    using shifted = y.add(1);
    expect(shifted.clean).toBe(true);
    check(shifted.sum(), [yy.reduce((acc, t) => acc + t + 1, 0)]);
    check(y.dot(w), [yy.reduce((acc, t, i) => acc + t * w[i], 0)]);
    // a fresh vector (period = slots) with a periodic one: right values, the larger period, not clean
    using fresh = ctx.encrypt(w);
    using mixed = y.add(fresh);
    expect(mixed.period).toBe(SLOTS);
    expect(mixed.clean).toBe(false);
    check(
      mixed,
      yy.map((t, i) => t + w[i]),
    );
    check(mixed.sum(), [yy.reduce((acc, t, i) => acc + t + w[i], 0)]);
    // the envelope carries the period (byte 6; 0, as in envelopes from before it, means the slot count)
    const bytes = y.serialize();
    using back = ctx.loadVector(bytes) as CKKSVector;
    expect(back.period).toBe(8);
    check(back.add(1).sum(), [yy.reduce((acc, t) => acc + t + 1, 0)]);
    const old = Uint8Array.from(bytes);
    old[6] = 0;
    using legacy = ctx.loadVector(old) as CKKSVector;
    expect(legacy.period).toBe(SLOTS);
    check(legacy, yy);
    const tooShort = Uint8Array.from(bytes);
    tooShort[6] = 3; // period 4 < length 5
    expectHeftyError(() => ctx.loadVector(tooShort), 'E_BAD_SERIALIZATION');
  });

  it('a client can encrypt in the periodic layout, which saves the replication rotations', () => {
    const x = randomVector(20, 6);
    const matrix = matrixOf(64, 20, 600);
    using v = ctx.encrypt(x, { period: 32 });
    expect(v.period).toBe(32);
    expect(maxAbsError(v.decrypt(RAW), x)).toBeLessThan(1e-6);
    expect(maxAbsError(v.sum().decrypt(RAW), [x.reduce((a, b) => a + b, 0)])).toBeLessThan(1e-5);
    using y = v.matvec(matrix);
    expect(maxAbsError(y.decrypt(RAW), product(matrix, x))).toBeLessThan(1e-5);
    const fresh = linearTransformSteps(64, 20, SLOTS);
    const periodic = linearTransformSteps(64, 20, SLOTS, { inputPeriod: 32 });
    expect(fresh.rotations.plain - periodic.rotations.plain).toBe(Math.log2(SLOTS / 32));
    expectHeftyError(() => ctx.encrypt(x, { period: 16 }), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => ctx.encrypt(x, { period: 48 }), 'E_INVALID_ARGUMENT');
  });

  it('runs a two-layer program (matvec → polyval → matvec) with matrix inputs', async () => {
    const x = randomVector(30, 8);
    const w1 = matrixOf(12, 30, 700);
    const w2 = matrixOf(3, 12, 800);
    const coeffs = [0, 1, 0.1];
    using v = ctx.encrypt(x);
    const out = await ctx.run(
      {
        inputs: { x: 'vector', w1: 'matrix', w2: 'matrix' },
        steps: [
          { out: 'h', op: 'matvec', args: ['x'], matrix: 'w1' },
          { out: 'a', op: 'polyval', args: ['h'], coeffs },
          { out: 'y', op: 'matvec', args: ['a'], matrix: 'w2' },
        ],
        outputs: ['y'],
      },
      { x: v, w1, w2 },
    );
    using y = out.y;
    const hidden = product(w1, x).map((t) => t + 0.1 * t * t);
    expect(maxAbsError(y.decrypt(RAW), product(w2, hidden))).toBeLessThan(1e-4);
    expect(y.period).toBe(4);
  });

  it('atLevel drops a vector to the levels a computation needs, and the product still holds', () => {
    const x = randomVector(40, 12);
    const matrix = matrixOf(8, 40, 900);
    using v = ctx.encrypt(x);
    using low = v.atLevel(1);
    expect(low.chainIndex).toBe(1);
    expect(maxAbsError(low.decrypt(RAW), x)).toBeLessThan(1e-6);
    using y = low.matvec(matrix);
    expect(y.chainIndex).toBe(0);
    expect(maxAbsError(y.decrypt(RAW), product(matrix, x))).toBeLessThan(1e-5);
    expectHeftyError(() => low.atLevel(2), 'E_INVALID_ARGUMENT');
  });

  it('an unclean input is used at its own period (no replication, no extra level)', () => {
    const x = randomVector(10, 5);
    const matrix = matrixOf(40, 10, 300);
    using v = ctx.encrypt(x);
    using moved = v.rotate(SLOTS / 2);
    using dirty = v.add(moved); // x, plus a copy of x outside the vector
    expect(dirty.clean).toBe(false);
    using y = dirty.matvec(matrix);
    expect(maxAbsError(y.decrypt(RAW), product(matrix, x))).toBeLessThan(1e-5);
    expect(dirty.chainIndex - y.chainIndex).toBe(1);
  });

  it('rejects bad shapes and exhausted levels with typed errors', () => {
    using v = ctx.encrypt([1, 2, 3]);
    expectHeftyError(() => v.matvec([[1, 2]]), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => v.matvec([]), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => v.matvec([[1, Number.NaN, 3]]), 'E_NOT_FINITE');
    let low = v.matvec([[1, 0, 0]]);
    while (low.chainIndex > 0) {
      const next = low.matvec([[1]]);
      low.dispose();
      low = next;
    }
    expectHeftyError(() => low.matvec([[1]]), 'E_LEVEL_EXHAUSTED');
    low.dispose();
  });
});

describe('linearTransformSteps is what runs', () => {
  const shapes: [number, number][] = [
    [16, 16],
    [8, 300],
    [300, 8],
    [4, 2 * SLOTS + 100],
    [SLOTS + 10, 3],
  ];

  it.each(shapes)('%i×%i with exactly the planned keys: steps, rotations, requests and levels', async (rows, cols) => {
    const planned = linearTransformSteps(rows, cols, SLOTS);
    const ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulusBits: [50, 40, 50],
      scale: 2 ** 40,
      security: 'none',
      allowInsecure: true,
      backend: 'native',
    });
    try {
      ctx.keygen({ galois: planned.galoisSteps, relin: false });
      const counter = new CountingKeySwitcher(ctx);
      ctx.session.useKeySwitcher(counter);
      const x = randomVector(cols, 9);
      const matrix = matrixOf(rows, cols, 400);
      using v = ctx.encrypt(x);
      using y = await v.matvecAsync(matrix);
      expect(maxAbsError(y.decrypt(RAW), product(matrix, x))).toBeLessThan(1e-6 * Math.sqrt(cols) + 1e-6);
      const seen = counter.rotations;
      expect(seen.steps).toEqual(planned.galoisSteps);
      expect({ hoisted: seen.hoisted, plain: seen.plain }).toEqual({
        hoisted: planned.rotations.hoisted,
        plain: planned.rotations.plain,
      });
      expect(counter.requests.length).toBe(planned.keySwitchRequests);
      expect(counter.requests.filter((r) => r.op === 'rotate-hoisted')).toHaveLength(
        planned.rotations.hoisted > 0 ? 1 : 0,
      );
      expect(v.chainIndex - y.chainIndex).toBe(planned.levels);
      expect(y.period).toBe(planned.outputChunks > 1 ? SLOTS : planned.outputPeriod);
      // with only the planned keys the evaluation plans the same
      expect(planLinearTransform(rows, cols, SLOTS, { hasKey: hasRotationKey(ctx.session) }).cost).toBe(planned.cost);
    } finally {
      ctx.dispose();
    }
  });

  it('weighs hoisted baby steps as cheaper and composes steps without keys', () => {
    const all = linearTransformSteps(64, 4096, 4096);
    expect(all.levels).toBe(1);
    expect(all.diagonals).toBe(64);
    // 64 diagonals, fold 4096/64: log2(64) = 6 rotations; n1·n2 = 64 with hoisted babies
    expect(all.rotations.total).toBeLessThanOrEqual(6 + 15 + 3);
    const withDefaultKeys = new Set<number>();
    for (let p = 1; p < 4096; p *= 2) withDefaultKeys.add(p).add(4096 - p);
    const limited = linearTransformSteps(64, 4096, 4096, { hasKey: (s) => withDefaultKeys.has(s) });
    for (const s of limited.galoisSteps) expect(withDefaultKeys.has(s)).toBe(true);
    expect(limited.cost).toBeGreaterThanOrEqual(all.cost);
    expect(() => linearTransformSteps(64, 4096, 4096, { hasKey: () => false })).toThrow(/galois keys/);
    // an input already laid out with the matrix's period, and one diagonal: no rotation, no key needed
    expect(linearTransformSteps(1, 1, 4096, { inputPeriod: 1, hasKey: () => false }).rotations.total).toBe(0);
  });
});

describe('interop', () => {
  it('a native BSGS result decrypts in node-seal', async () => {
    if (!backends.includes('native') || !backends.includes('wasm')) return;
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native' });
    try {
      ctx.keygen({ galois: linearTransformSteps(10, 300, 4096).galoisSteps });
      const x = randomVector(300, 1);
      const matrix = matrixOf(10, 300, 2);
      using y = ctx.encrypt(x).matvec(matrix);
      const seal = await loadSecretContext(ctx.exportKeySet(), ctx.exportSecretKey(), { backend: 'wasm' });
      try {
        using fromEnvelope = seal.loadVector(y.serialize()) as CKKSVector;
        using bare = seal.loadVector(y.serialize('seal')) as CKKSVector;
        const want = product(matrix, x);
        expect(fromEnvelope.period).toBe(16);
        expect(maxAbsError(fromEnvelope.decrypt(RAW), want)).toBeLessThan(1e-4);
        expect(maxAbsError(bare.decrypt(RAW).subarray(0, 10), want)).toBeLessThan(1e-4);
      } finally {
        seal.dispose();
      }
    } finally {
      ctx.dispose();
    }
  });
});
