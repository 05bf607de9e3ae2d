/**
 * The planner: from a program and its input sizes, what running it takes — the levels it consumes, the exact
 * galois steps its rotations use, the key switches — and the parameters that fit: the smallest ring degree N
 * whose 128-bit (or chosen) security limit holds a coefficient chain with that many levels at the requested
 * precision, and the size of the key set those parameters and steps imply.
 *
 * The accounting follows the evaluation op by op (the same functions the vectors use decide levels and
 * steps), so a plan is what runs: test/api/he/planner.test.ts runs programs and compares.
 */
import { HeftyError } from '../../errors.ts';
import { isIntegerScheme, type Scheme, type SecurityLevel } from '../../backend/types.ts';
import type { Operand, Program, Step } from '../program.ts';
import { activationPolynomial } from './chebyshev.ts';
import { keySetBytes, type KeySetBytes } from './key-size.ts';
import { linearTransformSteps, nextPowerOfTwo } from './linear-transform.ts';
import { polynomialCostOf, type PolynomialCost } from './polynomial.ts';
import { composeRotation, normalizeStep, powerOfTwoSteps } from './rotations.ts';

/** Size of an input: elements of a vector or plain input, [rows, cols] of a matrix input. */
export type InputSize = number | readonly [number, number];

export interface PlanOptions {
  /**
   * Lengths of the program's encrypted vector inputs and [rows, cols] of its matrix inputs (plain vector inputs
   * may be left out: they have the length of the vector they meet).
   */
  readonly inputs: Readonly<Record<string, InputSize>>;
  /** Bits of the CKKS scale: the fixed-point precision values are encoded and rescaled at (default 40). */
  readonly scaleBits?: number;
  /** Bits above the scale that the first prime leaves for the result's integer part (default 20). */
  readonly integerBits?: number;
  /** Default 128. */
  readonly security?: Exclude<SecurityLevel, 'none'>;
  /** Use this N instead of the smallest that fits. */
  readonly polyModulusDegree?: number;
  /** Largest N to consider (default 32768). */
  readonly maxPolyModulusDegree?: number;
  /**
   * Largest key set (seeded, zstd) to plan for; default KEY_BUDGET_BYTES, which the service's default upload
   * limit holds. Over it, rotations are composed from power-of-two keys instead of keys of their own.
   */
  readonly maxKeyBytes?: number;
}

/** What a backend says about security: the largest total coefficient-modulus bits for N (HE standard). */
export type MaxCoeffModulusBits = (polyModulusDegree: number, security: Exclude<SecurityLevel, 'none'>) => number;

export interface StepPlan {
  readonly out: string;
  readonly op: Step['op'];
  /** Levels this step consumes, and the depth of its result (levels consumed since fresh encryption). */
  readonly levels: number;
  readonly depth: number;
  /** Rotation steps it uses, and its rotations (ciphertexts key-switched by a galois key). */
  readonly galoisSteps: readonly number[];
  readonly rotations: number;
  /** Ciphertext × ciphertext products (each one relinearization). */
  readonly multiplications: number;
}

export interface ProgramCost {
  /** Levels the program consumes from fresh inputs: the deepest value it computes. */
  readonly levels: number;
  /** Keyed rotation steps the evaluation uses (normalized to [0, slotCount)), sorted. */
  readonly galoisSteps: readonly number[];
  readonly rotations: number;
  readonly multiplications: number;
  readonly steps: readonly StepPlan[];
}

export interface ProgramPlan extends ProgramCost {
  readonly scheme: Scheme;
  readonly polyModulusDegree: number;
  readonly slotCount: number;
  /** Bit sizes of the chain: first prime, one prime per level, special prime last. */
  readonly coeffModulusBits: readonly number[];
  /** CKKS: bits of the scale; 0 on BFV and BGV. */
  readonly scaleBits: number;
  /** BFV and BGV: bits of the batching plaintext modulus t. */
  readonly plainModulusBits?: number;
  /**
   * BFV and BGV: the noise budget (bits) fresh ciphertexts have, and the estimate of what the program's depth
   * consumes (planIntegerProgram's model; decryption needs what is left to stay above 0).
   */
  readonly noiseBudget?: { readonly fresh: number; readonly consumed: number };
  readonly security: Exclude<SecurityLevel, 'none'>;
  /** The most levels a chain at this N, security and precision could hold (BFV, BGV: depth the budget holds). */
  readonly maxLevels: number;
  /**
   * Which galois keys the plan makes (galoisSteps lists them; rotations counts the key switches with them):
   * one per exact step, or, when those would pass the key budget, ±powers of two or positive powers of two
   * that compose every step.
   */
  readonly keyBasis: 'exact' | 'power-of-two' | 'positive-power-of-two';
  readonly relinKeys: boolean;
  readonly keyBytes: KeySetBytes;
}

