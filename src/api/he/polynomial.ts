/**
 * Polynomial evaluation on CKKS ciphertexts, in the monomial basis (c0 + c1·x + c2·x² + …) or the Chebyshev
 * basis (c0 + c1·T1(y) + c2·T2(y) + …, y = x mapped from [a, b] to [-1, 1]), by baby steps and giant steps
 * (Paterson–Stockmeyer): baby powers T1..T(k-1), giant powers Tk, T2k, T4k, …, and the polynomial divided
 * recursively by the largest giant power below its degree, p = q·T(g) + r, down to leaves Σ cj·Tj. A polynomial
 * of degree d costs exactly ceil(log2(d+1)) levels and O(√d) ciphertext products.
 *
 * Depth. Every branch that is only added (the remainders r) has a level to spare, so its leaves multiply their
 * constants and rescale. The branch that is multiplied by the giant powers (the quotients q, down to the
 * highest coefficient) has none: there a leaf is used only when its scalar products fit the depth, otherwise it
 * is split again by a smaller power of two. (Folding a leaf's constants into the single rescale of its product
 * with the giant power instead would encode them at a scale near 1, losing all precision.) The choice of k is
 * made by counting, for each k, the products the plan needs (`polynomialCost`, the planning the evaluation runs).
 *
 * Scales. Each sub-polynomial is evaluated to a target (level, scale) exactly: a leaf at level ℓ multiplies
 * Tj (dropped to ℓ+1) by its coefficient encoded at scale S·q(ℓ+1)/scale(Tj), so that one rescale lands every
 * term on S; a quotient is evaluated to S·q(ℓ+1)/scale(Tg), so that its product with Tg rescales to S. Sums
 * therefore add ciphertexts whose scales agree to rounding, and the result has the input's scale.
 *
 * Constants that are added (c0, the −1 of T2a = 2Ta² − 1, an interval's shift) come from the caller's
 * `constants` callback, so the module knows nothing of the vector's layout and clean vectors stay clean;
 * constants that multiply are scalars (a product keeps zero padding zero).
 */
import { HeftyError } from '../../errors.ts';
import type { Ciphertext } from '../../backend/types.ts';
import * as ops from '../ckks-ops.ts';
import { keySwitch, type Plan } from '../key-switching.ts';
import type { Session } from '../session.ts';

export type PolynomialBasis = 'monomial' | 'chebyshev';
export type Interval = readonly [number, number];

export interface PolynomialOptions {
  /** Default 'monomial'. */
  readonly basis?: PolynomialBasis;
  /** Chebyshev only: the interval the approximation is for (default [-1, 1]). */
  readonly interval?: Interval;
}

/**
 * Slot values for adding a constant, one entry per chunk: an array with `value` where the vector has elements
 * and zero elsewhere, or the number itself where every slot of the chunk holds an element (cheaper to encode).
 */
export type ConstantSlots = (value: number) => readonly (Float64Array | number)[];

/**
 * How far the interval map x ↦ αx + β may move the powers' scales (|log2 α| bits per degree) and stay free:
 * relabelling the scale by 1/α multiplies Tj's scale by α^-j, so a wide interval at a high degree would leave
 * the scales (and the constants' precision) tens of bits off; then the map pays one level instead.
 */
const FREE_MAP_BITS = 10;

// ---- planning (pure; the evaluation and the planner's counts use the same functions) ----

/** Bits of a positive integer: ceil(log2(d + 1)), the levels a degree-d polynomial needs. */
function bitLength(n: number): number {
  return n <= 0 ? 0 : 32 - Math.clz32(n);
}

/** Levels below x at which the power Tj is computed: ceil(log2 j). */
function powerDepth(j: number): number {
  return j <= 1 ? 0 : bitLength(j - 1);
}

/** Highest index with a nonzero coefficient (0 for constants and the zero polynomial). */
function degreeOf(coeffs: ArrayLike<number>): number {
  for (let i = coeffs.length - 1; i > 0; i--) if (coeffs[i] !== 0) return i;
  return 0;
}

