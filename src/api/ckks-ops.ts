/**
 * Ciphertext-level CKKS helpers with hefty's automatic policy: relinearize after every product, rescale
 * after every multiplication, and align levels and scales before combining two operands.
 * Every function returns new ciphertexts and leaves its inputs alone. Those that key-switch are plans
 * (key-switching.ts) over a list of ciphertexts, so that one request covers all of them.
 */
import { HeftyError } from '../errors.ts';
import type { Ciphertext, Plaintext } from '../backend/types.ts';
import { keySwitch, type Plan } from './key-switching.ts';
import { composeRotation, normalizeStep } from './he/rotations.ts';
import type { Session } from './session.ts';

/**
 * Scales that differ by less than this (relative) are treated as equal: rescaling by primes near 2^b leaves
 * drifts of ~1e-8 (40-bit primes) to ~1e-5 (small primes), below CKKS's own precision at those scales.
 */
const SCALE_TOLERANCE = 1e-3;

/** Maps a list to new ciphertexts and disposes the list (also when `fn` fails). */
export function consumeAll(
  list: readonly Ciphertext[],
  fn: (c: Ciphertext, index: number) => Ciphertext,
): Ciphertext[] {
  try {
    return mapAll(list, fn);
  } finally {
    disposeAll(list);
  }
}

/** Runs `fn` on a temporary and disposes it afterwards. */
function consume<T>(temp: Ciphertext, fn: (c: Ciphertext) => T): T {
  try {
    return fn(temp);
  } finally {
    temp.dispose();
  }
}

export function disposeAll(list: readonly Ciphertext[]): void {
  for (const c of list) c.dispose();
}

/** Maps a list to new ciphertexts; those already made are disposed when one fails. */
export function mapAll<T>(list: readonly T[], fn: (item: T, index: number) => Ciphertext): Ciphertext[] {
  const out: Ciphertext[] = [];
  try {
    list.forEach((item, i) => out.push(fn(item, i)));
  } catch (e) {
    disposeAll(out);
    throw e;
  }
  return out;
}

/** Runs `fn` on temporaries and disposes them afterwards, also when `fn` (a plan) fails. */
export function* consumePlan<T>(temps: Ciphertext[], fn: (list: Ciphertext[]) => Plan<T>): Plan<T> {
  try {
    return yield* fn(temps);
  } finally {
    disposeAll(temps);
  }
}

export function dropTo(s: Session, c: Ciphertext, chainIndex: number): Ciphertext {
  if (c.chainIndex === chainIndex) return c.clone();
  if (c.chainIndex < chainIndex) throw new HeftyError('E_INTERNAL', 'cannot raise a ciphertext level');
  return s.evaluator.modSwitchTo(c, s.parmsIdAt(chainIndex));
}

/** Brings `a` and `b` to the same level (the lower one); the returned pair must be disposed by the caller. */
export function alignLevels(s: Session, a: Ciphertext, b: Ciphertext): [Ciphertext, Ciphertext] {
  const level = Math.min(a.chainIndex, b.chainIndex);
  const x = dropTo(s, a, level);
  try {
    return [x, dropTo(s, b, level)];
  } catch (e) {
    x.dispose();
    throw e;
  }
}

/** Relative distance of an integer ratio from an integer: below this, a plaintext 1 at that scale is exact. */
const EXACT_RATIO = 2 ** -45;

/**
 * Brings `a` and `b` to the same level and scale, for adding; the returned pair must be disposed by the caller.
 * Scales that differ by rounding drift are relabelled. Otherwise the smaller-scale operand is multiplied by a
 * plaintext 1: at the integer ratio of the scales when there is one (exact, no level: 2^40 and 2^30), else
 * encoded at scale × prime / its scale and rescaled (exact, one level).
 */
export function align(s: Session, a: Ciphertext, b: Ciphertext): [Ciphertext, Ciphertext] {
  const [x, y] = alignLevels(s, a, b);
  if (x.scale === y.scale) return [x, y];
  if (Math.abs(x.scale / y.scale - 1) <= SCALE_TOLERANCE) return [x, consume(y, (t) => t.withScale(x.scale))];
  const xIsSmaller = x.scale < y.scale;
  let raised: Ciphertext;
  let other: Ciphertext;
  try {
    [raised, other] = xIsSmaller ? raiseScale(s, x, y) : raiseScale(s, y, x);
  } finally {
    x.dispose();
    y.dispose();
  }
  return xIsSmaller ? [raised, other] : [other, raised];
}

