/**
 * Plain matrix × encrypted vector by the hybrid diagonal method with baby-step/giant-step (BSGS) rotations.
 *
 * Layout. The input's slots are periodic with period W (slot j holds x[j mod W], x zero-padded to W); the
 * output's with period H. An m×n matrix is cut into blocks of H rows and W columns (H = m padded to a power of
 * two, or slotCount when m > slotCount: then the output has several chunks; W = the input's period, or a smaller
 * power of two ≥ n that a clean input is first replicated to by rotate-and-adds, whichever costs less; slotCount
 * for an input of several chunks, whose column blocks are summed). Each block has D = min(H, W) generalized diagonals
 *   diag_k[i] = M[i mod H][(i + k) mod W],   block result y'[i] = Σ_k diag_k[i] · x[(i + k) mod W],
 * and when W > H (a wide block) the W/H partial rows are folded by log2(W/H) rotate-and-adds, leaving y[i mod H]
 * in slot i: the output is periodic with period H, which is what the next layer's input wants.
 *
 * BSGS. With D = n1·n2: y' = Σ_g rot_{g·n1}(Σ_b rot_{-g·n1}(diag_{g·n1+b}) ⊙ rot_b(x)). The n1 baby rotations
 * of x are one hoisted key-switch request; the giant steps run in Horner form, y' = u_0 + rot_n1(u_1 + rot_n1(u_2 +
 * …)), so they all use the one key for n1. The products are plaintext multiplications summed before a single
 * rescale per inner sum (1 level in all; the giant rotations then run a level lower, which is cheaper).
 *
 * The plan (split, replication, compositions of steps without keys) is computed once by planLinearTransform; the
 * evaluation follows it exactly and linearTransformSteps reports it, so the planner's numbers are what runs.
 */
import { HeftyError } from '../../errors.ts';
import type { Ciphertext, Plaintext } from '../../backend/types.ts';
import * as ops from '../ckks-ops.ts';
import { keySwitch, type Plan } from '../key-switching.ts';
import type { Session } from '../session.ts';
import { matrixHash, type Diagonals } from './diagonal-cache.ts';
import { composeRotation, normalizeStep } from './rotations.ts';

/** Default cost of a hoisted baby-step rotation relative to a full one (its decomposition is shared). */
export const HOISTED_ROTATION_COST = 0.5;

export interface LinearTransformOptions {
  /** Period of the input's slots (a power of two ≥ cols dividing slotCount); default slotCount. */
  inputPeriod?: number;
  /** Whether input slots outside the vector (j mod period ≥ cols) are zero; default true (fresh encryptions). */
  inputClean?: boolean;
  /** Whether a rotation step (in [0, slotCount)) has a galois key; default: every step (plan the keys to make). */
  hasKey?: (step: number) => boolean;
  /** Cost of a hoisted rotation relative to a full one (default 0.5). */
  hoistedCost?: number;
}

/** A baby step computed by rotating an earlier one (`from`, 0 = the input) by keyed `parts`. */
export interface DerivedBabyStep {
  readonly step: number;
  readonly from: number;
  readonly parts: readonly number[];
}

export interface LinearTransformPlan {
  readonly rows: number;
  readonly cols: number;
  readonly slotCount: number;
  /** Input and output ciphertexts. */
  readonly inputChunks: number;
  readonly outputChunks: number;
  /** Rows and columns of a block; H is the output period, W the period the input is brought to. */
  readonly blockHeight: number;
  readonly blockWidth: number;
  readonly diagonals: number;
  readonly babySteps: number;
  readonly giantSteps: number;
  /** Rotate-and-adds that bring a clean input from its period down to W (keyed parts of each). */
  readonly replicate: readonly (readonly number[])[];
  /** Baby steps rotated in the one hoisted request. */
  readonly hoisted: readonly number[];
  readonly derived: readonly DerivedBabyStep[];
  /** Keyed parts of the giant rotation by n1. */
  readonly giant: readonly number[];
  /** Keyed parts of each fold rotation (H, 2H, …, W/2). */
  readonly fold: readonly (readonly number[])[];
  readonly outputPeriod: number;
  /** Estimated cost in full rotations (hoisted ones weighted). */
  readonly cost: number;
}