/** p = q·Tg + r in the given basis, for deg p < 2g (monomial: x^g; Chebyshev: Tg(y)). */
function divide(coeffs: Float64Array, g: number, basis: PolynomialBasis): [Float64Array, Float64Array] {
  const degree = degreeOf(coeffs);
  const q = new Float64Array(degree - g + 1);
  const r = coeffs.slice(0, g);
  for (let i = g; i <= degree; i++) {
    const m = i - g;
    if (basis === 'monomial' || m === 0) {
      q[m] = coeffs[i];
    } else {
      // T(g+m) = 2·T(g)·T(m) − T(g−m)
      q[m] = 2 * coeffs[i];
      r[g - m] -= coeffs[i];
    }
  }
  return [q, r];
}

export type PlanNode =
  | { readonly kind: 'constant'; readonly c0: number }
  | { readonly kind: 'leaf'; readonly c0: number; readonly terms: readonly (readonly [number, number])[] }
  | { readonly kind: 'split'; readonly giant: number; readonly q: PlanNode; readonly r: PlanNode };

/** Splits until every leaf has degree below `babyLimit` and fits its level budget. */
function planNode(coeffs: Float64Array, budget: number, babyLimit: number, basis: PolynomialBasis): PlanNode {
  const degree = degreeOf(coeffs);
  if (degree === 0) return { kind: 'constant', c0: coeffs[0] ?? 0 };
  const terms: [number, number][] = [];
  for (let j = 1; j <= degree; j++) if (coeffs[j] !== 0) terms.push([j, coeffs[j]]);
  if (degree < babyLimit && powerDepth(degree) + 1 <= budget) return { kind: 'leaf', c0: coeffs[0], terms };
  const giant = 2 ** (bitLength(degree) - 1);
  if (Math.log2(giant) + 1 > budget) throw new HeftyError('E_INTERNAL', 'polynomial plan ran out of levels');
  const [q, r] = divide(coeffs, giant, basis);
  // A constant quotient c makes the single term c·Tg (no ciphertext product).
  return {
    kind: 'split',
    giant,
    q: planNode(q, budget - 1, babyLimit, basis),
    r: planNode(r, budget, babyLimit, basis),
  };
}

/** The powers a plan uses and, recursively, those they are computed from (Tj from T⌈j/2⌉ and T⌊j/2⌋). */
function powersOf(node: PlanNode, into = new Set<number>()): Set<number> {
  const add = (j: number) => {
    if (j < 1 || into.has(j)) return;
    into.add(j);
    add(Math.ceil(j / 2));
    add(Math.floor(j / 2));
  };
  if (node.kind === 'leaf') for (const [j] of node.terms) add(j);
  if (node.kind === 'split') {
    add(node.giant);
    powersOf(node.q, into);
    powersOf(node.r, into);
  }
  return into;
}

function splitProducts(node: PlanNode): number {
  if (node.kind !== 'split') return 0;
  return (node.q.kind === 'constant' ? 0 : 1) + splitProducts(node.q) + splitProducts(node.r);
}

export interface EvaluationPlan {
  readonly root: PlanNode;
  readonly levels: number;
  readonly products: number;
  readonly babyLimit: number;
  readonly powers: readonly number[];
}

/**
 * The cheapest plan (fewest ciphertext products) over the baby-step sizes 2, 4, …, 2^levels. In the monomial
 * basis the division only moves coefficients (q and r are slices of p), so a plan made over any values with the
 * same zero pattern carries those values to the same places: the integer evaluator plans over coefficient indices.
 */
