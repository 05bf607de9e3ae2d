/**
 * Evaluates a validated program over named inputs. Intermediate vectors are disposed as soon as the program is
 * done with them; only the outputs survive.
 */
import { HeftyError } from '../errors.ts';
import { isIntegerScheme } from '../backend/types.ts';
import { CKKSVector, toFiniteArray, type CkksOperand } from './ckks-vector.ts';
import { programCost, type InputSize } from './he/planner.ts';
import { IntegerVector, toBigInts, type IntegerOperand } from './integer-vector.ts';
import { checkMatrix, type Operand, type Program, type Step } from './program.ts';
import type { Session } from './session.ts';

/** Encrypted inputs are CKKSVectors on CKKS contexts, IntegerVectors on BFV and BGV; plain inputs are numbers. */
export type ProgramInput =
  CKKSVector | IntegerVector | number | bigint | ArrayLike<number | bigint> | ArrayLike<ArrayLike<number>>;

/** What a program's outputs are: the context's kind of vector. */
export type ProgramVector = CKKSVector | IntegerVector;

type Value = ProgramVector | number | bigint | Float64Array | BigInt64Array | readonly (readonly number[])[];

export interface RunHooks {
  /** Called after each step with its op and duration, for metrics. */
  onStep?: (op: Step['op'], milliseconds: number) => void;
  /**
   * Encrypted inputs above the level the program needs are first dropped to it (every key switch and product
   * is then cheaper, and outputs are smaller); true keeps them where they are, e.g. to compute further on the
   * outputs afterwards.
   */
  keepInputLevels?: boolean;
}

function bindInputs(
  session: Session,
  program: Program,
  inputs: Readonly<Record<string, ProgramInput>>,
): Map<string, Value> {
  if (inputs === null || typeof inputs !== 'object') throw new HeftyError('E_BAD_PROGRAM', 'inputs must be an object');
  const values = new Map<string, Value>();
  const integer = isIntegerScheme(session.scheme);
  const Vector = integer ? IntegerVector : CKKSVector;
  for (const [name, kind] of Object.entries(program.inputs)) {
    // Own properties only: a name like "constructor" must not find Object.prototype's member.
    const value = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    if (value === undefined) throw new HeftyError('E_BAD_PROGRAM', `input "${name}" is missing`);
    if (integer && kind !== 'vector') {
      values.set(name, integerInput(name, kind, value));
      continue;
    }
    switch (kind) {
      case 'vector':
        if (!(value instanceof Vector))
          throw new HeftyError('E_BAD_PROGRAM', `input "${name}" must be an encrypted vector`);
        if (value.session !== session)
          throw new HeftyError('E_PARAMS_MISMATCH', `input "${name}" belongs to another context`);
        values.set(name, value);
        break;
      case 'scalar':
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw new HeftyError('E_BAD_PROGRAM', `input "${name}" must be a finite number`);
        values.set(name, value);
        break;
      case 'plain':
        if (
          typeof value !== 'object' ||
          value instanceof CKKSVector ||
          value instanceof IntegerVector ||
          !('length' in value)
        ) {
          throw new HeftyError('E_BAD_PROGRAM', `input "${name}" must be an array of numbers`);
        }
        values.set(name, toFiniteArray(value as ArrayLike<number>, `input "${name}"`));
        break;
      case 'matrix':
        values.set(
          name,
          checkMatrix(
            Array.from(value as ArrayLike<ArrayLike<number>>, (r) => Array.from(r)),
            `input "${name}"`,
          ),
        );
        break;
    }
  }
  return values;
}

/** A plain input of an integer program: integers only (bigint or safe integers), taken mod t by the vector ops. */
function integerInput(name: string, kind: 'plain' | 'scalar' | 'matrix', value: ProgramInput): Value {
  const what = `input "${name}"`;
  try {
    if (kind === 'scalar') {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      throw new HeftyError('E_BAD_PROGRAM', `${what} must be an integer`);
    }
    if (typeof value !== 'object' || value instanceof CKKSVector || value instanceof IntegerVector)
      throw new HeftyError('E_BAD_PROGRAM', `${what} must be an array of integers`);
    if (kind === 'plain') return toBigInts(value as ArrayLike<number | bigint>, what);
    const rows = checkMatrix(
      Array.from(value as ArrayLike<ArrayLike<number>>, (r) => Array.from(r)),
      what,
    );
    for (const row of rows) toBigInts(row, `${what} row`);
    return rows;
  } catch (e) {
    throw e instanceof HeftyError && e.code !== 'E_BAD_PROGRAM' ? new HeftyError('E_BAD_PROGRAM', e.message) : e;
  }
}

