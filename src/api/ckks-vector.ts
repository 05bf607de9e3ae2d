/**
 * CKKSVector: an encrypted vector of reals of any length. It is stored as ceil(length / slotCount)
 * ciphertexts ("chunks"); slots past `length` are kept at zero whenever an operation allows it (`clean`), so
 * sums and dot products need no masking. Operations return new vectors and never modify their operands.
 * Operations that key-switch (mul, square, rotate, sum, dot, polyval, matvec) have async variants that let the
 * session batch the key switching of all chunks (or matrix rows) of a step, on the GPU where one pays.
 */
import { protectDecryption, type DecryptOptions } from './decrypt-protection.ts';
import { HeftyError } from '../errors.ts';
import type { Ciphertext } from '../backend/types.ts';
import * as ops from './ckks-ops.ts';
import type { Plan } from './key-switching.ts';
import type { Session } from './session.ts';
import { encodeVector } from './vector-wire.ts';

export type CkksOperand = CKKSVector | number | ArrayLike<number>;

export function toFiniteArray(values: ArrayLike<number>, what = 'values'): Float64Array {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
    throw new HeftyError('E_INVALID_ARGUMENT', `${what} must be an array of numbers`);
  const out = Float64Array.from(values as ArrayLike<number>);
  for (const v of out) if (!Number.isFinite(v)) throw new HeftyError('E_NOT_FINITE', `${what} must be finite numbers`);
  return out;
}

/**
 * Most ciphertexts (chunks, or matrix rows) in one key-switching request: large enough for a GPU batch, small
 * enough that a step's temporaries stay bounded however long the vector is.
 */