export function bestPlan(coeffs: Float64Array, basis: PolynomialBasis): EvaluationPlan {
  const levels = bitLength(degreeOf(coeffs));
  let best: EvaluationPlan | undefined;
  for (let logBaby = 1; logBaby <= Math.max(1, levels); logBaby++) {
    const babyLimit = 2 ** logBaby;
    const root = planNode(coeffs, levels, babyLimit, basis);
    const powers = [...powersOf(root)].sort((a, b) => a - b);
    // Every power above T1 is one product; every split multiplies once more.
    const products = powers.filter((j) => j > 1).length + splitProducts(root);
    if (!best || products < best.products) best = { root, levels, products, babyLimit, powers };
  }
  return best as EvaluationPlan;
}

function mapCostsLevel(degree: number, basis: PolynomialBasis, interval: Interval | undefined): boolean {
  if (basis !== 'chebyshev' || interval === undefined) return false;
  const { alpha } = intervalMap(interval);
  return Math.abs(Math.log2(alpha)) * degree > FREE_MAP_BITS;
}

function intervalMap([a, b]: Interval): { alpha: number; beta: number } {
  return { alpha: 2 / (b - a), beta: -(a + b) / (b - a) };
}

export interface PolynomialCost {
  /** Levels the evaluation consumes: ceil(log2(degree + 1)), plus one where a wide interval's map pays one. */
  readonly levels: number;
  /** Ciphertext × ciphertext products (each one relinearization). */
  readonly multiplications: number;
  /** The powers Tj computed (baby steps below `babySteps`, powers of two above). */
  readonly powers: readonly number[];
  readonly babySteps: number;
}

/** What evaluating these coefficients costs (the same plan the evaluation runs). */
export function polynomialCostOf(coeffs: ArrayLike<number>, options: PolynomialOptions = {}): PolynomialCost {
  const basis = options.basis ?? 'monomial';
  const c = Float64Array.from(coeffs as ArrayLike<number>);
  checkDegree(degreeOf(c));
  const plan = bestPlan(c, basis);
  const extra = mapCostsLevel(degreeOf(c), basis, options.interval) ? 1 : 0;
  return {
    levels: plan.levels + extra,
    multiplications: plan.products,
    powers: plan.powers,
    babySteps: plan.babyLimit,
  };
}

/** Degrees far beyond any modulus chain (2^20: 21 levels) are refused before a plan is built for them. */
const MAX_DEGREE = 1 << 20;

function checkDegree(degree: number): void {
  if (!Number.isSafeInteger(degree) || degree < 0 || degree > MAX_DEGREE)
    throw new HeftyError('E_INVALID_ARGUMENT', `a polynomial degree is an integer from 0 to ${MAX_DEGREE}`);
}

/** Cost of a dense polynomial of this degree (no zero coefficient): what the planner budgets. */
export function polynomialCost(
  degree: number,
  basis: PolynomialBasis = 'monomial',
  interval?: Interval,
): PolynomialCost {
  checkDegree(degree);
  // Coefficients i + 1: every one nonzero, and no Chebyshev division cancels a term (differences stay linear).
  return polynomialCostOf(
    Float64Array.from({ length: degree + 1 }, (_, i) => i + 1),
    { basis, interval },
  );
}

/** Levels a degree-d polynomial consumes: ceil(log2(d + 1)) (plus one for a wide Chebyshev interval, see above). */
export function polynomialLevels(degree: number, basis: PolynomialBasis = 'monomial', interval?: Interval): number {
  checkDegree(degree);
  return bitLength(degree) + (mapCostsLevel(degree, basis, interval) ? 1 : 0);
}

/** Ciphertext products (relinearizations) a dense degree-d polynomial costs. */
export function polynomialMultiplications(degree: number, basis: PolynomialBasis = 'monomial'): number {
  return polynomialCost(degree, basis).multiplications;
}