/**
 * The planner's default key budget: the largest seeded+zstd key set it plans. The service's default upload
 * limit (256 MiB) holds it with the estimate's margin (key-size.ts is within 3%) and the envelope.
 */
export const KEY_BUDGET_BYTES = 240 * 1024 * 1024;
/** Ring degrees with a default chain, smallest first. */
export const POLY_MODULUS_DEGREES = [4096, 8192, 16384, 32768] as const;
const MAX_PRIME_BITS = 60;

// ---- level and rotation accounting, op by op ----

/** What the planner knows about a value while walking the program. */
interface Value {
  readonly kind: 'vector' | 'plain' | 'scalar' | 'matrix';
  /** Elements (vectors, plain vectors), or rows and columns (matrices). */
  readonly length: number;
  readonly cols?: number;
  /** Levels consumed since fresh encryption (vectors only). */
  readonly depth: number;
  /** Slots outside the vector (j mod period ≥ length) hold zeros (vectors only): sums need no mask. */
  readonly clean: boolean;
  /** Slot period (vectors only): slotCount, or smaller after a matrix product. */
  readonly period: number;
}

/** What one op costs given its operands: the vector's own rules (ckks-vector.ts), restated as numbers. */
interface OpCost {
  readonly levels: number;
  /** Keyed rotation steps it uses. */
  readonly galoisSteps: readonly number[];
  readonly rotations: number;
  readonly multiplications: number;
  readonly length: number;
  readonly clean: boolean;
  readonly period: number;
}

/** Which rotation steps (normalized) have keys; the planner asks first with every step keyed. */
type HasKey = (step: number) => boolean;

function bad(message: string): never {
  throw new HeftyError('E_BAD_PROGRAM', message);
}

/** Keyed parts of a rotation (composed in NAF or binary form where the step has no key of its own). */
function partsOf(step: number, slotCount: number, hasKey: HasKey): number[] {
  const parts = composeRotation(step, slotCount, hasKey);
  if (parts === null) bad(`a rotation by ${normalizeStep(step, slotCount)} cannot be composed from the planned keys`);
  return parts;
}

/** Rotate-and-add over `width` slots (steps 1, 2, 4, …, width/2), as ckks-ops rotateSumMany runs it. */
function rotateSum(width: number, slotCount: number, hasKey: HasKey): { galoisSteps: number[]; rotations: number } {
  const steps = new Set<number>();
  let rotations = 0;
  for (let s = 1; s < width; s *= 2) {
    const parts = partsOf(s, slotCount, hasKey);
    parts.forEach((p) => steps.add(p));
    rotations += parts.length;
  }
  return { galoisSteps: [...steps], rotations };
}

function polynomialCostFor(step: Step & { op: 'polyval' | 'activation' }): PolynomialCost {
  if (step.op === 'polyval') return polynomialCostOf(step.coeffs, { basis: step.basis, interval: step.interval });
  const { coeffs, interval } = activationPolynomial(step.fn, { interval: step.interval, degree: step.degree });
  return polynomialCostOf(coeffs, { basis: 'chebyshev', interval });
}

/**
 * What one op costs on BFV or BGV (integer-vector.ts, restated as numbers). `levels` counts multiplicative depth,
 * what consumes the noise budget: products with ciphertexts and with plain vectors (masks and matrix diagonals
 * included; a plain vector costs a little less than a ciphertext, counted the same); scalars and additions are
 * almost free. Rotations cycle through one batching row (slotCount / 2); a column swap (rotateColumns, and a sum
 * reaching the second row) uses the galois key of step 0.
 */
