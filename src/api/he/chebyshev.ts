/**
 * Chebyshev interpolation: a function on [a, b] sampled at the degree + 1 Chebyshev nodes gives the coefficients
 * of its interpolant in the Chebyshev basis T0..Td of y = (2x − a − b)/(b − a), close to the best uniform
 * approximation of that degree (within a factor of about 2 + (2/π)·ln(d + 1)). The coefficients are what
 * `v.polyval(coeffs, { basis: 'chebyshev', interval: [a, b] })` evaluates.
 *
 * Ready approximations (maximum absolute error measured on 100,001 evenly spaced points of the interval, in
 * float64, by test/api/he/chebyshev.test.ts; the encrypted result adds CKKS noise, ~1e-6 at scale 2^40):
 *
 * | name    | function       | interval  | degree | levels | max error |
 * | ------- | -------------- | --------- | ------ | ------ | --------- |
 * | sigmoid | 1 / (1 + e^-x) | [-8, 8]   | 31     | 6      | 3.0e-6    |
 * | tanh    | tanh x         | [-4, 4]   | 31     | 6      | 6.0e-6    |
 * | gelu    | x·Φ(x)         | [-6, 6]   | 31     | 6      | 7.3e-7    |
 * | exp     | e^x            | [-4, 4]   | 15     | 5      | 1.0e-8    |
 * | inverse | 1 / x          | [0.25, 4] | 31     | 6      | 6.4e-7    |
 *
 * (Levels: ceil(log2(degree + 1)), plus one because these intervals are wide enough that mapping them to
 * [-1, 1] pays a level; see polynomial.ts.) Other intervals and degrees: `v.activation(name, { interval, degree })`.
 */
import { HeftyError } from '../../errors.ts';
import { polynomialCostOf, type Interval, type PolynomialCost } from './polynomial.ts';

/** Coefficients c0..cd of the degree-d Chebyshev interpolant of `fn` on [a, b]. */
export function approximate(fn: (x: number) => number, interval: Interval, degree: number): Float64Array {
  const [a, b] = interval;
  if (!(Number.isFinite(a) && Number.isFinite(b) && a < b))
    throw new HeftyError('E_INVALID_ARGUMENT', 'interval must be [a, b] with finite a < b');
  if (!Number.isSafeInteger(degree) || degree < 1 || degree > MAX_APPROXIMATION_DEGREE)
    throw new HeftyError('E_INVALID_ARGUMENT', `degree must be an integer from 1 to ${MAX_APPROXIMATION_DEGREE}`);
  const n = degree + 1;
  const values = new Float64Array(n);
  const angles = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    angles[j] = (Math.PI * (j + 0.5)) / n;
    const y = Math.cos(angles[j]);
    values[j] = fn(((b - a) / 2) * y + (a + b) / 2);
    if (!Number.isFinite(values[j]))
      throw new HeftyError(
        'E_NOT_FINITE',
        `the function is not finite at the node x = ${((b - a) / 2) * y + (a + b) / 2}`,
      );
  }
  // ck = (2/n) Σj f(xj)·cos(k·θj), c0 halved: the discrete cosine transform of the samples.
  const coeffs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += values[j] * Math.cos(k * angles[j]);
    coeffs[k] = ((k === 0 ? 1 : 2) / n) * sum;
  }
  return coeffs;
}

/** The largest degree `approximate` accepts (the evaluator's own limit is the chain's levels). */
export const MAX_APPROXIMATION_DEGREE = 8191;

/** Σ ck·Tk(y) at y ∈ [-1, 1] (Clenshaw), in float64: the reference the encrypted evaluation is checked against. */
export function chebyshevValue(coeffs: ArrayLike<number>, y: number): number {
  let next = 0;
  let current = 0;
  for (let k = coeffs.length - 1; k >= 1; k--) {
    const previous = current;
    current = 2 * y * current - next + coeffs[k];
    next = previous;
  }
  return y * current - next + (coeffs[0] ?? 0);
}

/** The interpolant's value at x ∈ [a, b]. */
export function chebyshevAt(coeffs: ArrayLike<number>, interval: Interval, x: number): number {
  const [a, b] = interval;
  return chebyshevValue(coeffs, (2 * x - a - b) / (b - a));
}

export type ActivationName = 'sigmoid' | 'tanh' | 'gelu' | 'exp' | 'inverse';

export interface ActivationOptions {
  readonly interval?: Interval;
  readonly degree?: number;
}

/** Standard normal CDF, via erf (Abramowitz–Stegun 7.1.26 is too coarse here, so a series/continued fraction). */
function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

/** erf to ~1e-15: Taylor series for |x| < 3, else the asymptotic complement (erfc is below 2e-5 there). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^{-x²}/(x√π) · continued fraction 1/(1+ 1/(2x²)/(1+ 2/(2x²)/(1+ …))), evaluated bottom-up.
  const t = 1 / (2 * ax * ax);
  let fraction = 1;
  for (let k = 60; k >= 1; k--) fraction = 1 + (k * t) / fraction;
  const erfc = Math.exp(-ax * ax) / (ax * Math.sqrt(Math.PI) * fraction);
  return Math.sign(x) * (1 - erfc);
}

interface ActivationSpec {
  readonly fn: (x: number) => number;
  readonly interval: Interval;
  readonly degree: number;
}

/** The ready approximations: functions, intervals and degrees of the table above. */
export const ACTIVATIONS: Readonly<Record<ActivationName, ActivationSpec>> = {
  sigmoid: { fn: (x) => 1 / (1 + Math.exp(-x)), interval: [-8, 8], degree: 31 },
  tanh: { fn: Math.tanh, interval: [-4, 4], degree: 31 },
  gelu: { fn: (x) => x * normalCdf(x), interval: [-6, 6], degree: 31 },
  exp: { fn: Math.exp, interval: [-4, 4], degree: 15 },
  inverse: { fn: (x) => 1 / x, interval: [0.25, 4], degree: 31 },
};

const cache = new Map<string, Float64Array>();

/** Chebyshev coefficients and interval of an activation (cached per interval and degree). */
export function activationPolynomial(
  name: ActivationName,
  options: ActivationOptions = {},
): { coeffs: Float64Array; interval: Interval } {
  if (typeof name !== 'string' || !Object.hasOwn(ACTIVATIONS, name)) {
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      `unknown activation ${JSON.stringify(name)}; one of ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  if (options === null || typeof options !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'activation options must be an object');
  const spec = ACTIVATIONS[name];
  const interval = options.interval ?? spec.interval;
  const degree = options.degree ?? spec.degree;
  if (!Array.isArray(interval) || interval.length !== 2)
    throw new HeftyError('E_INVALID_ARGUMENT', 'interval must be [a, b] with finite a < b');
  if (name === 'inverse' && interval[0] <= 0 && interval[1] >= 0)
    throw new HeftyError('E_INVALID_ARGUMENT', '1/x needs an interval that excludes 0');
  const key = `${name}:${interval[0]}:${interval[1]}:${degree}`;
  let coeffs = cache.get(key);
  if (!coeffs) {
    coeffs = approximate(spec.fn, interval, degree);
    if (cache.size >= 256) cache.clear();
    cache.set(key, coeffs);
  }
  return { coeffs: coeffs.slice(), interval: [interval[0], interval[1]] };
}

/** What an activation costs (levels, ciphertext products): for the planner. */
export function activationCost(name: ActivationName, options: ActivationOptions = {}): PolynomialCost {
  const { coeffs, interval } = activationPolynomial(name, options);
  return polynomialCostOf(coeffs, { basis: 'chebyshev', interval });
}