/** Checks options; returns the basis and the interval (undefined for monomials and for [-1, 1]). */
export function checkPolynomialOptions(options: PolynomialOptions): {
  basis: PolynomialBasis;
  interval: Interval | undefined;
} {
  if (options === null || typeof options !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'polynomial options must be an object');
  const basis = options.basis ?? 'monomial';
  if (basis !== 'monomial' && basis !== 'chebyshev')
    throw new HeftyError('E_INVALID_ARGUMENT', `basis must be 'monomial' or 'chebyshev'`);
  const interval = options.interval;
  if (interval === undefined) return { basis, interval: undefined };
  if (basis !== 'chebyshev') throw new HeftyError('E_INVALID_ARGUMENT', 'an interval needs the Chebyshev basis');
  if (
    !Array.isArray(interval) ||
    interval.length !== 2 ||
    !interval.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !(interval[0] < interval[1])
  ) {
    throw new HeftyError('E_INVALID_ARGUMENT', 'interval must be [a, b] with finite a < b');
  }
  return { basis, interval: interval[0] === -1 && interval[1] === 1 ? undefined : [interval[0], interval[1]] };
}

// ---- evaluation ----

/**
 * The polynomial on every ciphertext of `xs` (the chunks of one vector, at one level and scale), as a plan:
 * each ciphertext product is one relinearization request over all chunks. Results have the input's scale, at
 * `polynomialLevels` levels below it.
 */
export function* evaluatePolynomial(
  s: Session,
  xs: readonly Ciphertext[],
  coeffs: ArrayLike<number>,
  constants: ConstantSlots,
  options: PolynomialOptions = {},
): Plan<Ciphertext[]> {
  const { basis, interval } = checkPolynomialOptions(options);
  const c = Float64Array.from(coeffs as ArrayLike<number>);
  if (c.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'a polynomial needs at least one coefficient');
  for (const v of c) if (!Number.isFinite(v)) throw new HeftyError('E_NOT_FINITE', 'coefficients must be finite');
  const degree = degreeOf(c);
  if (degree === 0) {
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      'a constant polynomial has no encrypted result; give at least one nonzero coefficient of degree ≥ 1',
    );
  }
  const needed = polynomialLevels(degree, basis, interval);
  const have = xs[0].chainIndex;
  if (needed > have) {
    throw new HeftyError(
      'E_LEVEL_EXHAUSTED',
      `a degree-${degree} polynomial (${basis} basis) needs ${needed} levels; the ciphertext has ${have} left ` +
        `(use more coefficient-modulus primes or a lower degree)`,
    );
  }
  const plan = bestPlan(c, basis);
  const targetScale = xs[0].scale;
  const evaluation = new Evaluation(s, basis, constants);
  try {
    evaluation.setInput(mapInput(s, xs, degree, interval, constants));
    const targetLevel = evaluation.inputLevel - plan.levels;
    const result = yield* evaluation.node(plan.root, targetLevel, targetScale);
    if (typeof result === 'number')
      throw new HeftyError('E_INVALID_ARGUMENT', 'the polynomial is constant at the encoding precision');
    return result;
  } finally {
    evaluation.dispose();
  }
}

/** y = αx + β for a Chebyshev interval: free by relabelling the scale by 1/α where that stays precise. */
function mapInput(
  s: Session,
  xs: readonly Ciphertext[],
  degree: number,
  interval: Interval | undefined,
  constants: ConstantSlots,
): Ciphertext[] {
  if (interval === undefined) return ops.mapAll(xs, (x) => x.clone());
  const { alpha, beta } = intervalMap(interval);
  const scaled = mapCostsLevel(degree, 'chebyshev', interval)
    ? ops.mapAll(xs, (x) => {
        const plain = s.ckksEncoder.encodeScalar(alpha, s.lastPrime(x.chainIndex), x.parmsId);
        try {
          return ops.consume(s.evaluator.multiplyPlain(x, plain), (p) => s.evaluator.rescaleToNext(p));
        } finally {
          plain.dispose();
        }
      })
    : ops.mapAll(xs, (x) => x.withScale(x.scale / alpha));
  if (beta === 0) return scaled;
  try {
    return addConstant(s, scaled, beta, constants);
  } finally {
    ops.disposeAll(scaled);
  }
}