function integerOpCost(step: Step, args: readonly Value[], slotCount: number, hasKey: HasKey): OpCost {
  const [x, y] = args;
  const rowSize = slotCount / 2;
  const chunks = Math.ceil(x.length / slotCount);
  const same = { length: x.length, period: rowSize };
  const none = { levels: 0, galoisSteps: [], rotations: 0, multiplications: 0 };
  const full = x.length === chunks * slotCount;
  const sumOf = (length: number) => {
    const rows = rotateSum(nextPowerOfTwo(Math.min(length, rowSize)), rowSize, hasKey);
    const columns = length > rowSize || chunks > 1;
    return {
      galoisSteps: columns ? [...rows.galoisSteps, 0] : rows.galoisSteps,
      rotations: rows.rotations + (columns ? 1 : 0),
    };
  };
  const isVector = y !== undefined && y.kind === 'vector';
  switch (step.op) {
    case 'add':
    case 'sub':
      return { ...none, ...same, clean: x.clean && (!isVector || y.clean) };
    case 'negate':
      return { ...none, ...same, clean: x.clean };
    case 'mul':
      return {
        ...none,
        ...same,
        levels: y.kind === 'scalar' ? 0 : 1,
        multiplications: isVector ? chunks : 0,
        clean: !isVector || x.clean || y.clean,
      };
    case 'square':
      return { ...none, ...same, levels: 1, multiplications: chunks, clean: x.clean };
    case 'rotate': {
      const parts = partsOf(step.steps, rowSize, hasKey);
      return { ...none, ...same, galoisSteps: parts, rotations: parts.length, clean: full && x.clean };
    }
    case 'rotateColumns':
      return { ...none, ...same, galoisSteps: [0], rotations: 1, clean: full && x.clean };
    case 'sum':
      return { ...none, ...sumOf(x.length), levels: x.clean ? 0 : 1, length: 1, period: rowSize, clean: false };
    case 'dot':
      return {
        ...none,
        ...sumOf(x.length),
        levels: isVector && !x.clean && !y.clean ? 2 : 1,
        multiplications: isVector ? chunks : 0,
        length: 1,
        period: rowSize,
        clean: false,
      };
    case 'polyval': {
      const cost = polynomialCostOf(step.coeffs);
      return { ...none, ...same, levels: cost.levels, multiplications: cost.multiplications * chunks, clean: x.clean };
    }
    case 'matvec': {
      const matrix = args[1];
      if (x.length > rowSize || matrix.length > rowSize)
        bad(`matvec "${step.out}": an integer matrix-vector product takes at most N/2 = ${rowSize} columns and rows`);
      const plan = linearTransformSteps(matrix.length, x.length, rowSize, { inputClean: x.clean, hasKey });
      return {
        ...none,
        levels: 1,
        galoisSteps: plan.galoisSteps,
        rotations: plan.rotations.total,
        length: matrix.length,
        period: rowSize,
        clean: false,
      };
    }
    case 'activation':
      return bad(`${step.op} "${step.out}": the integer schemes have no activation`);
  }
}

