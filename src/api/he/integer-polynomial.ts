/**
 * Polynomial evaluation on BFV and BGV ciphertexts, exactly mod the plaintext modulus t: the monomial
 * Paterson–Stockmeyer plan of polynomial.ts (baby powers, giant powers x^g, p = q·x^g + r recursively), evaluated
 * without scales or levels. Powers x^j come from x^⌈j/2⌉·x^⌊j/2⌋ (multiplicative depth ceil(log2 j)); a degree-d
 * polynomial has depth ceil(log2(d+1)) and O(√d) ciphertext products, each one relinearization request over all
 * chunks of the vector.
 *
 * The plan is made over coefficient indices (polynomial.ts: in the monomial basis division only moves
 * coefficients), so the exact coefficients (reduced mod t, possibly wider than a double) are looked up by index.
 * Coefficients that are 0 mod t contribute nothing (a product by a zero plaintext would be transparent).
 */
import { HeftyError } from '../../errors.ts';
import type { Ciphertext } from '../../backend/types.ts';
import * as ops from '../ckks-ops.ts';
import { keySwitch, type Plan } from '../key-switching.ts';
import type { Session } from '../session.ts';
import { bestPlan, type PlanNode } from './polynomial.ts';

/** What the vector decides: how constants are encoded, and what follows a relinearized product. */
export interface IntegerPolicy {
  /** Adds a constant to the elements of each chunk (and leaves slots outside the vector alone). */
  addConstant(list: readonly Ciphertext[], value: bigint): Ciphertext[];
  /** Multiplies every slot of a chunk by a constant (never zero mod t). */
  timesConstant(c: Ciphertext, value: bigint): Ciphertext;
  /** After each relinearized product (BGV: the switch to the next level); consumes the list. */
  afterProduct(list: Ciphertext[]): Ciphertext[];
}

