/**
 * Programs: a small JSON op graph over named inputs. The same form runs in `ctx.run`, in pool batch jobs and
 * in the HTTP service, so it is plain data (no functions) and validated before anything is evaluated.
 *
 * {
 *   "inputs": { "x": "vector", "w": "plain" },
 *   "steps": [
 *     { "out": "y", "op": "matvec", "args": ["x"], "matrix": [[1, 2], [3, 4]] },
 *     { "out": "z", "op": "polyval", "args": ["y"], "coeffs": [0.5, 0.25] }
 *   ],
 *   "outputs": ["z"]
 * }
 *
 * Programs are scheme-neutral data; what a scheme can run is checked when the scheme is known (`ctx.run`, the
 * pool and the service pass it): CKKS has no `rotateColumns`; BFV and BGV (exact integers mod t) have no
 * `activation`, polyval only in the monomial basis, and every constant, coefficient and matrix entry an integer.
 */
import { HeftyError } from '../errors.ts';
import { isIntegerScheme, type Scheme } from '../backend/types.ts';
import { ACTIVATIONS, type ActivationName } from './he/chebyshev.ts';
import type { PolynomialBasis } from './he/polynomial.ts';

/** vector: an encrypted vector; plain: a plaintext number vector; scalar: one number; matrix: rows of numbers. */
export type InputKind = 'vector' | 'plain' | 'scalar' | 'matrix';

/** An operand reference: a named input/step value, or an inline constant. */
export type Operand = string | { const: number | readonly number[] };

export type Step =
  | { out: string; op: 'add' | 'sub' | 'mul' | 'dot'; args: readonly [Operand, Operand]; reusable?: boolean }
  | { out: string; op: 'negate' | 'square' | 'sum'; args: readonly [string]; reusable?: boolean }
  /** BFV and BGV: swap the two rows of the batching matrix. */
  | { out: string; op: 'rotateColumns'; args: readonly [string]; reusable?: boolean }
  | { out: string; op: 'rotate'; args: readonly [string]; steps: number; reusable?: boolean }
  | {
      out: string;
      op: 'polyval';
      args: readonly [string];
      coeffs: readonly number[];
      /** Default 'monomial'; 'chebyshev' takes an optional interval (default [-1, 1]). */
      basis?: PolynomialBasis;
      interval?: readonly [number, number];
      reusable?: boolean;
    }
  | {
      out: string;
      op: 'activation';
      args: readonly [string];
      /** A ready Chebyshev approximation (he/chebyshev.ts); interval and degree override its defaults. */
      fn: ActivationName;
      interval?: readonly [number, number];
      degree?: number;
      reusable?: boolean;
    }
  | {
      out: string;
      op: 'matvec';
      args: readonly [string];
      matrix: string | readonly (readonly number[])[];
      reusable?: boolean;
    };

export type StepOp = Step['op'];

export interface Program {
  readonly inputs: Readonly<Record<string, InputKind>>;
  readonly steps: readonly Step[];
  readonly outputs: readonly string[];
}

export const PROGRAM_LIMITS = {
  maxSteps: 256,
  maxInputs: 64,
  /** Levels decide at run time (a degree-d polynomial needs ceil(log2(d+1))); 8191 takes N=32768's 13 levels. */
  maxPolyDegree: 8191,
  maxMatrixRows: 1024,
  maxConstLength: 1 << 16,
  maxNameLength: 64,
} as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const INPUT_KINDS: readonly InputKind[] = ['vector', 'plain', 'scalar', 'matrix'];
const BINARY_OPS = new Set(['add', 'sub', 'mul', 'dot']);
const UNARY_OPS = new Set(['negate', 'square', 'sum', 'rotate', 'rotateColumns', 'polyval', 'activation', 'matvec']);
const CKKS_ONLY_OPS = new Set(['activation']);
const INTEGER_ONLY_OPS = new Set(['rotateColumns']);

function bad(message: string): never {
  throw new HeftyError('E_BAD_PROGRAM', message);
}

/** A value named in an error message, whatever it is (String() throws on objects like { toString: 'x' }). */
function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.slice(0, PROGRAM_LIMITS.maxNameLength))
    : `(a ${typeof value})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length > PROGRAM_LIMITS.maxNameLength || !NAME.test(name)) {
    bad(`${what} must be a name matching ${NAME} (at most ${PROGRAM_LIMITS.maxNameLength} characters)`);
  }
  return name;
}

function checkFiniteArray(value: unknown, what: string, maxLength: number): readonly number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > maxLength) {
    bad(`${what} must be a non-empty array of at most ${maxLength} numbers`);
  }
  for (const v of value) if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${what} must hold finite numbers`);
  return value as number[];
}