function opCost(step: Step, args: readonly Value[], slotCount: number, hasKey: HasKey): OpCost {
  const [x, y] = args;
  const chunks = Math.ceil(x.length / slotCount);
  const same = { length: x.length, period: x.period };
  const none = { galoisSteps: [], rotations: 0, multiplications: 0 };
  // A sum masks an unclean vector first (a plaintext product: one level), then rotates and adds.
  const sumOf = (v: { clean: boolean; length: number }) => ({
    levels: v.clean ? 0 : 1,
    ...rotateSum(nextPowerOfTwo(Math.min(v.length, slotCount)), slotCount, hasKey),
  });
  // ct × ct: the product repeats with the larger period, zero where that factor is zero.
  const product = (a: Value, b: Value) => {
    if (b.kind !== 'vector') return { clean: true, period: a.period };
    const [small, large] = a.period <= b.period ? [a, b] : [b, a];
    return { clean: large.clean || (small.period === large.period && small.clean), period: large.period };
  };
  switch (step.op) {
    case 'add':
    case 'sub':
      if (y.kind !== 'vector') return { ...none, ...same, levels: 0, clean: x.clean };
      return {
        ...none,
        levels: 0,
        length: x.length,
        clean: x.period === y.period && x.clean && y.clean,
        period: Math.max(x.period, y.period),
      };
    case 'negate':
      return { ...none, ...same, levels: 0, clean: x.clean };
    case 'mul':
      return {
        ...none,
        levels: 1,
        multiplications: y.kind === 'vector' ? chunks : 0,
        length: x.length,
        ...product(x, y),
      };
    case 'square':
      return { ...none, ...same, levels: 1, multiplications: chunks, clean: x.clean };
    case 'rotate': {
      const parts = partsOf(step.steps, slotCount, hasKey);
      // A vector rotates within its period; it stays clean only if it fills the period.
      return {
        ...same,
        levels: 0,
        galoisSteps: parts,
        rotations: parts.length,
        multiplications: 0,
        clean: x.length === x.period,
      };
    }
    case 'sum':
      return { ...sumOf(x), multiplications: 0, length: 1, clean: false, period: slotCount };
    case 'dot': {
      const sum = sumOf({ clean: product(x, y).clean, length: x.length });
      return {
        ...sum,
        levels: 1 + sum.levels,
        multiplications: y.kind === 'vector' ? chunks : 0,
        length: 1,
        clean: false,
        period: slotCount,
      };
    }
    case 'polyval':
    case 'activation': {
      const cost = polynomialCostFor(step);
      return { ...none, ...same, levels: cost.levels, multiplications: cost.multiplications * chunks, clean: x.clean };
    }
    case 'matvec': {
      const matrix = args[1];
      const plan = linearTransformSteps(matrix.length, x.length, slotCount, {
        inputPeriod: x.period,
        inputClean: x.clean,
        hasKey,
      });
      return {
        levels: plan.levels,
        galoisSteps: plan.galoisSteps,
        rotations: plan.rotations.total,
        multiplications: 0,
        length: matrix.length,
        clean: true,
        period: plan.outputChunks > 1 ? slotCount : plan.outputPeriod,
      };
    }
    case 'rotateColumns':
      return bad(`rotateColumns "${step.out}": CKKS has no rotateColumns`);
  }
}

function operandValue(operand: Operand, values: Map<string, Value>): Value {
  if (typeof operand === 'string') {
    const value = values.get(operand);
    if (!value) bad(`unknown value "${operand}"`);
    return value;
  }
  return typeof operand.const === 'number'
    ? { kind: 'scalar', length: 1, depth: 0, clean: true, period: 0 }
    : { kind: 'plain', length: operand.const.length, depth: 0, clean: true, period: 0 };
}

/**
 * Levels, steps and key switches of a validated program at this slot count. On BFV and BGV (`scheme`), levels
 * are the multiplicative depth and rotation steps are row steps (in [0, slotCount / 2); 0 is the column swap).
 */