function resolve(values: Map<string, Value>, operand: Operand): CkksOperand {
  if (typeof operand === 'string') {
    const value = values.get(operand);
    if (value === undefined) throw new HeftyError('E_BAD_PROGRAM', `unknown value "${operand}"`);
    if (Array.isArray(value)) throw new HeftyError('E_BAD_PROGRAM', `"${operand}" is a matrix`);
    return value as CkksOperand;
  }
  return typeof operand.const === 'number' ? operand.const : Float64Array.from(operand.const);
}

/** The operand of an integer step: a vector, a plain integer vector or an integer. */
function resolveInteger(values: Map<string, Value>, operand: Operand): IntegerOperand {
  if (typeof operand !== 'string') return typeof operand.const === 'number' ? operand.const : operand.const;
  const value = values.get(operand);
  if (value === undefined) throw new HeftyError('E_BAD_PROGRAM', `unknown value "${operand}"`);
  if (Array.isArray(value)) throw new HeftyError('E_BAD_PROGRAM', `"${operand}" is a matrix`);
  return value as IntegerOperand;
}

/** One step of a BFV or BGV program (the validator has refused the ops these schemes do not have). */
function evaluateIntegerStep(step: Step, values: Map<string, Value>): IntegerVector {
  const x = resolveInteger(values, step.args[0]) as IntegerVector;
  switch (step.op) {
    case 'add':
      return x.add(resolveInteger(values, step.args[1]));
    case 'sub':
      return x.sub(resolveInteger(values, step.args[1]));
    case 'mul':
      return x.mul(resolveInteger(values, step.args[1]));
    case 'dot': {
      const y = resolveInteger(values, step.args[1]);
      if (typeof y === 'number' || typeof y === 'bigint')
        throw new HeftyError('E_BAD_PROGRAM', 'dot needs a vector operand');
      return x.dot(y);
    }
    case 'negate':
      return x.negate();
    case 'square':
      return x.square();
    case 'sum':
      return x.sum();
    case 'rotate':
      return x.rotate(step.steps);
    case 'rotateColumns':
      return x.rotateColumns();
    case 'polyval':
      return x.polyval(step.coeffs);
    case 'matvec': {
      const matrix = typeof step.matrix === 'string' ? values.get(step.matrix) : step.matrix;
      return x.matvec(matrix as readonly (readonly number[])[]);
    }
    case 'activation':
      throw new HeftyError('E_BAD_PROGRAM', `${x.session.scheme.toUpperCase()} has no ${step.op}`);
  }
}

/** Key-switching steps go through the async variants, so the session may batch them on the GPU. */
async function evaluateStep(step: Step, values: Map<string, Value>): Promise<CKKSVector> {
  const x = resolve(values, step.args[0]) as CKKSVector;
  switch (step.op) {
    case 'add':
      return x.add(resolve(values, step.args[1]));
    case 'sub':
      return x.sub(resolve(values, step.args[1]));
    case 'mul':
      return x.mulAsync(resolve(values, step.args[1]));
    case 'dot': {
      const y = resolve(values, step.args[1]);
      if (typeof y === 'number') throw new HeftyError('E_BAD_PROGRAM', 'dot needs a vector operand');
      return x.dotAsync(y);
    }
    case 'negate':
      return x.negate();
    case 'square':
      return x.squareAsync();
    case 'sum':
      return x.sumAsync();
    case 'rotate':
      return x.rotateAsync(step.steps);
    case 'polyval':
      return x.polyvalAsync(step.coeffs, { basis: step.basis, interval: step.interval });
    case 'activation':
      return x.activationAsync(step.fn, { interval: step.interval, degree: step.degree });
    case 'matvec': {
      const matrix = typeof step.matrix === 'string' ? values.get(step.matrix) : step.matrix;
      return x.matvecAsync(matrix as readonly (readonly number[])[]);
    }
    case 'rotateColumns':
      throw new HeftyError('E_BAD_PROGRAM', 'CKKS has no rotateColumns');
  }
}

