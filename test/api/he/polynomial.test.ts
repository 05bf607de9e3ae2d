/**
 * Polynomial evaluation (src/api/he/polynomial.ts): encrypted results against float64 references in both bases
 * for every degree 1..63, the levels each degree consumes (ceil(log2(d+1))), ciphertext products counted at the
 * key switcher (O(√d), equal to the planner's count), node-seal decrypting native results, and chaining with
 * matvec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createContext,
  loadSecretContext,
  polynomialCost,
  polynomialCostOf,
  polynomialLevels,
  type CKKSVector,
  type HeftyContext,
} from '../../../src/index.ts';
import { CpuKeySwitcher, type KeySwitchRequest } from '../../../src/api/key-switching.ts';
import { chebyshevAt } from '../../../src/api/he/chebyshev.ts';
import { backendsUnderTest, expectHeftyError, maxAbsError, randomVector } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const backends = await backendsUnderTest();

/** Coefficients that do not shrink with the degree, so every term matters: cos(1.7 i)/(1 + i/8). */
function coefficientsOf(degree: number): number[] {
  return Array.from({ length: degree + 1 }, (_, i) => Math.cos(1.7 * i) / (1 + i / 8));
}

function monomialAt(coeffs: readonly number[], x: number): number {
  let acc = 0;
  for (let i = coeffs.length - 1; i >= 0; i--) acc = acc * x + coeffs[i];
  return acc;
}

/** A key switcher that counts what it serves, by kind. */
class CountingKeySwitcher extends CpuKeySwitcher {
  relinearizations = 0;
  relinearizedCiphertexts = 0;
  override serve(request: KeySwitchRequest, keys: Parameters<CpuKeySwitcher['serve']>[1]) {
    if (request.op === 'relinearize') {
      this.relinearizations++;
      this.relinearizedCiphertexts += request.list.length;
    }
    return super.serve(request, keys);
  }
}

describe('polynomial plan (no encryption)', () => {
  it('uses ceil(log2(d+1)) levels in both bases and O(√d) products', () => {
    const degrees = [...Array.from({ length: 300 }, (_, i) => i + 1), 511, 512, 1023, 1024, 4095, 8191];
    for (const d of degrees) {
      for (const basis of ['monomial', 'chebyshev'] as const) {
        const cost = polynomialCost(d, basis);
        expect(cost.levels, `degree ${d}`).toBe(Math.ceil(Math.log2(d + 1)));
        expect(polynomialLevels(d, basis)).toBe(cost.levels);
        expect(cost.multiplications, `degree ${d} ${basis}`).toBeLessThanOrEqual(
          2.25 * Math.sqrt(d + 1) + Math.log2(d + 1),
        );
      }
    }
    expect([7, 15, 31, 63].map((d) => polynomialLevels(d))).toEqual([3, 4, 5, 6]);
    // The linear-cost algorithm needed about one product per term: 63 for degree 63.
    expect(polynomialCost(63).multiplications).toBeLessThanOrEqual(20);
  });

  it('charges a wide Chebyshev interval one level for its map, a narrow one nothing', () => {
    expect(polynomialLevels(31, 'chebyshev', [-8, 8])).toBe(6);
    expect(polynomialLevels(3, 'chebyshev', [-8, 8])).toBe(2); // 3 bits × degree 3 fits the free relabel
    expect(polynomialLevels(31, 'chebyshev', [-1.1, 1.1])).toBe(5);
  });
});