export function programCost(
  program: Program,
  inputs: Readonly<Record<string, InputSize>>,
  slotCount: number,
  hasKey: HasKey = () => true,
  scheme: Scheme = 'ckks',
): ProgramCost {
  const costOf = isIntegerScheme(scheme) ? integerOpCost : opCost;
  const fresh = { depth: 0, clean: true, period: slotCount };
  const values = new Map<string, Value>();
  for (const [name, kind] of Object.entries(program.inputs)) {
    if (kind === 'scalar') {
      values.set(name, { kind, length: 1, ...fresh });
      continue;
    }
    const size = inputs[name];
    if (kind === 'matrix') {
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0))
        bad(`the planner needs the size of matrix input "${name}" as [rows, cols]`);
      values.set(name, { kind, length: size[0], cols: size[1], ...fresh });
    } else if (kind === 'plain' && size === undefined) {
      // A plain vector has the length of the vector it meets (the evaluation checks that they match).
      values.set(name, { kind, length: -1, ...fresh });
    } else {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
        bad(`the planner needs the length of input "${name}" (a positive integer)`);
      values.set(name, { kind, length: size, ...fresh });
    }
  }
  const steps: StepPlan[] = [];
  const allSteps = new Set<number>();
  let levels = 0;
  let rotations = 0;
  let multiplications = 0;
  for (const step of program.steps) {
    const args = step.args.map((a: Operand) => operandValue(a, values));
    if (step.op === 'matvec') {
      const matrix =
        typeof step.matrix === 'string'
          ? operandValue(step.matrix, values)
          : { kind: 'matrix' as const, length: step.matrix.length, cols: step.matrix[0].length, ...fresh };
      if (matrix.cols !== args[0].length)
        bad(`matvec "${step.out}": the matrix has ${matrix.cols} columns, the vector ${args[0].length} elements`);
      args.push(matrix);
    } else if (args[1] && args[1].kind !== 'scalar' && args[1].length >= 0 && args[1].length !== args[0].length) {
      bad(`${step.op} "${step.out}": operand lengths ${args[0].length} and ${args[1].length} differ`);
    }
    const cost = costOf(step, args, slotCount, hasKey);
    const depth = Math.max(...args.filter((a) => a.kind === 'vector').map((a) => a.depth)) + cost.levels;
    values.set(step.out, { kind: 'vector', length: cost.length, depth, clean: cost.clean, period: cost.period });
    for (const s of cost.galoisSteps) allSteps.add(s);
    levels = Math.max(levels, depth);
    rotations += cost.rotations;
    multiplications += cost.multiplications;
    steps.push({
      out: step.out,
      op: step.op,
      levels: cost.levels,
      depth,
      galoisSteps: [...new Set(cost.galoisSteps)].sort((a, b) => a - b),
      rotations: cost.rotations,
      multiplications: cost.multiplications,
    });
  }
  return { levels, galoisSteps: [...allSteps].sort((a, b) => a - b), rotations, multiplications, steps };
}

// ---- parameters ----

/** The chain for `levels` rescales: a first prime holding scale + integer part, one prime per level, special. */
export function coefficientChain(levels: number, scaleBits: number, integerBits: number): number[] {
  const first = Math.min(MAX_PRIME_BITS, scaleBits + integerBits);
  // The special prime is at least as large as every other, so key switching adds no noise above the scale.
  const special = Math.max(first, scaleBits);
  return [first, ...new Array<number>(levels).fill(scaleBits), special];
}

function checkBits(value: number, name: string, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high)
    throw new HeftyError('E_INVALID_ARGUMENT', `${name} must be an integer in [${low}, ${high}]`);
  return value;
}

/**
 * Plans a validated program: the smallest N (of POLY_MODULUS_DEGREES, up to the maximum) whose security limit
 * holds the chain the program's levels need, and the keys it needs there.
 */