const REQUEST_GROUP = 64;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class CKKSVector implements Disposable {
  readonly session: Session;
  readonly length: number;
  /** True when every slot past `length` is (approximately) zero. */
  readonly clean: boolean;
  #chunks: Ciphertext[] | null;

  constructor(session: Session, chunks: Ciphertext[], length: number, clean: boolean) {
    this.session = session;
    this.#chunks = chunks;
    this.length = length;
    this.clean = clean;
  }

  static encrypt(session: Session, values: ArrayLike<number>): CKKSVector {
    const data = toFiniteArray(values);
    if (data.length === 0) throw new HeftyError('E_LENGTH_MISMATCH', 'cannot encrypt an empty vector');
    const chunks: Ciphertext[] = [];
    try {
      for (let start = 0; start < data.length; start += session.slotCount) {
        const plain = session.ckksEncoder.encode(data.subarray(start, start + session.slotCount), session.scale);
        try {
          chunks.push(session.encryptor.encrypt(plain));
        } finally {
          plain.dispose();
        }
      }
    } catch (e) {
      for (const c of chunks) c.dispose();
      throw e;
    }
    return new CKKSVector(session, chunks, data.length, true);
  }

  get chunks(): readonly Ciphertext[] {
    if (this.#chunks === null) throw new HeftyError('E_DISPOSED', 'this CKKSVector was disposed');
    return this.#chunks;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Index in the modulus chain: how many more rescales the vector can take. */
  get chainIndex(): number {
    return this.chunks[0].chainIndex;
  }

  get scale(): number {
    return this.chunks[0].scale;
  }

  get disposed(): boolean {
    return this.#chunks === null;
  }

  dispose(): void {
    if (this.#chunks === null) return;
    for (const c of this.#chunks) c.dispose();
    this.#chunks = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Decrypts and decodes. The default ('raw') is the exact decoding: keep it, never share it (the secret key
   * can be recovered from a few raw decryptions). Results that leave the client: `{ protection: 'flooded' }`
   * (noise flooding, κ = 30) or `'rounded'`; see decrypt-protection.ts.
   */
  decrypt(options: DecryptOptions = {}): Float64Array {
    const out = new Float64Array(this.length);
    this.chunks.forEach((c, k) => {
      const plain = this.session.decryptor.decrypt(c);
      try {
        const values = this.session.ckksEncoder.decode(plain);
        out.set(
          values.subarray(0, Math.min(this.session.slotCount, this.length - k * this.session.slotCount)),
          k * this.session.slotCount,
        );
      } finally {
        plain.dispose();
      }
    });
    return protectDecryption(out, { polyModulusDegree: 2 * this.session.slotCount, scale: this.scale }, options);
  }

  /** hefty envelope by default; 'seal' gives the bare SEAL ciphertext (single-chunk vectors only) for node-seal. */
  serialize(format: 'hefty' | 'seal' = 'hefty'): Uint8Array {
    if (format === 'seal') {
      if (this.chunkCount !== 1)
        throw new HeftyError('E_UNSUPPORTED', 'only a single-ciphertext vector has a bare SEAL form');
      return this.chunks[0].save('none');
    }
    return encodeVector({
      scheme: 'ckks',
      length: this.length,
      clean: this.clean,
      chunks: this.chunks.map((c) => c.save('none')),
    });
  }

  clone(): CKKSVector {
    return this.#map((c) => c.clone(), this.clean);
  }

  // ---- element-wise arithmetic ----

  add(other: CkksOperand): CKKSVector {
    return this.#combine(other, 'add');
  }

  sub(other: CkksOperand): CKKSVector {
    return this.#combine(other, 'sub');
  }

  mul(other: CkksOperand): CKKSVector {
    return this.session.runSync(this.#mulPlan(other));
  }

  mulAsync(other: CkksOperand): Promise<CKKSVector> {
    return this.session.run(this.#mulPlan(other));
  }

  negate(): CKKSVector {
    return this.#map((c) => this.session.evaluator.negate(c), this.clean);
  }

  square(): CKKSVector {
    return this.session.runSync(this.#squarePlan());
  }

  squareAsync(): Promise<CKKSVector> {
    return this.session.run(this.#squarePlan());
  }

  /** Cyclic rotation over the ciphertext's slots (SEAL semantics): positive steps rotate left. */
  rotate(steps: number): CKKSVector {
    return this.session.runSync(this.#rotatePlan(steps));
  }

  rotateAsync(steps: number): Promise<CKKSVector> {
    return this.session.run(this.#rotatePlan(steps));
  }

  *#mulPlan(other: CkksOperand): Plan<CKKSVector> {
    if (other instanceof CKKSVector) {
      this.#checkPeer(other);
      const chunks = yield* this.#grouped((group, first) =>
        ops.multiplyMany(
          this.session,
          group.map((c, j) => [c, other.chunks[first + j]] as const),
        ),
      );
      return this.#vector(chunks, this.clean || other.clean);
    }
    // Plain factors are zero past `length`, so the product is clean.
    return this.#map((c, k) => ops.multiplyValues(this.session, c, this.#plainChunk(other, k)), true);
  }

  *#squarePlan(): Plan<CKKSVector> {
    return this.#vector(yield* this.#grouped((group) => ops.squareMany(this.session, group)), this.clean);
  }

  *#rotatePlan(steps: number): Plan<CKKSVector> {
    if (!Number.isSafeInteger(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'rotation steps must be an integer');
    if (this.chunkCount !== 1)
      throw new HeftyError('E_UNSUPPORTED', 'rotation of a vector longer than one ciphertext is not supported');
    const full = this.length === this.session.slotCount;
    return this.#vector(yield* ops.rotateMany(this.session, this.chunks, steps), full);
  }

  // ---- reductions and linear algebra ----

  /** Sum of all elements, in slot 0 of a length-1 vector. */
  sum(): CKKSVector {
    return this.session.runSync(this.#sumPlan());
  }

  sumAsync(): Promise<CKKSVector> {
    return this.session.run(this.#sumPlan());
  }

  dot(other: CKKSVector | ArrayLike<number>): CKKSVector {
    return this.session.runSync(this.#dotPlan(other));
  }

  dotAsync(other: CKKSVector | ArrayLike<number>): Promise<CKKSVector> {
    return this.session.run(this.#dotPlan(other));
  }

  /** Evaluates c0 + c1·x + c2·x² + … element-wise, with multiplicative depth about log2(degree) + 1. */
  polyval(coeffs: ArrayLike<number>): CKKSVector {
    return this.session.runSync(this.#polyvalPlan(coeffs));
  }

  polyvalAsync(coeffs: ArrayLike<number>): Promise<CKKSVector> {
    return this.session.run(this.#polyvalPlan(coeffs));
  }

  /** Plain matrix (rows × length) times this encrypted vector; the result has one element per row. */
  matvec(matrix: ArrayLike<ArrayLike<number>>): CKKSVector {
    return this.session.runSync(this.#matvecPlan(matrix));
  }

  matvecAsync(matrix: ArrayLike<ArrayLike<number>>): Promise<CKKSVector> {
    return this.session.run(this.#matvecPlan(matrix));
  }

  *#sumPlan(): Plan<CKKSVector> {
    const s = this.session;
    const source = this.clean ? this : this.#masked();
    try {
      const total = ops.addAll(s, source.chunks);
      const width = nextPowerOfTwo(Math.min(this.length, s.slotCount));
      const [sum] = yield* ops.consumePlan([total], (t) => ops.rotateSumMany(s, t, width));
      return new CKKSVector(s, [sum], 1, false);
    } finally {
      if (source !== this) source.dispose();
    }
  }

  *#dotPlan(other: CKKSVector | ArrayLike<number>): Plan<CKKSVector> {
    if (typeof other === 'number') throw new HeftyError('E_INVALID_ARGUMENT', 'dot needs a vector');
    const product = yield* this.#mulPlan(other);
    try {
      return yield* product.#sumPlan();
    } finally {
      product.dispose();
    }
  }

  *#polyvalPlan(coeffs: ArrayLike<number>): Plan<CKKSVector> {
    const c = toFiniteArray(coeffs, 'polynomial coefficients');
    if (c.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'polyval needs at least one coefficient');
    const chunks = yield* this.#grouped((group, first) => {
      const lengths = group.map((_, j) => this.#chunkLength(first + j));
      return evaluatePolynomial(this.session, group, c, lengths);
    });
    return this.#vector(chunks, true);
  }

  *#matvecPlan(matrix: ArrayLike<ArrayLike<number>>): Plan<CKKSVector> {
    const s = this.session;
    const rows = Array.from(matrix as ArrayLike<ArrayLike<number>>, (row, i) => toFiniteArray(row, `matrix row ${i}`));
    if (rows.length === 0) throw new HeftyError('E_LENGTH_MISMATCH', 'matrix has no rows');
    if (rows.length > s.slotCount)
      throw new HeftyError('E_LENGTH_MISMATCH', `at most ${s.slotCount} matrix rows are supported`);
    for (const [i, row] of rows.entries()) {
      if (row.length !== this.length) {
        throw new HeftyError(
          'E_LENGTH_MISMATCH',
          `matrix row ${i} has ${row.length} columns, the vector has ${this.length} elements`,
        );
      }
    }
    const source = this.clean ? this : this.#masked();
    const parts: Ciphertext[] = [];
    try {
      // Rows go in groups, so one key-switching request rotates a whole group while memory stays bounded.
      for (let first = 0; first < rows.length; first += REQUEST_GROUP) {
        const group = rows.slice(first, first + REQUEST_GROUP);
        // Row-times-vector over all chunks, rescaled once, then summed into every slot and kept at slot i.
        const rowDots = ops.mapAll(group, (row) => {
          const products = ops.mapAll(source.chunks, (c, k) => ops.multiplyValuesNoRescale(s, c, this.#slice(row, k)));
          try {
            return ops.consume(ops.addAll(s, products), (p) => s.evaluator.rescaleToNext(p));
          } finally {
            ops.disposeAll(products);
          }
        });
        const everywhere = yield* ops.consumePlan(rowDots, (d) => ops.rotateSumMany(s, d, s.slotCount));
        try {
          everywhere.forEach((e, j) => {
            const unit = new Float64Array(first + j + 1);
            unit[first + j] = 1;
            parts.push(ops.multiplyValuesNoRescale(s, e, unit));
          });
        } finally {
          ops.disposeAll(everywhere);
        }
      }
      const combined = ops.addAll(s, parts);
      return new CKKSVector(s, [ops.consume(combined, (c) => s.evaluator.rescaleToNext(c))], rows.length, true);
    } finally {
      ops.disposeAll(parts);
      if (source !== this) source.dispose();
    }
  }

  // ---- helpers ----

  #checkPeer(other: CKKSVector): void {
    if (other.session !== this.session) {
      throw new HeftyError('E_PARAMS_MISMATCH', 'both vectors must come from the same context');
    }
    if (other.length !== this.length) {
      throw new HeftyError('E_LENGTH_MISMATCH', `vector lengths differ: ${this.length} and ${other.length}`);
    }
  }

  #chunkLength(k: number): number {
    return Math.min(this.session.slotCount, this.length - k * this.session.slotCount);
  }

  #slice(values: Float64Array, k: number): Float64Array {
    const start = k * this.session.slotCount;
    return values.subarray(start, start + this.#chunkLength(k));
  }

  /** Plain operand for chunk k: a scalar broadcast over the chunk's elements, or that chunk's slice. */
  #plainChunk(operand: number | ArrayLike<number>, k: number): Float64Array {
    if (typeof operand === 'number') {
      if (!Number.isFinite(operand)) throw new HeftyError('E_NOT_FINITE', 'scalar operands must be finite');
      return new Float64Array(this.#chunkLength(k)).fill(operand);
    }
    const values = toFiniteArray(operand, 'plain operand');
    if (values.length !== this.length) {
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `plain operand has ${values.length} elements, the vector has ${this.length}`,
      );
    }
    return this.#slice(values, k);
  }

  #combine(other: CkksOperand, op: 'add' | 'sub'): CKKSVector {
    const s = this.session;
    if (other instanceof CKKSVector) {
      this.#checkPeer(other);
      return this.#map((c, k) => ops[op](s, c, other.chunks[k]), this.clean && other.clean);
    }
    if (typeof other !== 'number' && (other === null || typeof other !== 'object')) {
      throw new HeftyError('E_INVALID_ARGUMENT', `${op} takes a CKKSVector, a number or an array of numbers`);
    }
    return this.#map((c, k) => {
      const plain = ops.encodeForAdd(s, c, this.#plainChunk(other, k));
      try {
        return op === 'add' ? s.evaluator.addPlain(c, plain) : s.evaluator.subPlain(c, plain);
      } finally {
        plain.dispose();
      }
    }, this.clean);
  }

  /** Zeroes slots past `length` (costs one level). */
  #masked(): CKKSVector {
    return this.#map(
      (c, k) => ops.multiplyValues(this.session, c, new Float64Array(this.#chunkLength(k)).fill(1)),
      true,
    );
  }

  /** A plan over the chunks in groups of REQUEST_GROUP (`first`: the group's first chunk index), concatenated. */
  *#grouped(plan: (group: readonly Ciphertext[], first: number) => Plan<Ciphertext[]>): Plan<Ciphertext[]> {
    const out: Ciphertext[] = [];
    try {
      for (let first = 0; first < this.chunkCount; first += REQUEST_GROUP) {
        out.push(...(yield* plan(this.chunks.slice(first, first + REQUEST_GROUP), first)));
      }
    } catch (e) {
      ops.disposeAll(out);
      throw e;
    }
    return out;
  }

  #map(fn: (c: Ciphertext, k: number) => Ciphertext, clean: boolean): CKKSVector {
    return this.#vector(ops.mapAll(this.chunks, fn), clean);
  }

  /** A vector of this one's length over new chunks. */
  #vector(chunks: Ciphertext[], clean: boolean): CKKSVector {
    return new CKKSVector(this.session, chunks, this.length, clean);
  }
}

/**
 * The polynomial on every chunk at once, so each power's key switching is one request. c·x^k for k ≥ 1 is
 * written as (c·x^r)·x^h with h the largest power of two below k, to save a level.
 */
function* evaluatePolynomial(
  s: Session,
  xs: readonly Ciphertext[],
  coeffs: Float64Array,
  lengths: readonly number[],
): Plan<Ciphertext[]> {
  const powers = new Map<number, Ciphertext[]>([[1, ops.mapAll(xs, (x) => x.clone())]]);
  function* power(m: number): Plan<Ciphertext[]> {
    const known = powers.get(m);
    if (known) return known;
    let h = 1;
    while (h * 2 <= m) h *= 2;
    const result =
      h === m
        ? yield* ops.squareMany(s, yield* power(m / 2))
        : yield* multiplyPowers(yield* power(h), yield* power(m - h));
    powers.set(m, result);
    return result;
  }
  const multiplyPowers = (a: readonly Ciphertext[], b: readonly Ciphertext[]) =>
    ops.multiplyMany(
      s,
      a.map((c, k) => [c, b[k]] as const),
    );
  const broadcast = (value: number, k: number) => new Float64Array(lengths[k]).fill(value);
  const scaledBy = (list: readonly Ciphertext[], value: number) =>
    ops.mapAll(list, (c, k) => ops.multiplyValues(s, c, broadcast(value, k)));
  const terms: Ciphertext[][] = [];
  try {
    for (let k = 1; k < coeffs.length; k++) {
      if (coeffs[k] === 0) continue;
      if (k === 1) {
        terms.push(scaledBy(xs, coeffs[1]));
        continue;
      }
      let h = 1;
      while (h * 2 < k) h *= 2;
      const scaled = scaledBy(yield* power(k - h), coeffs[k]);
      const high = yield* ops.consumePlan(scaled, function* (t): Plan<Ciphertext[]> {
        return yield* multiplyPowers(t, yield* power(h));
      });
      terms.push(high);
    }
    // A constant-only polynomial still yields an encrypted result: 0·x + c0.
    if (terms.length === 0) terms.push(scaledBy(xs, 0));
    const sums = ops.mapAll(xs, (_, k) =>
      ops.addAll(
        s,
        terms.map((t) => t[k]),
      ),
    );
    if (coeffs[0] === 0) return sums;
    try {
      return ops.mapAll(sums, (t, k) => {
        const plain = ops.encodeForAdd(s, t, broadcast(coeffs[0], k));
        try {
          return s.evaluator.addPlain(t, plain);
        } finally {
          plain.dispose();
        }
      });
    } finally {
      ops.disposeAll(sums);
    }
  } finally {
    for (const t of terms) ops.disposeAll(t);
    for (const p of powers.values()) ops.disposeAll(p);
  }
}