/** list + value on the valid slots, encoded at each ciphertext's own level and scale. */
function addConstant(s: Session, list: readonly Ciphertext[], value: number, constants: ConstantSlots): Ciphertext[] {
  const slots = constants(value);
  return ops.mapAll(list, (c, k) => {
    const slot = slots[k];
    const plain =
      typeof slot === 'number'
        ? s.ckksEncoder.encodeScalar(slot, c.scale, c.parmsId)
        : s.ckksEncoder.encode(slot, c.scale, c.parmsId);
    try {
      return s.evaluator.addPlain(c, plain);
    } finally {
      plain.dispose();
    }
  });
}

/** c·x without rescaling, with c encoded at `plainScale` at x's level. */
function timesScalar(s: Session, x: Ciphertext, value: number, plainScale: number): Ciphertext {
  const plain = s.ckksEncoder.encodeScalar(value, plainScale, x.parmsId);
  try {
    return s.evaluator.multiplyPlain(x, plain);
  } finally {
    plain.dispose();
  }
}

/** The state of one evaluation: the powers computed so far, per chunk. */
class Evaluation {
  readonly #s: Session;
  readonly #basis: PolynomialBasis;
  readonly #constants: ConstantSlots;
  readonly #powers = new Map<number, Ciphertext[]>();

  constructor(s: Session, basis: PolynomialBasis, constants: ConstantSlots) {
    this.#s = s;
    this.#basis = basis;
    this.#constants = constants;
  }

  setInput(ys: Ciphertext[]): void {
    this.#powers.set(1, ys);
  }