export function planProgram(program: Program, options: PlanOptions, maxBits: MaxCoeffModulusBits): ProgramPlan {
  if (options === null || typeof options !== 'object' || typeof options.inputs !== 'object' || options.inputs === null)
    throw new HeftyError('E_INVALID_ARGUMENT', 'planning needs options with the input sizes: { inputs: { x: 784 } }');
  const scaleBits = checkBits(options.scaleBits ?? 40, 'scaleBits', 20, MAX_PRIME_BITS);
  const integerBits = checkBits(options.integerBits ?? 20, 'integerBits', 0, 40);
  const security = options.security ?? 128;
  if (![128, 192, 256].includes(security))
    throw new HeftyError('E_INVALID_ARGUMENT', `unknown security level ${String(security)}`);
  const budget = options.maxKeyBytes ?? KEY_BUDGET_BYTES;
  const maxN = options.maxPolyModulusDegree ?? 32768;
  const candidates = POLY_MODULUS_DEGREES.filter((n) =>
    options.polyModulusDegree !== undefined ? n === options.polyModulusDegree : n <= maxN,
  );
  if (candidates.length === 0)
    throw new HeftyError('E_INVALID_PARAMS', `polyModulusDegree must be one of ${POLY_MODULUS_DEGREES.join(', ')}`);

  let largest: { n: number; levels: number } | undefined;
  let needed = 0;
  let overBudget: { n: number; bytes: number } | undefined;
  for (const n of candidates) {
    const slotCount = n / 2;
    const cost = programCost(program, options.inputs, slotCount);
    needed = cost.levels;
    const limit = maxBits(n, security);
    const fits = Math.floor(
      (limit - coefficientChain(0, scaleBits, integerBits).reduce((a, b) => a + b, 0)) / scaleBits,
    );
    largest = { n, levels: Math.max(-1, fits) };
    if (fits < cost.levels) continue;
    const chain = coefficientChain(cost.levels, scaleBits, integerBits);
    const relinKeys = cost.multiplications > 0;
    const bytesFor = (c: ProgramCost) =>
      keySetBytes({ polyModulusDegree: n, coeffModulusBits: chain, galoisKeys: c.galoisSteps.length, relinKeys });
    // Keys for every exact step; over the budget, ±powers of two (SEAL's default set) that compose them; then
    // positive powers of two alone (at most log2(slots) keys).
    const signed = new Set(powerOfTwoSteps(slotCount));
    const bases: [ProgramPlan['keyBasis'], HasKey][] = [
      ['exact', () => true],
      ['power-of-two', (step) => signed.has(step)],
      ['positive-power-of-two', (step) => (step & (step - 1)) === 0],
    ];
    let chosen: { basis: ProgramPlan['keyBasis']; cost: ProgramCost; bytes: KeySetBytes } | undefined;
    for (const [basis, hasKey] of bases) {
      const keyed = basis === 'exact' ? cost : programCost(program, options.inputs, slotCount, hasKey);
      const bytes = bytesFor(keyed);
      if (bytes.seededZstd <= budget) {
        chosen = { basis, cost: keyed, bytes };
        break;
      }
      overBudget = { n, bytes: bytes.seededZstd };
    }
    if (!chosen) break;
    return {
      ...chosen.cost,
      scheme: 'ckks',
      polyModulusDegree: n,
      slotCount,
      coeffModulusBits: chain,
      scaleBits,
      security,
      maxLevels: fits,
      keyBasis: chosen.basis,
      relinKeys,
      keyBytes: chosen.bytes,
    };
  }
  if (overBudget) {
    throw new HeftyError(
      'E_INVALID_PARAMS',
      `the program's keys at N=${overBudget.n} take about ${megabytes(overBudget.bytes)} (seeded, zstd), over the ` +
        `${megabytes(budget)} budget; raise maxKeyBytes or use fewer levels or rotations`,
    );
  }
  throw new HeftyError(
    'E_LEVEL_EXHAUSTED',
    `the program needs ${needed} levels; the largest chain at ${security}-bit security with ${scaleBits}-bit ` +
      `primes gives ${Math.max(0, largest?.levels ?? 0)} (N=${largest?.n}); lower scaleBits, or the program's depth`,
  );
}

/** BFV and BGV planning: the options of PlanOptions that apply, and the plaintext modulus. */
export interface IntegerPlanOptions extends Omit<PlanOptions, 'scaleBits' | 'integerBits'> {
  /** Bits of the batching plaintext modulus t (default 20): values are integers mod t. */
  readonly plainModulusBits?: number;
}

/** SEAL's default chain for N at a security level (BFVDefault), as bit sizes, special prime last. */
export type DefaultChainBits = (polyModulusDegree: number, security: Exclude<SecurityLevel, 'none'>) => number[];

/**
 * Noise model of the integer schemes (measured with SEAL at t = 2^20, N = 4096…16384, within a few bits):
 * fresh ciphertexts have (data-prime bits − log2 t − 9) bits of budget; a level of depth costs about
 * log2 t + log2 N bits on BFV, and on BGV (which switches down a prime after each product) about 15 bits more,
 * with at most one switch per data prime but the last. The planner keeps MARGIN bits for rotations and additions.
 */
const FRESH_LOSS_BITS = 10;
const BGV_LEVEL_EXTRA_BITS = 16;
const INTEGER_MARGIN_BITS = 20;

