/**
 * CKKSVector: an encrypted vector of reals of any length. It is stored as ceil(length / slotCount)
 * ciphertexts ("chunks"); slots past `length` are kept at zero whenever an operation allows it (`clean`), so
 * sums and dot products need no masking. A single-chunk vector may be periodic (`period` p < slotCount: slot j
 * holds v[j mod p], v zero-padded to p): matrix-vector products return that layout, and the next product
 * consumes it directly. Operations return new vectors and never modify their operands.
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
import { evaluateLinearTransform, isPowerOfTwo, nextPowerOfTwo } from './he/linear-transform.ts';
import { evaluatePolynomial, type PolynomialOptions } from './he/polynomial.ts';
import { activationPolynomial, type ActivationName, type ActivationOptions } from './he/chebyshev.ts';

export type CkksOperand = CKKSVector | number | ArrayLike<number>;

export interface EncryptOptions {
  /** Slot period of the encrypted layout (default: the slot count); see CKKSVector.period. */
  period?: number;
}

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

export class CKKSVector implements Disposable {
  readonly session: Session;
  readonly length: number;
  /** True when every slot outside the vector (j mod period ≥ length) is (approximately) zero. */
  readonly clean: boolean;
  /** Slot period: a power of two ≥ length dividing slotCount; slotCount unless a matrix product made it smaller. */
  readonly period: number;
  #chunks: Ciphertext[] | null;

  constructor(session: Session, chunks: Ciphertext[], length: number, clean: boolean, period = session.slotCount) {
    if (!isPowerOfTwo(period) || period > session.slotCount || (chunks.length === 1 && period < length))
      throw new HeftyError('E_INVALID_ARGUMENT', `period ${period} does not fit a vector of length ${length}`);
    if (chunks.length > 1 && period !== session.slotCount)
      throw new HeftyError('E_INVALID_ARGUMENT', 'a vector of several ciphertexts has period slotCount');
    this.session = session;
    this.#chunks = chunks;
    this.length = length;
    this.clean = clean;
    this.period = period;
  }

