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
import type { SecurityLevel } from '../../backend/types.ts';
import type { Operand, Program, Step } from '../program.ts';
import { keySetBytes, type KeySetBytes } from './key-size.ts';

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
  /** Exact rotation steps (normalized to [0, slotCount)), sorted. */
  readonly galoisSteps: readonly number[];
  readonly rotations: number;
  readonly multiplications: number;
  readonly steps: readonly StepPlan[];
}

export interface ProgramPlan extends ProgramCost {
  readonly polyModulusDegree: number;
  readonly slotCount: number;
  /** Bit sizes of the chain: first prime, one prime per level, special prime last. */
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
  readonly security: Exclude<SecurityLevel, 'none'>;
  /** The most levels a chain at this N, security and precision could hold. */
  readonly maxLevels: number;
  /** Galois keys to generate: the exact steps, or power-of-two steps that compose them when those are too big. */
  readonly keySteps: readonly number[];
  readonly keyBasis: 'exact' | 'power-of-two';
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
  /** Slots past the length hold zeros (vectors only): sums need no mask. */
  readonly clean: boolean;
}

/** What one op costs given its operands; the evaluation's own rules (ckks-vector.ts), restated as numbers. */
interface OpCost {
  readonly levels: number;
  readonly galoisSteps: readonly number[];
  readonly rotations: number;
  readonly multiplications: number;
  readonly length: number;
  readonly clean: boolean;
}