export interface LinearTransformSteps {
  /** Every galois step the evaluation rotates by (sorted, normalized). */
  readonly galoisSteps: number[];
  /** Rotations (ciphertexts key-switched): hoisted baby steps, and all others. */
  readonly rotations: { readonly hoisted: number; readonly plain: number; readonly total: number };
  /** Key-switch requests the evaluation makes. */
  readonly keySwitchRequests: number;
  readonly levels: number;
  readonly outputPeriod: number;
  readonly outputChunks: number;
  readonly babySteps: number;
  readonly giantSteps: number;
  readonly diagonals: number;
  /** Plaintext diagonals encoded and cached (at most: all-zero diagonals are skipped). */
  readonly plaintexts: number;
  readonly cost: number;
}

export const isPowerOfTwo = (v: number) => Number.isInteger(v) && v > 0 && (v & (v - 1)) === 0;

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Rows per output block (the output period when the output is one ciphertext). */
export function outputPeriod(rows: number, slotCount: number): number {
  return rows > slotCount ? slotCount : nextPowerOfTwo(rows);
}

function missingKey(step: number): never {
  throw new HeftyError(
    'E_MISSING_GALOIS_KEY',
    `a matrix-vector product needs a rotation by ${step}, and the galois keys present cannot compose it; ` +
      `generate the steps linearTransformSteps() lists`,
  );
}

interface Candidate {
  readonly plan: LinearTransformPlan;
  readonly rotations: number;
}

/** Baby steps 1..n1-1: hoisted when keyed, else one earlier baby step rotated by a keyed power of two (or NAF). */
function babyPlan(
  n1: number,
  hasKey: (step: number) => boolean,
  compose: (step: number) => number[] | null,
): { hoisted: number[]; derived: DerivedBabyStep[] } | null {
  const hoisted: number[] = [];
  const derived: DerivedBabyStep[] = [];
  for (let b = 1; b < n1; b++) {
    if (hasKey(b)) {
      hoisted.push(b);
      continue;
    }
    let found: DerivedBabyStep | null = null;
    for (let t = 1; t <= b && found === null; t *= 2) if (hasKey(t)) found = { step: b, from: b - t, parts: [t] };
    if (found === null) {
      const parts = compose(b);
      if (parts === null) return null;
      found = { step: b, from: 0, parts };
    }
    derived.push(found);
  }
  return { hoisted, derived };
}

function shapeChecks(rows: number, cols: number, slotCount: number, period: number): void {
  if (!isPowerOfTwo(slotCount)) throw new HeftyError('E_INVALID_ARGUMENT', 'slotCount must be a power of two');
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1)
    throw new HeftyError('E_LENGTH_MISMATCH', 'a matrix needs at least one row and one column');
  if (cols > slotCount && period !== slotCount)
    throw new HeftyError('E_INVALID_ARGUMENT', 'a vector of several ciphertexts has period slotCount');
  if (!isPowerOfTwo(period) || period > slotCount || (cols <= slotCount && period < cols))
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      `input period ${period} must be a power of two in [${cols}, ${slotCount}]`,
    );
}