/** `small` brought to `large`'s scale exactly (see align), and `large` at the level that took. */
function raiseScale(s: Session, small: Ciphertext, large: Ciphertext): [Ciphertext, Ciphertext] {
  const ratio = large.scale / small.scale;
  if (Math.abs(Math.round(ratio) - ratio) <= ratio * EXACT_RATIO) {
    const plain = s.ckksEncoder.encodeScalar(1, Math.round(ratio), small.parmsId);
    try {
      return [consume(s.evaluator.multiplyPlain(small, plain), (p) => p.withScale(large.scale)), large.clone()];
    } finally {
      plain.dispose();
    }
  }
  if (small.chainIndex === 0) {
    throw new HeftyError(
      'E_LEVEL_EXHAUSTED',
      `adding operands at scales ${small.scale} and ${large.scale} needs 1 level to align them exactly; ` +
        'the operands have 0 left',
    );
  }
  const prime = s.lastPrime(small.chainIndex);
  const plain = s.ckksEncoder.encodeScalar(1, (large.scale * prime) / small.scale, small.parmsId);
  try {
    const raised = consume(s.evaluator.multiplyPlain(small, plain), (p) => s.evaluator.rescaleToNext(p));
    try {
      return [raised.withScale(large.scale), s.evaluator.modSwitchToNext(large)];
    } finally {
      raised.dispose();
    }
  } finally {
    plain.dispose();
  }
}

function requireLevel(c: Ciphertext, what: string): void {
  if (c.chainIndex === 0) {
    throw new HeftyError(
      'E_LEVEL_EXHAUSTED',
      `${what} needs 1 level but the ciphertext has 0 left (it is at the last one); use more coefficient-modulus primes`,
    );
  }
}

/** Relinearizes (when size > 2, in one request) and rescales fresh products; consumes them. */
function* finishProducts(s: Session, products: Ciphertext[]): Plan<Ciphertext[]> {
  const relinearized = yield* consumePlan(products, function* (list): Plan<Ciphertext[]> {
    const large = list.filter((p) => p.size > 2);
    if (large.length === list.length) return yield* keySwitch({ op: 'relinearize', list });
    const done = large.length > 0 ? yield* keySwitch({ op: 'relinearize', list: large }) : [];
    let next = 0;
    return list.map((p) => (p.size > 2 ? done[next++] : p.clone()));
  });
  try {
    return mapAll(relinearized, (r) => s.evaluator.rescaleToNext(r));
  } finally {
    disposeAll(relinearized);
  }
}