describe.each(backends)('polynomials on %s (N=4096, insecure test chain of 6 levels)', (backend) => {
  let ctx: HeftyContext;
  const x = randomVector(64, 7, 1);
  let vx: CKKSVector;

  beforeAll(async () => {
    ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulusBits: [60, 40, 40, 40, 40, 40, 40, 60],
      scale: 2 ** 40,
      security: 'none',
      allowInsecure: true,
      backend,
    });
    ctx.keygen();
    vx = ctx.encrypt(x);
  });
  afterAll(() => ctx.dispose());

  it('matches float64 in the monomial and Chebyshev bases for every degree 1..63, at ceil(log2(d+1)) levels', () => {
    let worst = 0;
    // WASM is slower: every degree natively, a spread of degrees under node-seal.
    const degrees =
      backend === 'native'
        ? Array.from({ length: 63 }, (_, i) => i + 1)
        : [1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 31, 32, 63];
    for (const d of degrees) {
      const coeffs = coefficientsOf(d);
      for (const basis of ['monomial', 'chebyshev'] as const) {
        const result = vx.polyval(coeffs, { basis });
        expect(vx.chainIndex - result.chainIndex, `degree ${d} ${basis} levels`).toBe(Math.ceil(Math.log2(d + 1)));
        expect(result.scale).toBeCloseTo(vx.scale, -2); // lands on the input's scale
        const want = x.map((v) => (basis === 'monomial' ? monomialAt(coeffs, v) : chebyshevAt(coeffs, [-1, 1], v)));
        const error = maxAbsError(result.decrypt(RAW), want);
        expect(error, `degree ${d} ${basis}`).toBeLessThan(1e-4);
        worst = Math.max(worst, error);
        result.dispose();
      }
    }
    console.log(`[${backend}] worst polyval error over degrees 1..63: ${worst.toExponential(2)}`);
  });

  it('maps a Chebyshev interval for free (narrow) or for one level (wide)', () => {
    const wide = randomVector(64, 9, 8); // values in [-8, 8]
    const vw = ctx.encrypt(wide);
    const coeffs = coefficientsOf(15);
    const mapped = vw.polyval(coeffs, { basis: 'chebyshev', interval: [-8, 8] });
    expect(vw.chainIndex - mapped.chainIndex).toBe(5);
    expect(
      maxAbsError(
        mapped.decrypt(RAW),
        wide.map((v) => chebyshevAt(coeffs, [-8, 8], v)),
      ),
    ).toBeLessThan(1e-4);
    const cubic = vw.polyval(coefficientsOf(3), { basis: 'chebyshev', interval: [-8, 8] });
    expect(vw.chainIndex - cubic.chainIndex).toBe(2);
    expect(
      maxAbsError(
        cubic.decrypt(RAW),
        wide.map((v) => chebyshevAt(coefficientsOf(3), [-8, 8], v)),
      ),
    ).toBeLessThan(1e-4);
    const shifted = x.map((v) => v + 2.5); // in [1.5, 3.5]
    const vs = ctx.encrypt(shifted);
    const narrow = vs.polyval(coefficientsOf(7), { basis: 'chebyshev', interval: [1.4, 3.6] });
    expect(vs.chainIndex - narrow.chainIndex).toBe(3);
    expect(
      maxAbsError(
        narrow.decrypt(RAW),
        shifted.map((v) => chebyshevAt(coefficientsOf(7), [1.4, 3.6], v)),
      ),
    ).toBeLessThan(1e-4);
  });

  it('keeps padding slots at zero (clean), so sum needs no mask', () => {
    const coeffs = [0.75, -0.5, 0.25, 0.125];
    const result = vx.polyval(coeffs);
    expect(result.clean).toBe(true);
    const total = x.reduce((acc, v) => acc + monomialAt(coeffs, v), 0);
    ctx.keygen({ galois: 'power-of-two' });
    const v = ctx.encrypt(x);
    const summed = v.polyval(coeffs).sum();
    expect(maxAbsError(summed.decrypt(RAW), [total])).toBeLessThan(1e-4);
  });

  it('says how many levels a polynomial needs and how many the ciphertext has', () => {
    const low = vx.polyval(coefficientsOf(31)); // 5 of 6 levels used: 1 left
    expectHeftyError(() => low.polyval(coefficientsOf(3)), 'E_LEVEL_EXHAUSTED');
    try {
      low.polyval(coefficientsOf(3));
    } catch (e) {
      expect((e as Error).message).toMatch(/needs 2 levels; the ciphertext has 1 left/);
    }
    expectHeftyError(() => vx.polyval([1, 0, 0]), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => vx.polyval([1, 2], { basis: 'legendre' as never }), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => vx.polyval([1, 2], { basis: 'monomial', interval: [0, 1] }), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => vx.polyval([1, 2], { basis: 'chebyshev', interval: [1, 0] }), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => vx.polyval([1, Number.NaN]), 'E_NOT_FINITE');
  });
});

