/**
 * Chebyshev interpolation (src/api/he/chebyshev.ts): interpolants converge to their functions, the ready
 * approximations' errors (measured here on a dense grid) are the ones the module and the README state, and the
 * encrypted activations (vector method and program op) decrypt within those errors plus CKKS noise.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activationCost,
  activationPolynomial,
  approximate,
  chebyshevAt,
  createContext,
  polynomialLevels,
  ACTIVATIONS,
  type ActivationName,
  type HeftyContext,
} from '../../../src/index.ts';
import { backendsUnderTest, expectHeftyError, maxAbsError } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const backends = await backendsUnderTest();

function gridError(fn: (x: number) => number, coeffs: Float64Array, [a, b]: readonly [number, number]): number {
  let worst = 0;
  for (let i = 0; i <= 100_000; i++) {
    const x = a + ((b - a) * i) / 100_000;
    worst = Math.max(worst, Math.abs(chebyshevAt(coeffs, [a, b], x) - fn(x)));
  }
  return worst;
}

/** Rows of the ready-approximation table in the module's header comment. */
function documentedRows(): Map<string, { interval: [number, number]; degree: number; levels: number; error: number }> {
  const source = readFileSync(new URL('../../../src/api/he/chebyshev.ts', import.meta.url), 'utf8');
  const rows = new Map();
  for (const m of source.matchAll(
    /^ \* \| (\w+)\s+\|[^|]+\| \[([-\d.]+), ([-\d.]+)\]\s+\| (\d+)\s+\| (\d+)\s+\| ([\d.e-]+)\s+\|$/gm,
  )) {
    rows.set(m[1], {
      interval: [Number(m[2]), Number(m[3])],
      degree: Number(m[4]),
      levels: Number(m[5]),
      error: Number(m[6]),
    });
  }
  return rows;
}

describe('Chebyshev interpolation', () => {
  it('is exact on polynomials of its degree and converges on smooth functions', () => {
    // 3x³ − x + 0.5 on [-2, 3]: a degree-3 interpolant reproduces it.
    const cubic = (x: number) => 3 * x ** 3 - x + 0.5;
    expect(gridError(cubic, approximate(cubic, [-2, 3], 3), [-2, 3])).toBeLessThan(1e-12);
    const errors = [4, 8, 16, 32].map((d) => gridError(Math.sin, approximate(Math.sin, [-3, 3], d), [-3, 3]));
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1] / 10);
  });

  it('states each ready approximation with its measured max error, in the module and the README', () => {
    const rows = documentedRows();
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect([...rows.keys()].sort()).toEqual(Object.keys(ACTIVATIONS).sort());
    for (const [name, spec] of Object.entries(ACTIVATIONS)) {
      const row = rows.get(name)!;
      expect(row.interval).toEqual([...spec.interval]);
      expect(row.degree).toBe(spec.degree);
      expect(row.levels).toBe(polynomialLevels(spec.degree, 'chebyshev', spec.interval));
      const { coeffs } = activationPolynomial(name as ActivationName);
      const measured = gridError(spec.fn, coeffs, spec.interval);
      console.log(`${name} on [${spec.interval}] degree ${spec.degree}: max error ${measured.toExponential(2)}`);
      // The stated value is the measured one to two significant digits.
      expect(Number(measured.toExponential(1)), name).toBe(row.error);
      expect(readme).toContain(row.error.toExponential(1));
    }
  });

  it('rejects bad input with clear errors', () => {
    expectHeftyError(() => approximate(Math.sin, [1, 1], 3), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => approximate(Math.sin, [0, 1], 0), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => approximate((x) => Math.log(x), [-1, 1], 4), 'E_NOT_FINITE');
    expectHeftyError(() => activationPolynomial('relu' as ActivationName), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => activationPolynomial('inverse', { interval: [-1, 1] }), 'E_INVALID_ARGUMENT');
  });
});

describe.each(backends)('encrypted activations on %s (N=16384, default chain)', (backend) => {
  let ctx: HeftyContext;

  beforeAll(async () => {
    ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 16384, backend });
    ctx.keygen();
  });
  afterAll(() => ctx.dispose());

  it('sigmoid and 1/x decrypt within the stated error plus CKKS noise', async () => {
    const rows = documentedRows();
    for (const name of ['sigmoid', 'inverse'] as const) {
      const spec = ACTIVATIONS[name];
      const [a, b] = spec.interval;
      const xs = Array.from({ length: 257 }, (_, i) => a + ((b - a) * i) / 256);
      const v = ctx.encrypt(xs);
      const result = await v.activationAsync(name);
      expect(v.chainIndex - result.chainIndex).toBe(rows.get(name)!.levels);
      expect(activationCost(name).levels).toBe(rows.get(name)!.levels);
      const error = maxAbsError(result.decrypt(RAW), xs.map(spec.fn));
      console.log(`[${backend}] encrypted ${name}: max error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(rows.get(name)!.error + 1e-5);
    }
  });

  it('runs the activation and Chebyshev polyval program ops', async () => {
    const xs = Array.from({ length: 64 }, (_, i) => -4 + i / 8);
    const coeffs = approximate(Math.tanh, [-4, 4], 7);
    const out = await ctx.run(
      {
        inputs: { x: 'vector' },
        steps: [
          { out: 'g', op: 'activation', args: ['x'], fn: 'gelu', degree: 15 },
          { out: 't', op: 'polyval', args: ['x'], coeffs: [...coeffs], basis: 'chebyshev', interval: [-4, 4] },
        ],
        outputs: ['g', 't'],
      },
      { x: ctx.encrypt(xs) },
    );
    const gelu = ACTIVATIONS.gelu;
    const geluCoeffs = approximate(gelu.fn, gelu.interval, 15);
    expect(
      maxAbsError(
        out.g.decrypt(RAW),
        xs.map((x) => chebyshevAt(geluCoeffs, gelu.interval, x)),
      ),
    ).toBeLessThan(1e-5);
    expect(
      maxAbsError(
        out.t.decrypt(RAW),
        xs.map((x) => chebyshevAt(coeffs, [-4, 4], x)),
      ),
    ).toBeLessThan(1e-5);
  });
});
