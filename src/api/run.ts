/**
 * Evaluates a validated program over named inputs. Intermediate vectors are disposed as soon as the program is
 * done with them; only the outputs survive.
 */
import { HeftyError } from '../errors.ts';
import { CKKSVector, toFiniteArray, type CkksOperand } from './ckks-vector.ts';
import { checkMatrix, type Operand, type Program, type Step } from './program.ts';
import type { Session } from './session.ts';

export type ProgramInput = CKKSVector | number | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

type Value = CKKSVector | number | Float64Array | readonly (readonly number[])[];

export interface RunHooks {
  /** Called after each step with its op and duration, for metrics. */
  onStep?: (op: Step['op'], milliseconds: number) => void;
}

function bindInputs(
  session: Session,
  program: Program,
  inputs: Readonly<Record<string, ProgramInput>>,
): Map<string, Value> {
  if (inputs === null || typeof inputs !== 'object') throw new HeftyError('E_BAD_PROGRAM', 'inputs must be an object');
  const values = new Map<string, Value>();
  for (const [name, kind] of Object.entries(program.inputs)) {
    const value = inputs[name];
    if (value === undefined) throw new HeftyError('E_BAD_PROGRAM', `input "${name}" is missing`);
    switch (kind) {
      case 'vector':
        if (!(value instanceof CKKSVector))
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
        if (typeof value !== 'object' || value instanceof CKKSVector || !('length' in value)) {
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

function resolve(values: Map<string, Value>, operand: Operand): CkksOperand {
  if (typeof operand === 'string') {
    const value = values.get(operand);
    if (value === undefined) throw new HeftyError('E_BAD_PROGRAM', `unknown value "${operand}"`);
    if (Array.isArray(value)) throw new HeftyError('E_BAD_PROGRAM', `"${operand}" is a matrix`);
    return value as CkksOperand;
  }
  return typeof operand.const === 'number' ? operand.const : Float64Array.from(operand.const);
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
  }
}

export async function runProgram(
  session: Session,
  program: Program,
  inputs: Readonly<Record<string, ProgramInput>>,
  hooks: RunHooks = {},
): Promise<Record<string, CKKSVector>> {
  if (session.scheme !== 'ckks') throw new HeftyError('E_UNSUPPORTED', 'programs run on CKKS contexts');
  const values = bindInputs(session, program, inputs);
  const produced: CKKSVector[] = [];
  const kept = new Set<CKKSVector>();
  try {
    for (const step of program.steps) {
      const started = performance.now();
      const result = await evaluateStep(step, values);
      produced.push(result);
      values.set(step.out, result);
      hooks.onStep?.(step.op, performance.now() - started);
    }
    const result: Record<string, CKKSVector> = {};
    for (const name of program.outputs) {
      const value = values.get(name) as CKKSVector;
      // Outputs never alias inputs, so callers may dispose results freely.
      result[name] = produced.includes(value) && !kept.has(value) ? value : value.clone();
      kept.add(result[name]);
    }
    return result;
  } finally {
    for (const v of produced) if (!kept.has(v)) v.dispose();
  }
}
