/** The CKKS operations the interop tests run on both engines, each with its float64 reference. */
import type * as B from '../../src/backend/types.ts';
import type { Engine } from './harness.ts';

export interface Operands {
  readonly cx: B.Ciphertext;
  readonly cy: B.Ciphertext;
  readonly py: B.Plaintext;
}

export interface OpCase {
  readonly name: string;
  readonly run: (e: Engine, o: Operands) => B.Ciphertext;
  readonly expected: (x: readonly number[], y: readonly number[]) => number[];
  /** Whether the op reads evaluation keys (then it also runs with keys moved in their full form). */
  readonly usesKeys?: boolean;
}

const zip = (x: readonly number[], y: readonly number[], f: (a: number, b: number) => number): number[] =>
  x.map((a, i) => f(a, y[i]));
const rotate = (x: readonly number[], k: number): number[] =>
  x.map((_, i) => x[(((i + k) % x.length) + x.length) % x.length]);

export const OPS: readonly OpCase[] = [
  { name: 'add', run: (e, o) => e.evaluator.add(o.cx, o.cy), expected: (x, y) => zip(x, y, (a, b) => a + b) },
  { name: 'sub', run: (e, o) => e.evaluator.sub(o.cx, o.cy), expected: (x, y) => zip(x, y, (a, b) => a - b) },
  { name: 'negate', run: (e, o) => e.evaluator.negate(o.cx), expected: (x) => x.map((a) => -a) },
  {
    name: 'add_plain',
    run: (e, o) => e.evaluator.addPlain(o.cx, o.py),
    expected: (x, y) => zip(x, y, (a, b) => a + b),
  },
  {
    name: 'sub_plain',
    run: (e, o) => e.evaluator.subPlain(o.cx, o.py),
    expected: (x, y) => zip(x, y, (a, b) => a - b),
  },
  { name: 'multiply', run: (e, o) => e.evaluator.multiply(o.cx, o.cy), expected: (x, y) => zip(x, y, (a, b) => a * b) },
  { name: 'square', run: (e, o) => e.evaluator.square(o.cx), expected: (x) => x.map((a) => a * a) },
  {
    name: 'multiply_plain',
    run: (e, o) => e.evaluator.multiplyPlain(o.cx, o.py),
    expected: (x, y) => zip(x, y, (a, b) => a * b),
  },
  {
    name: 'relinearize',
    usesKeys: true,
    run: (e, o) => e.evaluator.relinearize(e.evaluator.multiply(o.cx, o.cy), e.rk),
    expected: (x, y) => zip(x, y, (a, b) => a * b),
  },
  {
    name: 'rescale_to_next',
    usesKeys: true,
    run: (e, o) => e.evaluator.rescaleToNext(e.evaluator.relinearize(e.evaluator.multiply(o.cx, o.cy), e.rk)),
    expected: (x, y) => zip(x, y, (a, b) => a * b),
  },
  { name: 'mod_switch_to_next', run: (e, o) => e.evaluator.modSwitchToNext(o.cx), expected: (x) => [...x] },
  {
    name: 'mod_switch plaintext',
    run: (e, o) => e.evaluator.addPlain(e.evaluator.modSwitchToNext(o.cx), e.evaluator.modSwitchPlainToNext(o.py)),
    expected: (x, y) => zip(x, y, (a, b) => a + b),
  },
  {
    name: 'rotate_vector +1',
    usesKeys: true,
    run: (e, o) => e.evaluator.rotateVector(o.cx, 1, e.gk),
    expected: (x) => rotate(x, 1),
  },
  {
    name: 'rotate_vector -1',
    usesKeys: true,
    run: (e, o) => e.evaluator.rotateVector(o.cx, -1, e.gk),
    expected: (x) => rotate(x, -1),
  },
  {
    name: 'complex_conjugate',
    usesKeys: true,
    run: (e, o) => e.evaluator.complexConjugate(o.cx, e.gk),
    expected: (x) => [...x],
  },
  {
    name: 'add_many',
    run: (e, o) => e.evaluator.addMany([o.cx, o.cy, o.cx]),
    expected: (x, y) => zip(x, y, (a, b) => 2 * a + b),
  },
  {
    name: 'multiply_many',
    usesKeys: true,
    run: (e, o) => e.evaluator.multiplyMany([o.cx, o.cy, o.cx], e.rk),
    expected: (x, y) => zip(x, y, (a, b) => a * a * b),
  },
];

/**
 * multiply_many on two operands (one product, then relinearization): the three-way product's scale does not fit
 * the single rescale level of N=4096's chain.
 */
export const MULTIPLY_MANY_PAIR: OpCase = {
  name: 'multiply_many (two operands)',
  usesKeys: true,
  run: (e, o) => e.evaluator.multiplyMany([o.cx, o.cy], e.rk),
  expected: (x, y) => zip(x, y, (a, b) => a * b),
};