/** The cheapest evaluation plan for these shapes, input layout and keys. */
export function planLinearTransform(
  rows: number,
  cols: number,
  slotCount: number,
  options: LinearTransformOptions = {},
): LinearTransformPlan {
  const period = options.inputPeriod ?? slotCount;
  shapeChecks(rows, cols, slotCount, period);
  const clean = options.inputClean ?? true;
  const hoistedCost = options.hoistedCost ?? HOISTED_ROTATION_COST;
  const keyed = new Map<number, boolean>();
  const rawHasKey = options.hasKey ?? (() => true);
  const hasKey = (step: number) => {
    let known = keyed.get(step);
    if (known === undefined) keyed.set(step, (known = rawHasKey(step)));
    return known;
  };
  let uncomposable = 0;
  const compose = (step: number) => {
    const parts = composeRotation(step, slotCount, hasKey);
    if (parts === null) uncomposable = step;
    return parts;
  };

  const inputChunks = Math.ceil(cols / slotCount);
  const outputChunks = Math.ceil(rows / slotCount);
  const height = outputPeriod(rows, slotCount);
  // Widths the input can be brought to: its own period, or (clean, one ciphertext) any smaller one ≥ cols.
  const widths: number[] = [period];
  if (clean && inputChunks === 1) for (let w = nextPowerOfTwo(cols); w < period; w *= 2) widths.push(w);

  let best: Candidate | null = null;
  for (const width of widths) {
    const replicate: number[][] = [];
    let ok = true;
    for (let t = width; t < period && ok; t *= 2) {
      const parts = compose(t);
      if (parts === null) ok = false;
      else replicate.push(parts);
    }
    const fold: number[][] = [];
    for (let t = height; t < width && ok; t *= 2) {
      const parts = compose(t);
      if (parts === null) ok = false;
      else fold.push(parts);
    }
    if (!ok) continue;
    const diagonals = Math.min(height, width);
    const fixedRotations =
      replicate.reduce((n, p) => n + p.length, 0) + outputChunks * fold.reduce((n, p) => n + p.length, 0);
    for (let n1 = 1; n1 <= diagonals; n1 *= 2) {
      const n2 = diagonals / n1;
      const babies = babyPlan(n1, hasKey, compose);
      const giant = n2 > 1 ? compose(n1) : [];
      if (babies === null || giant === null) continue;
      const derivedRotations = babies.derived.reduce((n, d) => n + d.parts.length, 0);
      const plainRotations = fixedRotations + inputChunks * derivedRotations + outputChunks * (n2 - 1) * giant.length;
      const hoistedRotations = inputChunks * babies.hoisted.length;
      const cost = plainRotations + hoistedCost * hoistedRotations;
      const rotations = plainRotations + hoistedRotations;
      if (best === null || cost < best.plan.cost || (cost === best.plan.cost && rotations < best.rotations)) {
        best = {
          rotations,
          plan: {
            rows,
            cols,
            slotCount,
            inputChunks,
            outputChunks,
            blockHeight: height,
            blockWidth: width,
            diagonals,
            babySteps: n1,
            giantSteps: n2,
            replicate,
            hoisted: babies.hoisted,
            derived: babies.derived,
            giant,
            fold,
            outputPeriod: height,
            cost,
          },
        };
      }
    }
  }
  if (best === null) return missingKey(uncomposable);
  return best.plan;
}

/** What evaluating `plan` requests: exactly the rotations evaluateLinearTransform makes. */
function describePlan(plan: LinearTransformPlan): LinearTransformSteps {
  const steps = new Set<number>();
  const add = (parts: readonly number[]) => parts.forEach((p) => steps.add(p));
  plan.replicate.forEach(add);
  add(plan.hoisted);
  plan.derived.forEach((d) => add(d.parts));
  if (plan.giantSteps > 1) add(plan.giant);
  plan.fold.forEach(add);
  const sumParts = (list: readonly (readonly number[])[]) => list.reduce((n, p) => n + p.length, 0);
  const replicateParts = sumParts(plan.replicate);
  const derivedParts = sumParts(plan.derived.map((d) => d.parts));
  const giantParts = (plan.giantSteps - 1) * plan.giant.length;
  const foldParts = sumParts(plan.fold);
  const hoisted = plan.inputChunks * plan.hoisted.length;
  const plain = replicateParts + plan.inputChunks * derivedParts + plan.outputChunks * (giantParts + foldParts);
  return {
    galoisSteps: [...steps].sort((a, b) => a - b),
    rotations: { hoisted, plain, total: hoisted + plain },
    keySwitchRequests: replicateParts + (plan.hoisted.length > 0 ? 1 : 0) + derivedParts + giantParts + foldParts,
    levels: 1,
    outputPeriod: plan.outputPeriod,
    outputChunks: plan.outputChunks,
    babySteps: plan.babySteps,
    giantSteps: plan.giantSteps,
    diagonals: plan.diagonals,
    plaintexts: plan.outputChunks * plan.inputChunks * plan.diagonals,
    cost: plan.cost,
  };
}