/** The planner's level count for the bound inputs' sizes; undefined where it cannot plan them. */
function levelsNeeded(session: Session, program: Program, values: Map<string, Value>): number | undefined {
  const sizes: Record<string, InputSize> = {};
  for (const [name, kind] of Object.entries(program.inputs)) {
    const value = values.get(name);
    if (value instanceof CKKSVector) sizes[name] = value.length;
    else if (kind === 'matrix' && Array.isArray(value)) sizes[name] = [value.length, value[0].length];
    else if (kind === 'plain' && value instanceof Float64Array) sizes[name] = value.length;
  }
  try {
    return programCost(program, sizes, session.slotCount).levels;
  } catch {
    return undefined;
  }
}

/**
 * An E_LEVEL_EXHAUSTED from a step, with what the whole program needs (the planner's count for these input
 * sizes) and what this context and the inputs have.
 */
function withProgramLevels(
  error: HeftyError,
  session: Session,
  program: Program,
  values: Map<string, Value>,
  step: Step,
): HeftyError {
  const needed = levelsNeeded(session, program, values);
  if (needed === undefined) return error;
  let inputLevels = Infinity;
  for (const name of Object.keys(program.inputs)) {
    const value = values.get(name);
    if (value instanceof CKKSVector) inputLevels = Math.min(inputLevels, value.chainIndex);
  }
  const chain = session.ctx.levels.length > 1 ? session.ctx.levels.length - 2 : 0;
  return new HeftyError(
    'E_LEVEL_EXHAUSTED',
    `step "${step.out}" (${step.op}): ${error.message}. The program needs ${needed} levels; this context's chain ` +
      `has ${chain}${inputLevels < chain ? ` and the inputs arrived with ${inputLevels} left` : ''}. ` +
      'createContext({ program, inputs }) chooses parameters that fit',
    { cause: error },
  );
}

/** Bits the first prime must have above the scale for outputs to be left at the last level. */
const MIN_HEADROOM_BITS = 10;

/** Replaces encrypted inputs above the program's need by copies at that level (recorded in `made`). */
function dropInputs(session: Session, program: Program, values: Map<string, Value>, made: CKKSVector[]): void {
  const needed = levelsNeeded(session, program, values);
  if (needed === undefined) return;
  // Results end at the last level only where its prime leaves room above the scale for their integer part.
  const headroomBits = Math.log2(session.lastPrime(0)) - Math.log2(session.scale);
  const target = headroomBits >= MIN_HEADROOM_BITS ? needed : needed + 1;
  for (const name of Object.keys(program.inputs)) {
    const value = values.get(name);
    if (!(value instanceof CKKSVector) || value.chainIndex <= target) continue;
    const dropped = value.atLevel(target);
    made.push(dropped);
    values.set(name, dropped);
  }
}

/**
 * Runs a validated program (validateProgram with the session's scheme). CKKS steps key-switch through the
 * session's key switcher (GPU batching where on); BFV and BGV steps run on the CPU evaluator.
 */
export async function runProgram(
  session: Session,
  program: Program,
  inputs: Readonly<Record<string, ProgramInput>>,
  hooks: RunHooks = {},
): Promise<Record<string, ProgramVector>> {
  const integer = isIntegerScheme(session.scheme);
  const values = bindInputs(session, program, inputs);
  const produced: ProgramVector[] = [];
  const kept = new Set<ProgramVector>();
  try {
    if (!hooks.keepInputLevels && !integer) dropInputs(session, program, values, produced as CKKSVector[]);
    for (const step of program.steps) {
      const started = performance.now();
      const result = integer
        ? evaluateIntegerStep(step, values)
        : await evaluateStep(step, values).catch((e: unknown) => {
            throw e instanceof HeftyError && e.code === 'E_LEVEL_EXHAUSTED'
              ? withProgramLevels(e, session, program, values, step)
              : e;
          });
      produced.push(result);
      values.set(step.out, result);
      hooks.onStep?.(step.op, performance.now() - started);
    }
    const result: Record<string, ProgramVector> = {};
    for (const name of program.outputs) {
      const value = values.get(name) as ProgramVector;
      // Outputs never alias inputs, so callers may dispose results freely.
      result[name] = produced.includes(value) && !kept.has(value) ? value : value.clone();
      kept.add(result[name]);
    }
    return result;
  } finally {
    for (const v of produced) if (!kept.has(v)) v.dispose();
  }
}