describe.runIf(backends.includes('native'))('polynomials at N=16384 (default chain, native)', () => {
  let ctx: HeftyContext;
  let switcher: CountingKeySwitcher;
  const x = randomVector(300, 21, 1);
  let vx: CKKSVector;

  beforeAll(async () => {
    ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 16384, backend: 'native' });
    ctx.keygen({ galois: 'power-of-two' });
    switcher = new CountingKeySwitcher(ctx.session.evaluator);
    ctx.session.useKeySwitcher(switcher);
    vx = ctx.encrypt(x);
  });
  afterAll(() => ctx.dispose());

  it('fits degree 63 in the 6 levels of the default chain, with O(√d) relinearizations', async () => {
    expect(vx.chainIndex).toBe(6);
    for (const [d, basis] of [
      [7, 'monomial'],
      [15, 'chebyshev'],
      [31, 'monomial'],
      [63, 'monomial'],
      [63, 'chebyshev'],
    ] as const) {
      const coeffs = coefficientsOf(d);
      switcher.relinearizations = 0;
      const result = await vx.polyvalAsync(coeffs, { basis });
      expect(vx.chainIndex - result.chainIndex).toBe(Math.ceil(Math.log2(d + 1)));
      // Counted at the key switcher: exactly the planner's number, and far below one product per term.
      expect(switcher.relinearizations, `degree ${d}`).toBe(polynomialCostOf(coeffs, { basis }).multiplications);
      expect(switcher.relinearizations).toBeLessThanOrEqual(2.25 * Math.sqrt(d + 1) + Math.log2(d + 1));
      const want = x.map((v) => (basis === 'monomial' ? monomialAt(coeffs, v) : chebyshevAt(coeffs, [-1, 1], v)));
      expect(maxAbsError(result.decrypt(RAW), want), `degree ${d} ${basis}`).toBeLessThan(1e-5);
      result.dispose();
    }
  });

  it('evaluates all chunks of a long vector with one relinearization request per product', async () => {
    const long = randomVector(ctx.slotCount * 2 + 5, 5, 1);
    const v = ctx.encrypt(long);
    expect(v.chunkCount).toBe(3);
    const coeffs = coefficientsOf(15);
    switcher.relinearizations = 0;
    switcher.relinearizedCiphertexts = 0;
    const result = await v.polyvalAsync(coeffs);
    const products = polynomialCostOf(coeffs).multiplications;
    expect(switcher.relinearizations).toBe(products);
    expect(switcher.relinearizedCiphertexts).toBe(3 * products);
    expect(
      maxAbsError(
        result.decrypt(RAW),
        long.map((t) => monomialAt(coeffs, t)),
      ),
    ).toBeLessThan(1e-5);
  });

  it('decrypts in node-seal within the interop bound, after matvec (chained)', async () => {
    const matrix = Array.from({ length: 8 }, (_, i) => randomVector(300, 100 + i, 0.05));
    const coeffs = coefficientsOf(7);
    const y = await vx.matvecAsync(matrix);
    const z = await y.polyvalAsync(coeffs, { basis: 'chebyshev' });
    expect(y.chainIndex - z.chainIndex).toBe(3); // degree 7's 3 levels after matvec's own
    expect(z.period).toBe(y.period); // the polynomial keeps matvec's periodic layout
    const rows = matrix.map((row) => row.reduce((acc, w, j) => acc + w * x[j], 0));
    const want = rows.map((v) => chebyshevAt(coeffs, [-1, 1], v));
    const native = z.decrypt(RAW);
    // matvec's error (~1e-6) grows by the polynomial's slope (|T7'| ≤ 49) on the way through.
    expect(maxAbsError(native, want)).toBeLessThan(1e-3);
    const seal = await loadSecretContext(ctx.exportKeySet(), ctx.exportSecretKey(), { backend: 'wasm' });
    try {
      expect(seal.backend.name).toBe('wasm');
      const inSeal = (seal.loadVector(z.serialize()) as CKKSVector).decrypt(RAW);
      // node-seal reads the native result as native decryption does (the interop tests' 1e-5 bound).
      expect(maxAbsError(inSeal, native)).toBeLessThan(1e-5);
      expect(maxAbsError(inSeal, want)).toBeLessThan(1e-3);
    } finally {
      seal.dispose();
    }
  });

  it('keeps a periodic vector clean (constants only on its elements): its sum needs no mask', async () => {
    // 5 rows → period 8: slots 5..7 of every period must stay zero, or sum (which trusts clean) adds them.
    const first = Array.from({ length: 5 }, (_, i) => randomVector(300, 200 + i, 0.05));
    const coeffs = [0.5, 0.75, -0.25, 0.125];
    const hidden = await vx.matvecAsync(first);
    expect(hidden.period).toBe(8);
    const activated = await hidden.polyvalAsync(coeffs);
    expect(activated.clean).toBe(true);
    const total = await activated.sumAsync();
    const h = first.map((row) =>
      monomialAt(
        coeffs,
        row.reduce((acc, w, j) => acc + w * x[j], 0),
      ),
    );
    expect(maxAbsError(total.decrypt(RAW), [h.reduce((a, b) => a + b, 0)])).toBeLessThan(1e-4);
  });
});