/**
 * The galois steps, rotations and levels of an m×n matrix-vector product (the planner's view): the same plan
 * the evaluation follows. Without `hasKey` every step is assumed to have a key (the steps to generate).
 */
export function linearTransformSteps(
  rows: number,
  cols: number,
  slotCount: number,
  options: LinearTransformOptions = {},
): LinearTransformSteps {
  return describePlan(planLinearTransform(rows, cols, slotCount, options));
}

/** The encrypted input of a transform: a vector's chunks and layout. */
export interface TransformInput {
  readonly chunks: readonly Ciphertext[];
  readonly length: number;
  readonly period: number;
  readonly clean: boolean;
}

export interface TransformOutput {
  readonly chunks: Ciphertext[];
  readonly length: number;
  readonly period: number;
}

/**
 * Slot values of diagonal k = g·n1 + b of block (r, c), pre-rotated by -g·n1:
 * value[i] = M[r·H + ((i - g·n1) mod H)][c·W + ((i + b) mod W)], zero outside the matrix.
 */
function diagonalValues(
  matrix: readonly Float64Array[],
  cols: number,
  plan: LinearTransformPlan,
  r: number,
  c: number,
  k: number,
): Float64Array {
  const { slotCount, blockHeight: h, blockWidth: w, babySteps: n1 } = plan;
  const shift = Math.floor(k / n1) * n1;
  const b = k % n1;
  const out = new Float64Array(slotCount);
  for (let i = 0; i < slotCount; i++) {
    const row = r * h + normalizeStep(i - shift, h);
    const col = c * w + ((i + b) % w);
    if (row < matrix.length && col < cols) out[i] = matrix[row][col];
  }
  return out;
}

/**
 * What differs between schemes: how a diagonal is encoded for the products, what a giant step whose diagonals are
 * all zero multiplies by (engines refuse the transparent ciphertext a zero product would be), and how an inner
 * sum of products is finished. The plan, the rotations and the sums are the same.
 */
export interface DiagonalArithmetic {
  /** Levels the transform consumes. */
  readonly levels: number;
  /** Encodes the plan.slotCount values of one diagonal for products with ciphertexts at `chainIndex`. */
  encode(values: Float64Array, chainIndex: number): Plaintext;
  /** A plaintext that adds nothing to the transform's slots (for a giant step with no nonzero diagonal). */
  filler(chainIndex: number): Plaintext;
  /** The inner sum finished (CKKS: rescaled); consumes `sum`. */
  finish(sum: Ciphertext): Ciphertext;
}

/**
 * CKKS: diagonals at the level's last-prime scale, so that the rescale restores the input's scale; the filler is
 * the constant one unit at that scale, which adds x/q (~1e-12·|x|), far below the CKKS noise.
 */
function ckksArithmetic(s: Session): DiagonalArithmetic {
  return {
    levels: 1,
    encode: (values, chainIndex) => s.ckksEncoder.encode(values, s.lastPrime(chainIndex), s.parmsIdAt(chainIndex)),
    filler: (chainIndex) => {
      const scale = s.lastPrime(chainIndex);
      return s.ckksEncoder.encodeScalar(1 / scale, scale, s.parmsIdAt(chainIndex));
    },
    finish: (sum) => ops.consume(sum, (c) => s.evaluator.rescaleToNext(c)),
  };
}