  static encrypt(session: Session, values: ArrayLike<number>, options: EncryptOptions = {}): CKKSVector {
    const data = toFiniteArray(values);
    if (data.length === 0) throw new HeftyError('E_LENGTH_MISMATCH', 'cannot encrypt an empty vector');
    const period = options.period ?? session.slotCount;
    const fits = data.length > session.slotCount ? period === session.slotCount : period >= data.length;
    if (!isPowerOfTwo(period) || period > session.slotCount || !fits) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `period must be a power of two from the length (${data.length}) to the slot count (${session.slotCount})`,
      );
    }
    const slots = period === session.slotCount ? data : new Float64Array(session.slotCount);
    if (slots !== data) for (let start = 0; start < slots.length; start += period) slots.set(data, start);
    const chunks: Ciphertext[] = [];
    try {
      for (let start = 0; start < slots.length; start += session.slotCount) {
        const plain = session.ckksEncoder.encode(slots.subarray(start, start + session.slotCount), session.scale);
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
    return new CKKSVector(session, chunks, data.length, true, period);
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

  /**
   * A copy brought down to `chainIndex` (modulus switching: no rescale, values unchanged). Everything after
   * runs on fewer primes, so a computation that needs k levels is cheapest started at chain index k.
   */
  atLevel(chainIndex: number): CKKSVector {
    if (!Number.isInteger(chainIndex) || chainIndex < 0 || chainIndex > this.chainIndex) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `chain index ${chainIndex} is not between 0 and the vector's own (${this.chainIndex})`,
      );
    }
    return this.#map((c) => ops.dropTo(this.session, c, chainIndex), this.clean);
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
   * Decrypts and decodes. The default ('rounded') drops the bits below the noise bound, where the noise that
   * would give the secret key away lives (Li–Micciancio), so results are safe to share; `{ protection:
   * 'flooded' }` adds provable noise flooding (κ = 30); `'raw'` is the exact decoding, never to be shared.
   * See decrypt-protection.ts.
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
      ...(this.period !== this.session.slotCount ? { period: this.period } : {}),
      chunks: this.chunks,
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
      // With different periods the product repeats with the larger one, and is zero where that factor is.
      const [small, large] = this.period <= other.period ? [this, other] : [other, this];
      const clean = large.clean || (small.period === large.period && small.clean);
      return new CKKSVector(this.session, chunks, this.length, clean, large.period);
    }
    // Plain factors are zero outside the vector, so the product is clean.
    return this.#map((c, k) => ops.multiplyValues(this.session, c, this.#plainChunk(other, k)), true);
  }

  *#squarePlan(): Plan<CKKSVector> {
    return this.#vector(yield* this.#grouped((group) => ops.squareMany(this.session, group)), this.clean);
  }

  *#rotatePlan(steps: number): Plan<CKKSVector> {
    if (!Number.isSafeInteger(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'rotation steps must be an integer');
    if (this.chunkCount !== 1)
      throw new HeftyError('E_UNSUPPORTED', 'rotation of a vector longer than one ciphertext is not supported');
    // A periodic vector rotates within its period: the result stays periodic, clean only if it fills it.
    const full = this.length === this.period;
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

  /**
   * Evaluates a polynomial element-wise: c0 + c1·x + c2·x² + … (monomial basis, the default), or
   * c0 + c1·T1(y) + c2·T2(y) + … with `{ basis: 'chebyshev', interval: [a, b] }` (y: x mapped from [a, b] to
   * [-1, 1]). Costs ceil(log2(degree + 1)) levels and O(√degree) ciphertext products (he/polynomial.ts).
   */
  polyval(coeffs: ArrayLike<number>, options?: PolynomialOptions): CKKSVector {
    return this.session.runSync(this.#polyvalPlan(coeffs, options));
  }

  polyvalAsync(coeffs: ArrayLike<number>, options?: PolynomialOptions): Promise<CKKSVector> {
    return this.session.run(this.#polyvalPlan(coeffs, options));
  }

  /**
   * A ready Chebyshev approximation of an activation (sigmoid, tanh, gelu, exp, inverse) on its stated interval
   * and degree, or on `{ interval, degree }` of your choice (he/chebyshev.ts lists them with their errors).
   */
  activation(name: ActivationName, options?: ActivationOptions): CKKSVector {
    const { coeffs, interval } = activationPolynomial(name, options);
    return this.polyval(coeffs, { basis: 'chebyshev', interval });
  }

  activationAsync(name: ActivationName, options?: ActivationOptions): Promise<CKKSVector> {
    const { coeffs, interval } = activationPolynomial(name, options);
    return this.polyvalAsync(coeffs, { basis: 'chebyshev', interval });
  }

  /**
   * Plain matrix (rows × length) times this encrypted vector; the result has one element per row. Baby-step/
   * giant-step diagonal method (he/linear-transform.ts): one level, about 2·sqrt(min(rows, length)) rotations;
   * the result is periodic with period rows padded to a power of two, ready for the next product.
   */
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

  *#polyvalPlan(coeffs: ArrayLike<number>, options: PolynomialOptions = {}): Plan<CKKSVector> {
    const c = toFiniteArray(coeffs, 'polynomial coefficients');
    if (c.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'polyval needs at least one coefficient');
    // Added constants cover this vector's elements only (in every period); products keep zero padding zero.
    const chunks = yield* this.#grouped((group, first) =>
      evaluatePolynomial(
        this.session,
        group,
        c,
        (value) =>
          group.map((_, j) =>
            // Where the elements fill every slot, the constant is a scalar (cheaper to encode).
            this.#chunkLength(first + j) === this.period ? value : this.#constantChunk(value, first + j),
          ),
        options,
      ),
    );
    return this.#vector(chunks, this.clean);
  }

  *#matvecPlan(matrix: ArrayLike<ArrayLike<number>>): Plan<CKKSVector> {
    const rows = Array.from(matrix as ArrayLike<ArrayLike<number>>, (row, i) => toFiniteArray(row, `matrix row ${i}`));
    if (rows.length === 0) throw new HeftyError('E_LENGTH_MISMATCH', 'matrix has no rows');
    const out = yield* evaluateLinearTransform(this.session, rows, {
      chunks: this.chunks,
      length: this.length,
      period: this.period,
      clean: this.clean,
    });
    // Rows past the matrix are zero: the result is clean.
    return new CKKSVector(this.session, out.chunks, out.length, true, out.period);
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

  /**
   * Plain operand for chunk k, laid out like the vector: a scalar broadcast over the chunk's elements, or that
   * chunk's slice, repeated in every period; slots outside the vector stay zero.
   */
  #plainChunk(operand: number | ArrayLike<number>, k: number): Float64Array {
    if (typeof operand === 'number') return this.#constantChunk(operand, k);
    const values = toFiniteArray(operand, 'plain operand');
    if (values.length !== this.length) {
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `plain operand has ${values.length} elements, the vector has ${this.length}`,
      );
    }
    return this.#periodic(this.#slice(values, k));
  }

  /** A constant on the chunk's elements (every period), zero elsewhere: what keeps a clean vector clean. */
  #constantChunk(value: number, k: number): Float64Array {
    if (!Number.isFinite(value)) throw new HeftyError('E_NOT_FINITE', 'scalar operands must be finite');
    return this.#periodic(new Float64Array(this.#chunkLength(k)).fill(value));
  }

  /** Values of one period repeated over the slots (as they are when the period is the slot count). */
  #periodic(values: Float64Array): Float64Array {
    if (this.period === this.session.slotCount) return values;
    const out = new Float64Array(this.session.slotCount);
    for (let start = 0; start < out.length; start += this.period) out.set(values, start);
    return out;
  }

  #combine(other: CkksOperand, op: 'add' | 'sub'): CKKSVector {
    const s = this.session;
    if (other instanceof CKKSVector) {
      this.#checkPeer(other);
      const chunks = ops.mapAll(this.chunks, (c, k) => ops[op](s, c, other.chunks[k]));
      // Different periods: the sum repeats with the larger one, and is no longer zero outside the vector.
      const same = this.period === other.period;
      const clean = same && this.clean && other.clean;
      return new CKKSVector(s, chunks, this.length, clean, Math.max(this.period, other.period));
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

  /** Zeroes slots outside the vector (costs one level). */
  #masked(): CKKSVector {
    return this.#map((c, k) => ops.multiplyValues(this.session, c, this.#constantChunk(1, k)), true);
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

  /** A vector of this one's length and period over new chunks. */
  #vector(chunks: Ciphertext[], clean: boolean): CKKSVector {
    return new CKKSVector(this.session, chunks, this.length, clean, this.period);
  }
}