export function add(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  if (a.chainIndex === b.chainIndex && a.scale === b.scale) return s.evaluator.add(a, b);
  const [x, y] = align(s, a, b);
  try {
    return s.evaluator.add(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

export function sub(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  if (a.chainIndex === b.chainIndex && a.scale === b.scale) return s.evaluator.sub(a, b);
  const [x, y] = align(s, a, b);
  try {
    return s.evaluator.sub(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** The unrelinearized product (a square when a and b are the same ciphertext). */
function product(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  if (a === b) {
    requireLevel(a, 'squaring');
    return s.evaluator.square(a);
  }
  requireLevel(a, 'multiplication');
  requireLevel(b, 'multiplication');
  // Scales may differ (SEAL allows it): the product's scale is their product.
  const [x, y] = alignLevels(s, a, b);
  try {
    return s.evaluator.multiply(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** a·b for each pair, relinearized together and rescaled. */
export function* multiplyMany(s: Session, pairs: readonly (readonly [Ciphertext, Ciphertext])[]): Plan<Ciphertext[]> {
  return yield* finishProducts(
    s,
    mapAll(pairs, ([a, b]) => product(s, a, b)),
  );
}

export function squareMany(s: Session, list: readonly Ciphertext[]): Plan<Ciphertext[]> {
  return multiplyMany(
    s,
    list.map((c) => [c, c] as const),
  );
}

/** Encodes values at the ciphertext's level and scale, ready to add. */
export function encodeForAdd(s: Session, c: Ciphertext, values: Float64Array): Plaintext {
  return s.ckksEncoder.encode(values, c.scale, c.parmsId);
}

/**
 * Multiplies by plaintext values. The plaintext is encoded at the scale of the prime the rescale removes,
 * so the result keeps exactly the ciphertext's scale.
 */
export function multiplyValues(s: Session, c: Ciphertext, values: Float64Array): Ciphertext {
  requireLevel(c, 'plaintext multiplication');
  const plain = s.ckksEncoder.encode(values, s.lastPrime(c.chainIndex), c.parmsId);
  try {
    return consume(s.evaluator.multiplyPlain(c, plain), (p) => s.evaluator.rescaleToNext(p));
  } finally {
    plain.dispose();
  }
}

/** Multiplies by plaintext values without rescaling (for sums of products that rescale once at the end). */
export function multiplyValuesNoRescale(s: Session, c: Ciphertext, values: Float64Array): Ciphertext {
  requireLevel(c, 'plaintext multiplication');
  const plain = s.ckksEncoder.encode(values, s.lastPrime(c.chainIndex), c.parmsId);
  try {
    return s.evaluator.multiplyPlain(c, plain);
  } finally {
    plain.dispose();
  }
}

/**
 * Rotates every ciphertext by `steps`; a step without its own key is composed from keyed steps (rotations.ts:
 * non-adjacent form over ±powers of two).
 */
export function* rotateMany(s: Session, list: readonly Ciphertext[], steps: number): Plan<Ciphertext[]> {
  const parts = rotationParts(s, steps);
  if (parts.length === 0) return mapAll(list, (c) => c.clone());
  let acc = yield* keySwitch({ op: 'rotate', list, steps: parts[0] });
  for (const step of parts.slice(1)) {
    acc = yield* consumePlan(acc, (current) => keySwitch({ op: 'rotate', list: current, steps: step }));
  }
  return acc;
}

/** Whether the session holds a galois key for this (normalized) rotation step. */
export function hasRotationKey(s: Session): (step: number) => boolean {
  // The keys are looked up at the first question: a plan that rotates by nothing needs none.
  return (step) => s.galoisKeys.hasKey(s.ctx.galoisElt(step));
}

/** The keyed rotations that compose `steps` ([] for none); E_MISSING_GALOIS_KEY when the keys cannot. */
export function rotationParts(s: Session, steps: number): number[] {
  const normalized = normalizeStep(steps, s.rotationSlotCount);
  if (normalized === 0) return [];
  const parts = composeRotation(normalized, s.rotationSlotCount, hasRotationKey(s));
  if (parts === null) {
    throw new HeftyError(
      'E_MISSING_GALOIS_KEY',
      `no galois key for a rotation by ${normalized}, and the keys present cannot compose it; add it to keygen({ galois })`,
    );
  }
  return parts;
}

/**
 * Rotate-and-add over a window of `width` slots (a power of two), for each ciphertext: slot 0 ends up holding
 * the sum of slots 0..width-1; with width = slotCount every slot holds the total.
 */
export function* rotateSumMany(s: Session, list: readonly Ciphertext[], width: number): Plan<Ciphertext[]> {
  let acc = mapAll(list, (c) => c.clone());
  for (let step = 1; step < width; step *= 2) {
    acc = yield* consumePlan(acc, function* (current): Plan<Ciphertext[]> {
      const rotated = yield* rotateMany(s, current, step);
      try {
        return mapAll(current, (c, i) => s.evaluator.add(c, rotated[i]));
      } finally {
        disposeAll(rotated);
      }
    });
  }
  return acc;
}

/** Sum of several ciphertexts, aligned first. */
export function addAll(s: Session, list: readonly Ciphertext[]): Ciphertext {
  let acc = list[0].clone();
  for (const next of list.slice(1)) acc = consume(acc, (a) => add(s, a, next));
  return acc;
}

export { consume };