/** Encodes every nonzero diagonal; zero diagonals are skipped, and a giant step with none gets the filler. */
function encodeDiagonals(
  s: Session,
  arithmetic: DiagonalArithmetic,
  matrix: readonly Float64Array[],
  cols: number,
  plan: LinearTransformPlan,
  chainIndex: number,
): { plaintexts: Diagonals; bytes: number } {
  const { outputChunks: R, inputChunks: C, diagonals: D, babySteps: n1, giantSteps: n2 } = plan;
  const out: (Plaintext | null)[] = new Array<Plaintext | null>(R * C * D).fill(null);
  let encoded = 0;
  try {
    for (let r = 0; r < R; r++) {
      for (let g = 0; g < n2; g++) {
        let any = false;
        for (let c = 0; c < C; c++) {
          for (let b = 0; b < n1; b++) {
            const values = diagonalValues(matrix, cols, plan, r, c, g * n1 + b);
            if (values.every((v) => v === 0)) continue;
            out[(r * C + c) * D + g * n1 + b] = arithmetic.encode(values, chainIndex);
            encoded++;
            any = true;
          }
        }
        if (!any) {
          out[r * C * D + g * n1] = arithmetic.filler(chainIndex);
          encoded++;
        }
      }
    }
  } catch (e) {
    for (const p of out) p?.dispose();
    throw e;
  }
  const level = s.ctx.levels.find((l) => l.chainIndex === chainIndex);
  const bytes = encoded * s.ctx.params.polyModulusDegree * (level?.primes.length ?? 1) * 8;
  return { plaintexts: out, bytes };
}

/**
 * Σ_c Σ_b diag ⊙ rot_b(x_c) for block r and giant step g, finished (rescaled). Products are added into a running
 * sum as they are made: keeping many large temporaries alive makes every allocation fresh memory (measured 10×
 * slower at N=16384 than this).
 */
function innerSum(
  s: Session,
  arithmetic: DiagonalArithmetic,
  plan: LinearTransformPlan,
  diagonals: Diagonals,
  babies: readonly Ciphertext[][],
  r: number,
  g: number,
): Ciphertext {
  const { inputChunks: C, babySteps: n1, diagonals: D } = plan;
  let sum: Ciphertext | null = null;
  try {
    for (let c = 0; c < C; c++) {
      for (let b = 0; b < n1; b++) {
        const diagonal = diagonals[(r * C + c) * D + g * n1 + b];
        if (diagonal === null) continue;
        const term = s.evaluator.multiplyPlain(babies[c][b], diagonal);
        if (sum === null) sum = term;
        else {
          const previous: Ciphertext = sum;
          sum = null;
          try {
            sum = s.evaluator.add(previous, term);
          } finally {
            previous.dispose();
            term.dispose();
          }
        }
      }
    }
    // encodeDiagonals leaves at least one diagonal per (block, giant step)
    const done = sum as Ciphertext;
    sum = null;
    return arithmetic.finish(done);
  } finally {
    sum?.dispose();
  }
}

/** Rotates each ciphertext of the list by the composition of keyed `parts`. */
function* rotateByParts(list: readonly Ciphertext[], parts: readonly number[]): Plan<Ciphertext[]> {
  let acc = ops.mapAll(list, (c) => c.clone());
  for (const step of parts)
    acc = yield* ops.consumePlan(acc, (current) => keySwitch({ op: 'rotate', list: current, steps: step }));
  return acc;
}

/** list[i] + rot(list[i]) for each i; consumes the list. */
function* rotateAndAdd(s: Session, list: Ciphertext[], parts: readonly number[]): Plan<Ciphertext[]> {
  return yield* ops.consumePlan(list, function* (current): Plan<Ciphertext[]> {
    const rotated = yield* rotateByParts(current, parts);
    try {
      return ops.mapAll(current, (c, i) => s.evaluator.add(c, rotated[i]));
    } finally {
      ops.disposeAll(rotated);
    }
  });
}

/** Plan for a session's keys and an input layout. */
function planFor(s: Session, rows: number, input: TransformInput): LinearTransformPlan {
  return planLinearTransform(rows, input.length, s.rotationSlotCount, {
    inputPeriod: input.period,
    inputClean: input.clean,
    hasKey: ops.hasRotationKey(s),
  });
}

/**
 * matrix (rows × input.length) × input. Diagonals come from the session's cache (keyed by the matrix's content
 * hash, level and layout). Consumes one level (CKKS). Integer sessions pass their own arithmetic, and their
 * rotations cycle through one batching row (session.rotationSlotCount).
 */
