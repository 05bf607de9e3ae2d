/**
 * IntegerVector on BFV and BGV: every operation decrypted and compared with plain integer arithmetic mod t
 * (centered into (-t/2, t/2], the way the batch encoder decodes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, IntegerVector, linearTransformSteps, type IntegerContext } from '../../src/index.ts';
import { expectHeftyError } from '../helpers.ts';

/** Deterministic pseudo-random integers in [lo, hi]. */
function ints(count: number, seed: number, lo: number, hi: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + (state % (hi - lo + 1));
  });
}

/**
 * BFV keeps its level through products and has the default chain; BGV switches down a level after each product,
 * so it is given more, smaller primes (5 levels instead of 4: depth 3 with room to spare).
 */
const CHAINS = { bfv: undefined, bgv: [36, 36, 36, 36, 36, 38] } as const;

for (const scheme of ['bfv', 'bgv'] as const) {
  describe(`IntegerVector on ${scheme.toUpperCase()} (N=8192, t: 20-bit batching prime)`, () => {
    let ctx: IntegerContext;
    let t: bigint;
    const rowSize = 4096;
    const mod = (v: bigint): bigint => {
      let r = v % t;
      if (r < 0n) r += t;
      return r > t / 2n ? r - t : r;
    };
    const expected = (values: readonly (number | bigint)[]): BigInt64Array =>
      BigInt64Array.from(values.map((v) => mod(BigInt(v))));
    const a = ints(300, 1, -2000, 2000);
    const b = ints(300, 2, -2000, 2000);
    let va: IntegerVector;
    let vb: IntegerVector;

    beforeAll(async () => {
      ctx = await createContext({ scheme, polyModulusDegree: 8192, coeffModulusBits: CHAINS[scheme] });
      ctx.keygen({ galois: 'power-of-two' });
      t = ctx.params.plainModulus as bigint;
      va = ctx.encrypt(a);
      vb = ctx.encrypt(b);
    });
    afterAll(() => ctx?.dispose());

    it('adds, subtracts, negates, multiplies and squares exactly mod t', () => {
      expect(va.add(vb).decrypt()).toEqual(expected(a.map((v, i) => v + b[i])));
      expect(va.sub(b).decrypt()).toEqual(expected(a.map((v, i) => v - b[i])));
      expect(va.add(7n).decrypt()).toEqual(expected(a.map((v) => v + 7)));
      expect(va.negate().decrypt()).toEqual(expected(a.map((v) => -v)));
      // Products wrap mod t (|a·b| reaches 4e6 > t/2 ≈ 5e5).
      expect(va.mul(vb).decrypt()).toEqual(expected(a.map((v, i) => BigInt(v) * BigInt(b[i]))));
      expect(va.mul(b).decrypt()).toEqual(expected(a.map((v, i) => BigInt(v) * BigInt(b[i]))));
      expect(va.mul(-3).decrypt()).toEqual(expected(a.map((v) => -3 * v)));
      expect(va.square().decrypt()).toEqual(expected(a.map((v) => BigInt(v) * BigInt(v))));
      // Operands are taken mod t: t + 5 is 5.
      expect(va.mul(t + 5n).decrypt()).toEqual(expected(a.map((v) => 5 * v)));
    });

    it('rotates rows by any step, composed from power-of-two keys, and swaps rows', () => {
      const wide = ints(ctx.slotCount, 3, -100, 100);
      const v = ctx.encrypt(wide);
      const rowRotated = (steps: number): bigint[] =>
        wide.map((_, i) => {
          const row = i < rowSize ? 0 : rowSize;
          return BigInt(wide[row + ((((i - row + steps) % rowSize) + rowSize) % rowSize)]);
        });
      for (const steps of [1, 3, -5, 100, 1234, rowSize - 1, -rowSize - 7]) {
        expect(Array.from(v.rotate(steps).decrypt()), `steps ${steps}`).toEqual(rowRotated(steps));
      }
      expect(Array.from(v.rotateColumns().decrypt())).toEqual(
        wide.map((_, i) => BigInt(wide[(i + rowSize) % ctx.slotCount])),
      );
      // A fresh short vector rotates zeros in from past its length.
      expect(Array.from(va.rotate(2).decrypt())).toEqual([...a.slice(2), 0, 0].map(BigInt));
    });

    it('sums and takes dot products within a row, across both rows and across chunks', () => {
      const total = (values: number[], other?: number[]) =>
        expected([values.reduce((s, v, i) => s + BigInt(v) * BigInt(other?.[i] ?? 1), 0n)]);
      expect(va.sum().decrypt()).toEqual(total(a));
      expect(va.dot(vb).decrypt()).toEqual(total(a, b));
      expect(va.dot(b).decrypt()).toEqual(total(a, b));
      const long = ints(9000, 4, -50, 50);
      const v = ctx.encrypt(long);
      expect(v.chunkCount).toBe(2);
      expect(v.sum().decrypt()).toEqual(total(long));
      expect(v.dot(long).decrypt()).toEqual(total(long, long));
      // An unclean vector (rotated: other slots moved in) is masked before summing.
      const rotated = va.rotate(-3);
      expect(rotated.clean).toBe(false);
      expect(rotated.sum().decrypt()).toEqual(total([0, 0, 0, ...a.slice(0, a.length - 3)]));
    });

    it('multiplies by integer matrices (BSGS over one batching row), fresh and unclean inputs', () => {
      for (const [rows, cols] of [
        [5, 7],
        [33, 20],
        [64, 300],
      ] as const) {
        const matrix = Array.from({ length: rows }, (_, r) => ints(cols, 100 + r, -30, 30));
        const x = ints(cols, 7, -1000, 1000);
        const want = expected(matrix.map((row) => row.reduce((s, m, j) => s + BigInt(m) * BigInt(x[j]), 0n)));
        const vx = ctx.encrypt(x);
        const y = vx.matvec(matrix);
        expect(y.length).toBe(rows);
        expect(y.decrypt(), `${rows}×${cols}`).toEqual(want);
        // Values past the length (an unclean vector's) must not leak into the product.
        const padded = ctx.encrypt([...x, ...ints(50, 5, -9, 9)]);
        const unclean = new IntegerVector(
          ctx.session,
          padded.chunks.map((c) => c.clone()),
          cols,
          false,
        );
        expect(unclean.matvec(matrix).decrypt()).toEqual(want);
      }
      // A matrix whose rows are all zero on some diagonals, and a zero row.
      const sparse = [
        [0, 0, 5],
        [0, 0, 0],
        [1, 0, 0],
      ];
      expect(ctx.encrypt([2, 3, 4]).matvec(sparse).decrypt()).toEqual(expected([20, 0, 2]));
      expectHeftyError(() => va.matvec([[1, 2]]), 'E_LENGTH_MISMATCH');
      expectHeftyError(() => va.matvec([a.map(() => 1.5)]), 'E_INVALID_ARGUMENT');
    });

    it('runs a matrix product with exactly the keys the plan lists', async () => {
      const rows = 12;
      const cols = 40;
      const steps = linearTransformSteps(rows, cols, rowSize).galoisSteps;
      const exact = await createContext({ scheme, polyModulusDegree: 8192, coeffModulusBits: CHAINS[scheme] });
      try {
        exact.keygen({ galois: steps });
        const matrix = Array.from({ length: rows }, (_, r) => ints(cols, 200 + r, -9, 9));
        const x = ints(cols, 9, -99, 99);
        expect(exact.encrypt(x).matvec(matrix).decrypt()).toEqual(
          expected(matrix.map((row) => row.reduce((s, m, j) => s + m * x[j], 0))),
        );
        // A rotation these keys cannot make: a typed error.
        expectHeftyError(() => exact.encrypt(x).rotateColumns(), 'E_MISSING_GALOIS_KEY');
      } finally {
        exact.dispose();
      }
    });

    it('evaluates integer polynomials exactly mod t (Paterson–Stockmeyer)', () => {
      const x = ints(200, 11, -40, 40);
      const vx = ctx.encrypt(x);
      const poly = (coeffs: readonly bigint[], v: number): bigint =>
        coeffs.reduceRight((acc, c) => acc * BigInt(v) + c, 0n);
      for (const coeffs of [
        [3n, -2n],
        [0n, 0n, 1n],
        [5n, 0n, -1n, 2n],
        [1n, -7n, 0n, 3n, 0n, 0n, 11n],
        [-4n, t + 1n, 0n, 0n, 0n, 9n], // t + 1 ≡ 1
      ]) {
        expect(vx.polyval(coeffs).decrypt(), `coeffs ${coeffs.join(',')}`).toEqual(
          expected(x.map((v) => poly(coeffs, v))),
        );
      }
      const cubic = vx.polyval([1, 2, 3, 4]);
      expect(cubic.clean).toBe(true); // the constant lands on the elements only
      expect(cubic.sum().decrypt()).toEqual(expected([x.reduce((s, v) => s + poly([1n, 2n, 3n, 4n], v), 0n)]));
      expectHeftyError(() => vx.polyval([5]), 'E_INVALID_ARGUMENT');
      expectHeftyError(() => vx.polyval([1, t]), 'E_INVALID_ARGUMENT'); // t ≡ 0: constant
      expectHeftyError(() => vx.polyval([1, 0.5]), 'E_INVALID_ARGUMENT');
    });

    it('drops levels (mod switch) and aligns operands at different levels', () => {
      const low = va.modSwitchToNext();
      expect(low.chainIndex).toBe(va.chainIndex - 1);
      expect(low.decrypt()).toEqual(expected(a));
      expect(low.add(vb).decrypt()).toEqual(expected(a.map((v, i) => v + b[i])));
      expect(vb.mul(low).decrypt()).toEqual(expected(a.map((v, i) => BigInt(v) * BigInt(b[i]))));
      const last = va.atLevel(0);
      expect(last.chainIndex).toBe(0);
      expect(last.decrypt()).toEqual(expected(a));
      expectHeftyError(() => last.modSwitchToNext(), 'E_LEVEL_EXHAUSTED');
      expectHeftyError(() => low.atLevel(va.chainIndex), 'E_INVALID_ARGUMENT');
    });

    it('reports the noise budget, which products consume', () => {
      const fresh = va.noiseBudget();
      expect(fresh).toBeGreaterThan(100);
      expect(va.square().noiseBudget()).toBeLessThan(fresh - 20);
    });

    it('round-trips through bytes (hefty envelope and bare SEAL)', () => {
      expect(ctx.loadVector(va.serialize()).decrypt()).toEqual(expected(a));
      expect(ctx.loadVector(va.serialize('seal')).decrypt().subarray(0, a.length)).toEqual(expected(a));
    });
  });
}