  get inputLevel(): number {
    return (this.#powers.get(1) as Ciphertext[])[0].chainIndex;
  }

  dispose(): void {
    for (const list of this.#powers.values()) ops.disposeAll(list);
    this.#powers.clear();
  }

  /** Tj (x^j or Tj(y)), computed once from T⌈j/2⌉·T⌊j/2⌋ at depth ceil(log2 j). */
  *power(j: number): Plan<readonly Ciphertext[]> {
    const known = this.#powers.get(j);
    if (known) return known;
    const s = this.#s;
    const a = yield* this.power(Math.ceil(j / 2));
    const b = yield* this.power(Math.floor(j / 2));
    const level = a[0].chainIndex; // the deeper of the two (⌈j/2⌉ ≥ ⌊j/2⌋)
    const products = ops.mapAll(a, (x, k) =>
      a === b ? s.evaluator.square(x) : ops.consume(ops.dropTo(s, b[k], level), (y) => s.evaluator.multiply(x, y)),
    );
    let combined = yield* ops.consumePlan(products, (list) => keySwitch({ op: 'relinearize', list }));
    if (this.#basis === 'chebyshev') {
      const relinearized = combined;
      try {
        combined = this.#chebyshevStep(relinearized, j);
      } finally {
        ops.disposeAll(relinearized);
      }
    }
    const result = ops.consumeAll(combined, (p) => s.evaluator.rescaleToNext(p));
    this.#powers.set(j, result);
    return result;
  }

  /** 2·Ta·Tb − T(a−b) before the rescale, with T(a−b) ∈ {T0 = 1, T1} brought to the product's scale exactly. */
  #chebyshevStep(products: readonly Ciphertext[], j: number): Ciphertext[] {
    const s = this.#s;
    const doubled = ops.mapAll(products, (p) => s.evaluator.add(p, p));
    try {
      if (j % 2 === 0) return addConstant(s, doubled, -1, this.#constants);
      const t1 = this.#powers.get(1) as Ciphertext[];
      return ops.mapAll(doubled, (p, k) =>
        ops.consume(ops.dropTo(s, t1[k], p.chainIndex), (y) =>
          ops.consume(timesScalar(s, y, 1, p.scale / y.scale), (aligned) => ops.sub(s, p, aligned)),
        ),
      );
    } finally {
      ops.disposeAll(doubled);
    }
  }

  /**
   * The node's polynomial at exactly (level, scale), or the number it reduces to when no term survives the
   * encoding's resolution (a constant, which the caller adds).
   */
  *node(node: PlanNode, level: number, scale: number): Plan<Ciphertext[] | number> {
    if (node.kind === 'constant') return node.c0;
    if (node.kind === 'leaf') return yield* this.#leaf(node, level, scale);
    const high = yield* this.#giantProduct(node, level, scale);
    let low: Ciphertext[] | number;
    try {
      low = yield* this.node(node.r, level, scale);
    } catch (e) {
      if (typeof high !== 'number') ops.disposeAll(high);
      throw e;
    }
    if (typeof high === 'number') return low; // the quotient vanished: only the remainder is left
    const s = this.#s;
    try {
      if (typeof low !== 'number') return ops.mapAll(high, (h, k) => ops.add(s, h, (low as Ciphertext[])[k]));
      return low === 0 ? ops.mapAll(high, (h) => h.clone()) : addConstant(s, high, low, this.#constants);
    } finally {
      ops.disposeAll(high);
      if (typeof low !== 'number') ops.disposeAll(low);
    }
  }

  /** q·Tg at (level, scale): q evaluated to land, after the product's rescale, on that scale; 0 if q vanishes. */
  *#giantProduct(
    node: Extract<PlanNode, { kind: 'split' }>,
    level: number,
    scale: number,
  ): Plan<Ciphertext[] | number> {
    const s = this.#s;
    const giant = yield* this.power(node.giant);
    const productLevel = level + 1;
    const quotient = yield* this.node(node.q, productLevel, (scale * s.lastPrime(productLevel)) / giant[0].scale);
    // A quotient that reduced to a constant c is the single term c·Tg.
    if (typeof quotient === 'number')
      return yield* this.#leaf({ kind: 'leaf', c0: 0, terms: [[node.giant, quotient]] }, level, scale);
    const products = ops.consumeAll(quotient, (qc, k) =>
      ops.consume(ops.dropTo(s, giant[k], productLevel), (g) => s.evaluator.multiply(qc, g)),
    );
    const relinearized = yield* ops.consumePlan(products, (list) => keySwitch({ op: 'relinearize', list }));
    return ops.consumeAll(relinearized, (p) => s.evaluator.rescaleToNext(p));
  }

  /** Σ cj·Tj + c0 landing on (level, scale): each Tj at level+1 times cj encoded at scale·q/scale(Tj), one rescale. */
  *#leaf(node: Extract<PlanNode, { kind: 'leaf' }>, level: number, scale: number): Plan<Ciphertext[] | number> {
    const s = this.#s;
    const productLevel = level + 1;
    const productScale = scale * s.lastPrime(productLevel);
    let sums: Ciphertext[] | null = null;
    try {
      for (const [j, cj] of node.terms) {
        const power = yield* this.power(j);
        const plainScale = productScale / power[0].scale;
        // A coefficient below the encoding's resolution would encode as zero (a transparent product).
        if (Math.abs(cj) * plainScale < 0.5) continue;
        const terms = ops.mapAll(power, (t) =>
          ops.consume(ops.dropTo(s, t, productLevel), (dropped) => timesScalar(s, dropped, cj, plainScale)),
        );
        if (sums === null) {
          sums = terms;
        } else {
          const previous: Ciphertext[] = sums;
          sums = ops.mapAll(previous, (acc, k) => ops.add(s, acc, terms[k]));
          ops.disposeAll(previous);
          ops.disposeAll(terms);
        }
      }
      if (sums === null) return node.c0;
      const withConstant = node.c0 === 0 ? sums : addConstant(s, sums, node.c0, this.#constants);
      if (withConstant !== sums) ops.disposeAll(sums);
      sums = null;
      return ops.consumeAll(withConstant, (p) => s.evaluator.rescaleToNext(p));
    } finally {
      if (sums !== null) ops.disposeAll(sums);
    }
  }
}