/** What kind of value each name holds while the program runs. */
type ValueKind = InputKind;

function operandKind(operand: unknown, kinds: Map<string, ValueKind>, where: string): ValueKind {
  if (typeof operand === 'string') {
    const kind = kinds.get(operand);
    if (kind === undefined) bad(`${where}: unknown value "${operand}"`);
    return kind;
  }
  if (isRecord(operand) && 'const' in operand && Object.keys(operand).length === 1) {
    const c = operand.const;
    if (typeof c === 'number') {
      if (!Number.isFinite(c)) bad(`${where}: constants must be finite`);
      return 'scalar';
    }
    checkFiniteArray(c, `${where}: const`, PROGRAM_LIMITS.maxConstLength);
    return 'plain';
  }
  return bad(`${where}: an operand is a value name or {"const": number | number[]}`);
}

/**
 * Checks shape, names, references and limits; returns the program typed. Everything that can be decided
 * without data is decided here, so evaluation errors are about data (lengths, levels, keys) only. With a
 * `scheme`, also that the scheme has every op and (BFV, BGV) that every number is an integer (E_BAD_PROGRAM).
 */
export function validateProgram(input: unknown, scheme?: Scheme): Program {
  if (!isRecord(input)) bad('a program is an object with inputs, steps and outputs');
  const { inputs, steps, outputs } = input;
  if (!isRecord(inputs)) bad('program.inputs must be an object of name → kind');
  if (!Array.isArray(steps)) bad('program.steps must be an array');
  if (!Array.isArray(outputs) || outputs.length === 0) bad('program.outputs must be a non-empty array of names');
  const inputNames = Object.keys(inputs);
  if (inputNames.length > PROGRAM_LIMITS.maxInputs) bad(`at most ${PROGRAM_LIMITS.maxInputs} inputs`);
  if (steps.length > PROGRAM_LIMITS.maxSteps) bad(`at most ${PROGRAM_LIMITS.maxSteps} steps`);

  const kinds = new Map<string, ValueKind>();
  for (const name of inputNames) {
    checkName(name, 'input name');
    const kind = inputs[name];
    if (!INPUT_KINDS.includes(kind as InputKind)) bad(`input "${name}" kind must be one of ${INPUT_KINDS.join(', ')}`);
    kinds.set(name, kind as InputKind);
  }

  steps.forEach((raw, index) => {
    const where = `step ${index}`;
    if (!isRecord(raw)) bad(`${where} must be an object`);
    const out = checkName(raw.out, `${where}.out`);
    if (kinds.has(out)) bad(`${where}: "${out}" is already defined`);
    const op = raw.op;
    if (typeof op !== 'string' || !(BINARY_OPS.has(op) || UNARY_OPS.has(op)))
      bad(`${where}: unknown op ${describe(op)}`);
    if (scheme !== undefined) checkSchemeOp(raw, op, scheme, where);
    if (!Array.isArray(raw.args)) bad(`${where}.args must be an array`);
    const arity = BINARY_OPS.has(op) ? 2 : 1;
    if (raw.args.length !== arity) bad(`${where}: ${op} takes ${arity} argument(s)`);
    const argKinds = raw.args.map((a: unknown) => operandKind(a, kinds, where));
    if (argKinds[0] !== 'vector') bad(`${where}: the first argument of ${op} must be an encrypted vector`);
    if (arity === 2 && argKinds[1] === 'matrix') bad(`${where}: ${op} does not take a matrix`);
    if (arity === 1 && typeof raw.args[0] !== 'string') bad(`${where}: the argument of ${op} must be a value name`);
    if (raw.reusable !== undefined && typeof raw.reusable !== 'boolean') bad(`${where}.reusable must be a boolean`);
    switch (op) {
      case 'rotate':
        if (!Number.isSafeInteger(raw.steps)) bad(`${where}: rotate needs an integer "steps"`);
        break;
      case 'polyval':
        checkFiniteArray(raw.coeffs, `${where}.coeffs`, PROGRAM_LIMITS.maxPolyDegree + 1);
        if (raw.basis !== undefined && raw.basis !== 'monomial' && raw.basis !== 'chebyshev')
          bad(`${where}.basis must be "monomial" or "chebyshev"`);
        if (raw.interval !== undefined) {
          if (raw.basis !== 'chebyshev') bad(`${where}: an interval needs "basis": "chebyshev"`);
          checkInterval(raw.interval, `${where}.interval`);
        }
        break;
      case 'activation':
        if (typeof raw.fn !== 'string' || !Object.hasOwn(ACTIVATIONS, raw.fn))
          bad(`${where}.fn must be one of ${Object.keys(ACTIVATIONS).join(', ')}`);
        if (raw.interval !== undefined) checkInterval(raw.interval, `${where}.interval`);
        if (
          raw.degree !== undefined &&
          (!Number.isSafeInteger(raw.degree) ||
            (raw.degree as number) < 1 ||
            (raw.degree as number) > PROGRAM_LIMITS.maxPolyDegree)
        )
          bad(`${where}.degree must be an integer from 1 to ${PROGRAM_LIMITS.maxPolyDegree}`);
        break;
      case 'matvec':
        if (typeof raw.matrix === 'string') {
          if (kinds.get(raw.matrix) !== 'matrix') bad(`${where}: "${raw.matrix}" is not a matrix input`);
        } else {
          checkMatrix(raw.matrix, `${where}.matrix`);
        }
        break;
    }
    kinds.set(out, 'vector');
  });

  for (const name of outputs) {
    if (typeof name !== 'string' || kinds.get(name) !== 'vector')
      bad(`output ${describe(name)} is not an encrypted value`);
  }
  return input as unknown as Program;
}

