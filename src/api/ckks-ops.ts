/**
 * Ciphertext-level CKKS helpers with hefty's automatic policy: relinearize after every product, rescale
 * after every multiplication, and align levels and scales before combining two operands.
 * Every function returns new ciphertexts and leaves its inputs alone.
 */
import { HeftyError } from '../errors.ts';
import type { Ciphertext, Plaintext } from '../backend/types.ts';
import type { Session } from './session.ts';

/**
 * Scales that differ by less than this (relative) are treated as equal: rescaling by primes near 2^b leaves
 * drifts of ~1e-8 (40-bit primes) to ~1e-5 (small primes), below CKKS's own precision at those scales.
 */
const SCALE_TOLERANCE = 1e-3;

/** Runs `fn` on a temporary and disposes it afterwards. */
function consume<T>(temp: Ciphertext, fn: (c: Ciphertext) => T): T {
  try {
    return fn(temp);
  } finally {
    temp.dispose();
  }
}

export function dropTo(s: Session, c: Ciphertext, chainIndex: number): Ciphertext {
  if (c.chainIndex === chainIndex) return c.clone();
  if (c.chainIndex < chainIndex) throw new HeftyError('E_INTERNAL', 'cannot raise a ciphertext level');
  return s.evaluator.modSwitchTo(c, s.parmsIdAt(chainIndex));
}

/** Brings `a` and `b` to the same level and scale; the returned pair must be disposed by the caller. */
export function align(s: Session, a: Ciphertext, b: Ciphertext): [Ciphertext, Ciphertext] {
  const level = Math.min(a.chainIndex, b.chainIndex);
  const x = dropTo(s, a, level);
  const y = dropTo(s, b, level);
  if (x.scale === y.scale) return [x, y];
  if (Math.abs(x.scale / y.scale - 1) > SCALE_TOLERANCE) {
    x.dispose();
    y.dispose();
    throw new HeftyError('E_SCALE_MISMATCH', `operand scales ${a.scale} and ${b.scale} are too far apart to combine`);
  }
  return [x, consume(y, (t) => t.withScale(x.scale))];
}

function requireLevel(c: Ciphertext, what: string): void {
  if (c.chainIndex === 0) {
    throw new HeftyError(
      'E_LEVEL_EXHAUSTED',
      `${what} needs a modulus level but the ciphertext is at the last one; use more coefficient-modulus primes`,
    );
  }
}

/** Relinearizes (when size > 2) and rescales a fresh product. */
function finishProduct(s: Session, product: Ciphertext): Ciphertext {
  const relin = product.size > 2 ? consume(product, (p) => s.evaluator.relinearize(p, s.relinKeys)) : product;
  return consume(relin, (r) => s.evaluator.rescaleToNext(r));
}

export function add(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  const [x, y] = align(s, a, b);
  try {
    return s.evaluator.add(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

export function sub(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  const [x, y] = align(s, a, b);
  try {
    return s.evaluator.sub(x, y);
  } finally {
    x.dispose();
    y.dispose();
  }
}

export function multiply(s: Session, a: Ciphertext, b: Ciphertext): Ciphertext {
  if (a === b) return square(s, a);
  requireLevel(a, 'multiplication');
  requireLevel(b, 'multiplication');
  const [x, y] = align(s, a, b);
  try {
    return finishProduct(s, s.evaluator.multiply(x, y));
  } finally {
    x.dispose();
    y.dispose();
  }
}

export function square(s: Session, a: Ciphertext): Ciphertext {
  requireLevel(a, 'squaring');
  return finishProduct(s, s.evaluator.square(a));
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

export function rotate(s: Session, c: Ciphertext, steps: number): Ciphertext {
  const normalized = ((steps % s.slotCount) + s.slotCount) % s.slotCount;
  if (normalized === 0) return c.clone();
  const keys = s.galoisKeys;
  const has = (step: number) => keys.hasKey(s.ctx.galoisElt(step));
  if (has(normalized)) return s.evaluator.rotateVector(c, normalized, keys);
  // Without a key for this exact step, compose it from power-of-two rotations when those keys exist.
  const parts: number[] = [];
  for (let bit = 1; bit < s.slotCount; bit *= 2) if (normalized & bit) parts.push(bit);
  if (!parts.every(has)) {
    throw new HeftyError(
      'E_MISSING_GALOIS_KEY',
      `no galois key for a rotation by ${normalized}; add it to keygen({ galois })`,
    );
  }
  let acc = c.clone();
  for (const step of parts) acc = consume(acc, (a) => s.evaluator.rotateVector(a, step, keys));
  return acc;
}

/**
 * Rotate-and-add over a window of `width` slots (a power of two): slot 0 ends up holding the sum of slots
 * 0..width-1; with width = slotCount every slot holds the total.
 */
export function rotateSum(s: Session, c: Ciphertext, width: number): Ciphertext {
  let acc = c.clone();
  for (let step = 1; step < width; step *= 2) {
    const rotated = rotate(s, acc, step);
    const next = s.evaluator.add(acc, rotated);
    rotated.dispose();
    acc.dispose();
    acc = next;
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