function bad(message: string): never {
  throw new HeftyError('E_BAD_PROGRAM', message);
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Rotate-and-add over `width` slots: steps 1, 2, 4, …, width/2. */
function rotateSumSteps(width: number): number[] {
  const steps: number[] = [];
  for (let s = 1; s < width; s *= 2) steps.push(s);
  return steps;
}

/** Levels and ciphertext products of today's polyval: c·x^k as (c·x^(k−h))·x^h, h the largest power of two < k. */
function polyvalCost(coeffs: readonly number[]): { levels: number; multiplications: number } {
  const powerDepth = new Map<number, number>([[1, 0]]);
  const depthOf = (m: number): number => {
    const known = powerDepth.get(m);
    if (known !== undefined) return known;
    let h = 1;
    while (h * 2 <= m) h *= 2;
    const depth = h === m ? depthOf(m / 2) + 1 : Math.max(depthOf(h), depthOf(m - h)) + 1;
    powerDepth.set(m, depth);
    return depth;
  };
  let levels = 0;
  let termProducts = 0;
  for (let k = 1; k < coeffs.length; k++) {
    if (coeffs[k] === 0) continue;
    if (k === 1) {
      levels = Math.max(levels, 1);
      continue;
    }
    let h = 1;
    while (h * 2 < k) h *= 2;
    levels = Math.max(levels, Math.max(depthOf(k - h) + 1, depthOf(h)) + 1);
    termProducts++;
  }
  // A constant-only polynomial is 0·x + c0: one scalar product.
  return { levels: Math.max(levels, 1), multiplications: termProducts + powerDepth.size - 1 };
}

function opCost(step: Step, args: readonly Value[], slotCount: number): OpCost {
  const [x, y] = args;
  const chunks = Math.ceil(x.length / slotCount);
  const none = { galoisSteps: [], rotations: 0, multiplications: 0 };
  const sumOf = (clean: boolean, length: number) => {
    const steps = rotateSumSteps(nextPowerOfTwo(Math.min(length, slotCount)));
    // An unclean vector is masked first (a plaintext product: one level).
    return { levels: clean ? 0 : 1, galoisSteps: steps, rotations: steps.length };
  };
  switch (step.op) {
    case 'add':
    case 'sub':
      return { ...none, levels: 0, length: x.length, clean: x.clean && (y.kind !== 'vector' || y.clean) };
    case 'negate':
      return { ...none, levels: 0, length: x.length, clean: x.clean };
    case 'mul': {
      const products = y.kind === 'vector' ? chunks : 0;
      return {
        ...none,
        levels: 1,
        multiplications: products,
        length: x.length,
        clean: y.kind !== 'vector' || x.clean || y.clean,
      };
    }
    case 'square':
      return { ...none, levels: 1, multiplications: chunks, length: x.length, clean: x.clean };
    case 'rotate': {
      const normalized = ((step.steps % slotCount) + slotCount) % slotCount;
      const steps = normalized === 0 ? [] : [normalized];
      return {
        levels: 0,
        galoisSteps: steps,
        rotations: steps.length,
        multiplications: 0,
        length: x.length,
        clean: x.length === slotCount,
      };
    }
    case 'sum':
      return { ...sumOf(x.clean, x.length), multiplications: 0, length: 1, clean: false };
    case 'dot': {
      const productClean = y.kind !== 'vector' || x.clean || y.clean;
      const sum = sumOf(productClean, x.length);
      return {
        ...sum,
        levels: 1 + sum.levels,
        multiplications: y.kind === 'vector' ? chunks : 0,
        length: 1,
        clean: false,
      };
    }
    case 'polyval': {
      const cost = polyvalCost(step.coeffs);
      return {
        ...none,
        levels: cost.levels,
        multiplications: cost.multiplications * chunks,
        length: x.length,
        clean: true,
      };
    }
    case 'matvec': {
      const rows = args[1].length;
      if (rows > slotCount) bad(`matvec "${step.out}": at most ${slotCount} matrix rows at this ring degree`);
      // Row dot products (one rescale), rotate-and-add over every slot, a unit-vector mask (one rescale).
      const steps = rotateSumSteps(slotCount);
      return {
        levels: (x.clean ? 0 : 1) + 2,
        galoisSteps: steps,
        rotations: rows * steps.length,
        multiplications: 0,
        length: rows,
        clean: true,
      };
    }
  }
}

function operandValue(operand: Operand, values: Map<string, Value>): Value {
  if (typeof operand === 'string') {
    const value = values.get(operand);
    if (!value) bad(`unknown value "${operand}"`);
    return value;
  }
  return typeof operand.const === 'number'
    ? { kind: 'scalar', length: 1, depth: 0, clean: true }
    : { kind: 'plain', length: operand.const.length, depth: 0, clean: true };
}

/** Levels, steps and key switches of a validated program at this slot count. */
export function programCost(
  program: Program,
  inputs: Readonly<Record<string, InputSize>>,
  slotCount: number,
): ProgramCost {
  const values = new Map<string, Value>();
  for (const [name, kind] of Object.entries(program.inputs)) {
    if (kind === 'scalar') {
      values.set(name, { kind, length: 1, depth: 0, clean: true });
      continue;
    }
    const size = inputs[name];
    if (kind === 'matrix') {
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0))
        bad(`the planner needs the size of matrix input "${name}" as [rows, cols]`);
      values.set(name, { kind, length: size[0], cols: size[1], depth: 0, clean: true });
    } else if (kind === 'plain' && size === undefined) {
      // A plain vector has the length of the vector it meets (the evaluation checks that they match).
      values.set(name, { kind, length: -1, depth: 0, clean: true });
    } else {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
        bad(`the planner needs the length of input "${name}" (a positive integer)`);
      values.set(name, { kind, length: size, depth: 0, clean: true });
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
          : { kind: 'matrix' as const, length: step.matrix.length, cols: step.matrix[0].length, depth: 0, clean: true };
      if (matrix.cols !== args[0].length)
        bad(`matvec "${step.out}": the matrix has ${matrix.cols} columns, the vector ${args[0].length} elements`);
      args.push(matrix);
    } else if (args[1] && args[1].kind !== 'scalar' && args[1].length >= 0 && args[1].length !== args[0].length) {
      bad(`${step.op} "${step.out}": operand lengths ${args[0].length} and ${args[1].length} differ`);
    }
    const cost = opCost(step, args, slotCount);
    const depth = Math.max(...args.filter((a) => a.kind === 'vector').map((a) => a.depth)) + cost.levels;
    values.set(step.out, { kind: 'vector', length: cost.length, depth, clean: cost.clean });
    for (const s of cost.galoisSteps) allSteps.add(s);
    levels = Math.max(levels, depth);
    rotations += cost.rotations;
    multiplications += cost.multiplications;
    steps.push({
      out: step.out,
      op: step.op,
      levels: cost.levels,
      depth,
      galoisSteps: cost.galoisSteps,
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

/** Power-of-two steps whose compositions give every one of `steps` (its binary form). */
function powerOfTwoBasis(steps: readonly number[]): number[] {
  const basis = new Set<number>();
  for (const step of steps) for (let bit = 1; bit <= step; bit *= 2) if (step & bit) basis.add(bit);
  return [...basis].sort((a, b) => a - b);
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
    const bytesFor = (steps: readonly number[]) =>
      keySetBytes({ polyModulusDegree: n, coeffModulusBits: chain, galoisKeys: steps.length, relinKeys });
    let keySteps: readonly number[] = cost.galoisSteps;
    let keyBasis: ProgramPlan['keyBasis'] = 'exact';
    let keyBytes = bytesFor(keySteps);
    if (keyBytes.seededZstd > budget) {
      keySteps = powerOfTwoBasis(cost.galoisSteps);
      keyBasis = 'power-of-two';
      keyBytes = bytesFor(keySteps);
    }
    if (keyBytes.seededZstd > budget) {
      overBudget = { n, bytes: keyBytes.seededZstd };
      break;
    }
    return {
      ...cost,
      polyModulusDegree: n,
      slotCount,
      coeffModulusBits: chain,
      scaleBits,
      security,
      maxLevels: fits,
      keySteps,
      keyBasis,
      relinKeys,
      keyBytes,
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

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