/** What the scheme cannot run (ops, bases) and, on the integer schemes, numbers that are not integers. */
function checkSchemeOp(raw: Record<string, unknown>, op: string, scheme: Scheme, where: string): void {
  const integer = isIntegerScheme(scheme);
  if ((integer && CKKS_ONLY_OPS.has(op)) || (!integer && INTEGER_ONLY_OPS.has(op)))
    bad(`${where}: ${scheme.toUpperCase()} has no ${op}`);
  if (!integer) return;
  if (op === 'polyval' && (raw.basis ?? 'monomial') !== 'monomial')
    bad(`${where}: ${scheme.toUpperCase()} evaluates polynomials in the monomial basis only (integer coefficients)`);
  const integers = (value: unknown, what: string): void => {
    const list = Array.isArray(value) ? value.flat() : [value];
    if (!list.every((v) => typeof v !== 'number' || Number.isSafeInteger(v)))
      bad(`${where}: ${what} must be integers on ${scheme.toUpperCase()} (safe integers, taken mod t)`);
  };
  if (op === 'polyval') integers(raw.coeffs, 'polynomial coefficients');
  if (op === 'matvec' && Array.isArray(raw.matrix)) integers(raw.matrix, 'matrix entries');
  if (Array.isArray(raw.args))
    for (const arg of raw.args) if (isRecord(arg) && 'const' in arg) integers(arg.const, 'constants');
}

function checkInterval(value: unknown, what: string): void {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !(value[0] < value[1])
  )
    bad(`${what} must be [a, b] with finite numbers a < b`);
}

/** Checks a plaintext matrix: rows × columns of finite numbers, rectangular. */
export function checkMatrix(value: unknown, what: string): readonly (readonly number[])[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > PROGRAM_LIMITS.maxMatrixRows) {
    bad(`${what} must be a non-empty array of at most ${PROGRAM_LIMITS.maxMatrixRows} rows`);
  }
  const width = Array.isArray(value[0]) ? value[0].length : 0;
  for (const row of value) {
    checkFiniteArray(row, `${what} row`, PROGRAM_LIMITS.maxConstLength);
    if ((row as unknown[]).length !== width) bad(`${what} rows must all have the same length`);
  }
  return value as number[][];
}

/**
 * Rotation steps a program needs galois keys for. Sums, dot products and matvec rotate by powers of two
 * (below slotCount); `rotate` needs its own step. Servers generate or demand exactly these keys.
 */
export function programGaloisSteps(program: Program, slotCount: number, scheme: Scheme = 'ckks'): number[] {
  const steps = new Set<number>();
  // BFV and BGV rotate within a batching row of slotCount / 2; step 0 is their column swap (sums use it too).
  const integer = isIntegerScheme(scheme);
  const cycle = integer ? slotCount / 2 : slotCount;
  for (const step of validateProgram(program, scheme).steps) {
    if (step.op === 'sum' || step.op === 'dot' || step.op === 'matvec') {
      for (let s = 1; s < cycle; s *= 2) steps.add(s);
      if (integer && step.op !== 'matvec') steps.add(0);
    } else if (step.op === 'rotate') {
      const normalized = ((step.steps % cycle) + cycle) % cycle;
      if (normalized !== 0) steps.add(normalized);
    } else if (step.op === 'rotateColumns') {
      steps.add(0);
    }
  }
  return [...steps].sort((a, b) => a - b);
}