/** Plans a validated program for BFV or BGV: the smallest N whose default chain's noise budget holds its depth. */
export function planIntegerProgram(
  program: Program,
  scheme: Exclude<Scheme, 'ckks'>,
  options: IntegerPlanOptions,
  chainBits: DefaultChainBits,
): ProgramPlan {
  if (options === null || typeof options !== 'object' || typeof options.inputs !== 'object' || options.inputs === null)
    throw new HeftyError('E_INVALID_ARGUMENT', 'planning needs options with the input sizes: { inputs: { x: 784 } }');
  const plainBits = checkBits(options.plainModulusBits ?? 20, 'plainModulusBits', 2, MAX_PRIME_BITS);
  const security = options.security ?? 128;
  if (![128, 192, 256].includes(security))
    throw new HeftyError('E_INVALID_ARGUMENT', `unknown security level ${String(security)}`);
  const budget = options.maxKeyBytes ?? KEY_BUDGET_BYTES;
  const maxN = options.maxPolyModulusDegree ?? 32768;
  const candidates = POLY_MODULUS_DEGREES.filter((n) =>
    options.polyModulusDegree !== undefined ? n === options.polyModulusDegree : n <= maxN,
  );
  if (candidates.length === 0)
    throw new HeftyError('E_INVALID_PARAMS', `polyModulusDegree must be one of ${POLY_MODULUS_DEGREES.join(', ')}`);
  let needed = 0;
  let largest: { n: number; levels: number } | undefined;
  let overBudget: { n: number; bytes: number } | undefined;
  for (const n of candidates) {
    const chain = chainBits(n, security);
    const dataBits = chain.slice(0, -1).reduce((a, b) => a + b, 0);
    const fresh = dataBits - plainBits - FRESH_LOSS_BITS;
    const perLevel = plainBits + Math.log2(n) + 1 + (scheme === 'bgv' ? BGV_LEVEL_EXTRA_BITS : 0);
    let fits = Math.max(0, Math.floor((fresh - INTEGER_MARGIN_BITS) / perLevel));
    if (scheme === 'bgv') fits = Math.min(fits, chain.length - 2);
    largest = { n, levels: fits };
    const cost = programCost(program, options.inputs, n, () => true, scheme);
    needed = cost.levels;
    if (fits < cost.levels) continue;
    const relinKeys = cost.multiplications > 0;
    const rowSize = n / 2;
    const signed = new Set(powerOfTwoSteps(rowSize));
    const bases: [ProgramPlan['keyBasis'], HasKey][] = [
      ['exact', () => true],
      ['power-of-two', (step) => signed.has(step)],
      ['positive-power-of-two', (step) => (step & (step - 1)) === 0],
    ];
    for (const [basis, hasKey] of bases) {
      const keyed = basis === 'exact' ? cost : programCost(program, options.inputs, n, hasKey, scheme);
      const bytes = keySetBytes({
        polyModulusDegree: n,
        coeffModulusBits: chain,
        galoisKeys: keyed.galoisSteps.length,
        relinKeys,
      });
      if (bytes.seededZstd > budget) {
        overBudget = { n, bytes: bytes.seededZstd };
        continue;
      }
      return {
        ...keyed,
        scheme,
        polyModulusDegree: n,
        slotCount: n,
        coeffModulusBits: chain,
        scaleBits: 0,
        plainModulusBits: plainBits,
        noiseBudget: { fresh, consumed: Math.ceil(cost.levels * perLevel) },
        security,
        maxLevels: fits,
        keyBasis: basis,
        relinKeys,
        keyBytes: bytes,
      };
    }
  }
  if (overBudget) {
    throw new HeftyError(
      'E_INVALID_PARAMS',
      `the program's keys at N=${overBudget.n} take about ${megabytes(overBudget.bytes)} (seeded, zstd), over the ` +
        `${megabytes(budget)} budget; raise maxKeyBytes or use fewer rotations`,
    );
  }
  throw new HeftyError(
    'E_LEVEL_EXHAUSTED',
    `the program has multiplicative depth ${needed}; the noise budget of ${scheme.toUpperCase()} at ` +
      `${security}-bit security with a ${plainBits}-bit t holds ${largest?.levels ?? 0} (N=${largest?.n}); ` +
      "lower plainModulusBits, or the program's depth",
  );
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