/** a op b with the operands brought to the lower of their levels. */
function aligned(
  s: Session,
  a: Ciphertext,
  b: Ciphertext,
  op: (x: Ciphertext, y: Ciphertext) => Ciphertext,
): Ciphertext {
  if (a.chainIndex === b.chainIndex) return op(a, b);
  const [x, y] = ops.alignLevels(s, a, b);
  try {
    return op(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Centered residue of v mod t, in (-t/2, t/2]: what the batch encoder takes. */
export function centered(v: bigint, t: bigint): bigint {
  let r = v % t;
  if (r < 0n) r += t;
  return r > t / 2n ? r - t : r;
}

/** The plan's coefficients as indices: entry i is i + 1 where the coefficient is nonzero mod t, else 0. */
function indexMarks(coeffs: readonly bigint[]): Float64Array {
  return Float64Array.from(coeffs, (c, i) => (c === 0n ? 0 : i + 1));
}

/** Multiplicative depth of a degree-d polynomial: ceil(log2(d + 1)). */
export function integerPolynomialDepth(degree: number): number {
  return degree <= 0 ? 0 : 32 - Math.clz32(degree);
}

/**
 * The polynomial Σ coeffs[i]·x^i on every chunk of `xs` (one vector), as a plan. `coeffs` are already reduced
 * mod t (centered); the highest must be nonzero and of degree ≥ 1.
 */
export function* evaluateIntegerPolynomial(
  s: Session,
  xs: readonly Ciphertext[],
  coeffs: readonly bigint[],
  policy: IntegerPolicy,
): Plan<Ciphertext[]> {
  const plan = bestPlan(indexMarks(coeffs), 'monomial');
  const evaluation = new IntegerEvaluation(s, coeffs, policy);
  try {
    evaluation.setInput(ops.mapAll(xs, (x) => x.clone()));
    const result = yield* evaluation.node(plan.root);
    if (typeof result === 'bigint')
      throw new HeftyError('E_INTERNAL', 'a polynomial of degree ≥ 1 reduced to a constant');
    return result;
  } finally {
    evaluation.dispose();
  }
}

class IntegerEvaluation {
  readonly #s: Session;
  readonly #coeffs: readonly bigint[];
  readonly #policy: IntegerPolicy;
  readonly #powers = new Map<number, Ciphertext[]>();

  constructor(s: Session, coeffs: readonly bigint[], policy: IntegerPolicy) {
    this.#s = s;
    this.#coeffs = coeffs;
    this.#policy = policy;
  }

  setInput(xs: Ciphertext[]): void {
    this.#powers.set(1, xs);
  }

  dispose(): void {
    for (const list of this.#powers.values()) ops.disposeAll(list);
    this.#powers.clear();
  }

  /** The coefficient a plan value stands for (see indexMarks). */
  #coefficient(mark: number): bigint {
    return mark === 0 ? 0n : this.#coeffs[mark - 1];
  }

  /** x^j, computed once from x^⌈j/2⌉·x^⌊j/2⌋ and relinearized. */
  *power(j: number): Plan<readonly Ciphertext[]> {
    const known = this.#powers.get(j);
    if (known) return known;
    const s = this.#s;
    const a = yield* this.power(Math.ceil(j / 2));
    const b = yield* this.power(Math.floor(j / 2));
    const products = ops.mapAll(a, (x, k) =>
      a === b ? s.evaluator.square(x) : aligned(s, x, b[k], (u, v) => s.evaluator.multiply(u, v)),
    );
    const result = this.#policy.afterProduct(
      yield* ops.consumePlan(products, (list) => keySwitch({ op: 'relinearize', list })),
    );
    this.#powers.set(j, result);
    return result;
  }

  /** The node's polynomial, or the constant it reduces to (which the caller adds). */
  *node(node: PlanNode): Plan<Ciphertext[] | bigint> {
    if (node.kind === 'constant') return this.#coefficient(node.c0);
    if (node.kind === 'leaf') return yield* this.#leaf(node);
    const high = yield* this.#giantProduct(node);
    let low: Ciphertext[] | bigint;
    try {
      low = yield* this.node(node.r);
    } catch (e) {
      if (typeof high !== 'bigint') ops.disposeAll(high);
      throw e;
    }
    if (typeof high === 'bigint') return low;
    return this.#sum(high, low);
  }

  /** high + low; consumes both. */
  #sum(high: Ciphertext[], low: Ciphertext[] | bigint): Ciphertext[] {
    const s = this.#s;
    try {
      if (typeof low !== 'bigint')
        return ops.mapAll(high, (h, k) => aligned(s, h, low[k], (u, v) => s.evaluator.add(u, v)));
      return low === 0n ? ops.mapAll(high, (h) => h.clone()) : this.#policy.addConstant(high, low);
    } finally {
      ops.disposeAll(high);
      if (typeof low !== 'bigint') ops.disposeAll(low);
    }
  }

  /** q·x^g; the constant 0 when q vanishes. */
  *#giantProduct(node: Extract<PlanNode, { kind: 'split' }>): Plan<Ciphertext[] | bigint> {
    const s = this.#s;
    const quotient = yield* this.node(node.q);
    if (typeof quotient === 'bigint') {
      if (quotient === 0n) return 0n;
      const giant = yield* this.power(node.giant);
      return ops.mapAll(giant, (g) => this.#policy.timesConstant(g, quotient));
    }
    let giant: readonly Ciphertext[];
    try {
      giant = yield* this.power(node.giant);
    } catch (e) {
      ops.disposeAll(quotient);
      throw e;
    }
    const products = ops.consumeAll(quotient, (q, k) => aligned(s, q, giant[k], (u, v) => s.evaluator.multiply(u, v)));
    return this.#policy.afterProduct(
      yield* ops.consumePlan(products, (list) => keySwitch({ op: 'relinearize', list })),
    );
  }

  /** Σ cj·x^j + c0. */
  *#leaf(node: Extract<PlanNode, { kind: 'leaf' }>): Plan<Ciphertext[] | bigint> {
    const s = this.#s;
    let sums: Ciphertext[] | null = null;
    try {
      for (const [j, mark] of node.terms) {
        const cj = this.#coefficient(mark);
        const power = yield* this.power(j);
        const terms = ops.mapAll(power, (t) => this.#policy.timesConstant(t, cj));
        if (sums === null) {
          sums = terms;
        } else {
          const previous: Ciphertext[] = sums;
          sums = null;
          try {
            sums = ops.mapAll(previous, (acc, k) => aligned(s, acc, terms[k], (u, v) => s.evaluator.add(u, v)));
          } finally {
            ops.disposeAll(previous);
            ops.disposeAll(terms);
          }
        }
      }
      const c0 = this.#coefficient(node.c0);
      if (sums === null) return c0;
      const done: Ciphertext[] = sums;
      sums = null;
      return this.#sum(done, c0);
    } finally {
      if (sums !== null) ops.disposeAll(sums);
    }
  }
}