export function* evaluateLinearTransform(
  s: Session,
  matrix: readonly Float64Array[],
  input: TransformInput,
  arithmetic: DiagonalArithmetic = ckksArithmetic(s),
): Plan<TransformOutput> {
  const cols = input.length;
  for (const [i, row] of matrix.entries()) {
    if (row.length !== cols)
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `matrix row ${i} has ${row.length} columns, the vector has ${cols} elements`,
      );
  }
  const chainIndex = input.chunks[0].chainIndex;
  if (chainIndex < arithmetic.levels) {
    throw new HeftyError(
      'E_LEVEL_EXHAUSTED',
      'a matrix-vector product needs 1 level but the vector has 0 left (it is at the last one); use more coefficient-modulus primes',
    );
  }
  const plan = planFor(s, matrix.length, input);
  // The encoding depends on the level (its primes and the scale of its last prime) and the layout, not on the
  // input's own scale: inputs at any scale share an entry.
  const layout = `${plan.blockHeight}x${plan.blockWidth}/${plan.babySteps}|${s.slotCount}`;
  const key = `${matrixHash(matrix)}|${chainIndex}|${layout}`;
  const lease = s.diagonalCache.acquire(key, () => encodeDiagonals(s, arithmetic, matrix, cols, plan, chainIndex));
  try {
    return yield* transform(s, arithmetic, plan, lease.plaintexts, input);
  } finally {
    lease.release();
  }
}

function* transform(
  s: Session,
  arithmetic: DiagonalArithmetic,
  plan: LinearTransformPlan,
  diagonals: Diagonals,
  input: TransformInput,
): Plan<TransformOutput> {
  const { outputChunks: R, giantSteps: n2 } = plan;
  let xs = ops.mapAll(input.chunks, (c) => c.clone());
  for (const parts of plan.replicate) xs = yield* rotateAndAdd(s, xs, parts);
  // babies[c][b] = rot_b(x_c)
  const babies: Ciphertext[][] = xs.map((x) => [x]);
  let acc: Ciphertext[] | null = null;
  try {
    if (plan.hoisted.length > 0) {
      const rotated = yield* keySwitch({ op: 'rotate-hoisted', list: xs, steps: plan.hoisted });
      xs.forEach((_, c) => plan.hoisted.forEach((b, j) => (babies[c][b] = rotated[c * plan.hoisted.length + j])));
    }
    for (const d of plan.derived) {
      const rotated = yield* rotateByParts(
        babies.map((list) => list[d.from]),
        d.parts,
      );
      rotated.forEach((r, c) => (babies[c][d.step] = r));
    }
    // Giant steps from the last down (Horner): acc = u_g + rot_n1(acc).
    for (let g = n2 - 1; g >= 0; g--) {
      const inner = ops.mapAll(Array.from({ length: R }), (_, r) =>
        innerSum(s, arithmetic, plan, diagonals, babies, r, g),
      );
      if (acc === null) {
        acc = inner;
        continue;
      }
      const previous: Ciphertext[] = acc;
      acc = null;
      let rotated: Ciphertext[];
      try {
        rotated = yield* ops.consumePlan(previous, (list) => rotateByParts(list, plan.giant));
      } catch (e) {
        ops.disposeAll(inner);
        throw e;
      }
      try {
        acc = ops.mapAll(inner, (u, r) => s.evaluator.add(u, rotated[r]));
      } finally {
        ops.disposeAll(rotated);
        ops.disposeAll(inner);
      }
    }
    let out = acc as Ciphertext[];
    acc = null;
    for (const parts of plan.fold) out = yield* rotateAndAdd(s, out, parts);
    return { chunks: out, length: plan.rows, period: R > 1 ? plan.slotCount : plan.outputPeriod };
  } finally {
    if (acc !== null) ops.disposeAll(acc);
    for (const list of babies) ops.disposeAll(list.filter((c) => c !== undefined));
  }
}
