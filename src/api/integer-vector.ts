/**
 * IntegerVector: an encrypted vector of exact integers modulo the plaintext modulus t, on BFV or BGV (the same
 * API over both schemes). Values are signed: they decrypt into (-t/2, t/2]. Every operation is exact mod t as
 * long as the noise budget lasts (`noiseBudget()`; 0 means decryption is no longer correct).
 *
 * Layout. A ciphertext holds N slots as SEAL's 2×(N/2) batching matrix: elements 0..N/2-1 of a chunk fill row 0,
 * elements N/2..N-1 row 1; longer vectors span several ciphertexts (chunks). Rotations (`rotate`) move slots
 * within each row, both rows together; `rotateColumns` swaps the rows. Slots past `length` are zero while the
 * vector is `clean` (fresh encryptions, sums, products with plain values); operations that may leave other values
 * there (rotations, matrix products) clear the flag, and `sum`/`dot` mask them out first.
 */
import { HeftyError } from '../errors.ts';
import type { Ciphertext, Plaintext } from '../backend/types.ts';
import * as ops from './ckks-ops.ts';
import { keySwitch, type Plan } from './key-switching.ts';
import { centered, evaluateIntegerPolynomial } from './he/integer-polynomial.ts';
import { evaluateLinearTransform, nextPowerOfTwo, type DiagonalArithmetic } from './he/linear-transform.ts';
import type { Session } from './session.ts';
import { encodeVector } from './vector-wire.ts';

export type IntegerValues = ArrayLike<number | bigint>;
export type IntegerOperand = IntegerVector | number | bigint | IntegerValues;

export function toBigInts(values: IntegerValues, what: string): BigInt64Array {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
    throw new HeftyError('E_INVALID_ARGUMENT', `${what} must be an array of integers`);
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toBigInt(values[i], what);
  return out;
}

function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n)
      throw new HeftyError('E_VALUE_OUT_OF_RANGE', `${what} must fit 64 bits`);
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new HeftyError(
    typeof v === 'number' && !Number.isFinite(v) ? 'E_NOT_FINITE' : 'E_INVALID_ARGUMENT',
    `${what} must be integers`,
  );
}

export class IntegerVector implements Disposable {
  readonly session: Session;
  readonly length: number;
  readonly clean: boolean;
  #chunks: Ciphertext[] | null;

  constructor(session: Session, chunks: Ciphertext[], length: number, clean: boolean) {
    this.session = session;
    this.#chunks = chunks;
    this.length = length;
    this.clean = clean;
  }

  static encrypt(session: Session, values: IntegerValues): IntegerVector {
    const data = toBigInts(values, 'values');
    if (data.length === 0) throw new HeftyError('E_LENGTH_MISMATCH', 'cannot encrypt an empty vector');
    const chunks: Ciphertext[] = [];
    try {
      for (let start = 0; start < data.length; start += session.slotCount) {
        const plain = session.batchEncoder.encode(data.subarray(start, start + session.slotCount));
        try {
          chunks.push(session.encryptor.encrypt(plain));
        } finally {
          plain.dispose();
        }
      }
    } catch (e) {
      ops.disposeAll(chunks);
      throw e;
    }
    return new IntegerVector(session, chunks, data.length, true);
  }

  get chunks(): readonly Ciphertext[] {
    if (this.#chunks === null) throw new HeftyError('E_DISPOSED', 'this vector was disposed');
    return this.#chunks;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Position in the modulus chain (0 = last level); `modSwitchToNext` lowers it. */
  get chainIndex(): number {
    return this.chunks[0].chainIndex;
  }

  get disposed(): boolean {
    return this.#chunks === null;
  }

  dispose(): void {
    if (this.#chunks === null) return;
    ops.disposeAll(this.#chunks);
    this.#chunks = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  clone(): IntegerVector {
    return this.#map((c) => c.clone(), this.clean);
  }

  decrypt(): BigInt64Array {
    const out = new BigInt64Array(this.length);
    this.chunks.forEach((c, k) => {
      const plain = this.session.decryptor.decrypt(c);
      try {
        out.set(this.session.batchEncoder.decode(plain).subarray(0, this.#chunkLength(k)), k * this.session.slotCount);
      } finally {
        plain.dispose();
      }
    });
    return out;
  }

  /** Remaining noise budget in bits of the noisiest chunk (needs the secret key); 0: no longer decryptable. */
  noiseBudget(): number {
    return Math.min(...this.chunks.map((c) => this.session.decryptor.invariantNoiseBudget(c)));
  }

  serialize(format: 'hefty' | 'seal' = 'hefty'): Uint8Array {
    if (format === 'seal') {
      if (this.chunks.length !== 1)
        throw new HeftyError('E_UNSUPPORTED', 'only a single-ciphertext vector has a bare SEAL form');
      return this.chunks[0].save('none');
    }
    return encodeVector({
      scheme: this.session.scheme,
      length: this.length,
      clean: this.clean,
      chunks: this.chunks,
    });
  }

  add(other: IntegerOperand): IntegerVector {
    return this.#combine(other, 'add');
  }

  sub(other: IntegerOperand): IntegerVector {
    return this.#combine(other, 'sub');
  }

  /** Product with a vector (relinearized), plain values or a scalar. */
  mul(other: IntegerOperand): IntegerVector {
    if (other instanceof IntegerVector) {
      this.#checkPeer(other);
      return this.#products(other);
    }
    const s = this.session;
    return this.#map((c, k) => this.#withPlain(other, k, (p) => s.evaluator.multiplyPlain(c, p)), true);
  }

  square(): IntegerVector {
    return this.#products(this);
  }

  negate(): IntegerVector {
    return this.#map((c) => this.session.evaluator.negate(c), this.clean);
  }

  /**
   * Rotates each chunk's two batching rows (N/2 slots each) left by `steps` (right when negative), as SEAL's
   * rotate_rows does: slot i of a row takes slot i + steps of the same row. A step without its own galois key is
   * composed from the keys of its non-adjacent form (SEAL's default power-of-two keys cover every step). The
   * length is unchanged; slots past it that rotate in carry whatever those slots held (zeros for clean vectors).
   */
  rotate(steps: number): IntegerVector {
    if (!Number.isSafeInteger(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'steps must be an integer');
    const s = this.session;
    const full = this.length === this.chunks.length * s.slotCount;
    return this.#fromPlan(ops.rotateMany(s, this.chunks, steps), this.length, full && this.clean);
  }

  /** SEAL's name for `rotate`. */
  rotateRows(steps: number): IntegerVector {
    return this.rotate(steps);
  }

  /** Swaps each chunk's two batching rows (slot i and slot i + N/2 trade places); needs the galois key of step 0. */
  rotateColumns(): IntegerVector {
    const s = this.session;
    const full = this.length === this.chunks.length * s.slotCount;
    return this.#map((c) => s.evaluator.rotateColumns(c, s.galoisKeys), full && this.clean);
  }

  /**
   * The sum of all elements mod t, in slot 0 of a length-1 vector. Chunks are added, then each row is summed by
   * log2 rotate-and-adds over the smallest power-of-two window holding the vector's part of a row, and when the
   * vector reaches the second row the rows are added by one column swap. An unclean vector is masked first.
   */
  sum(): IntegerVector {
    const source = this.clean ? this : this.mul(1);
    try {
      return source.#fromPlan(source.#sumPlan(), 1, false);
    } finally {
      if (source !== this) source.dispose();
    }
  }

  /** Σ this[i]·other[i] mod t, in slot 0 of a length-1 vector. */
  dot(other: IntegerVector | IntegerValues): IntegerVector {
    const product = this.mul(other);
    try {
      return product.sum();
    } finally {
      product.dispose();
    }
  }

  /**
   * matrix (rows × length, integers) × this vector, exactly mod t, by the diagonal method with baby-step/giant-step
   * rotations of he/linear-transform.ts over one batching row: the vector and the result each fit one row
   * (length and rows ≤ N/2). Element i of the result is Σ_j matrix[i][j]·x[j]; the result's slots past its
   * length hold copies of it (period: rows padded to a power of two), so it is not clean.
   */
  matvec(matrix: ArrayLike<ArrayLike<number | bigint>>): IntegerVector {
    const s = this.session;
    const rowSize = s.rotationSlotCount;
    const rows = integerMatrix(matrix, s);
    if (this.chunks.length !== 1 || this.length > rowSize || rows.length > rowSize) {
      throw new HeftyError(
        'E_UNSUPPORTED',
        `an integer matrix-vector product takes a vector and a result of at most N/2 = ${rowSize} elements (one batching row)`,
      );
    }
    const plan = evaluateLinearTransform(
      s,
      rows,
      { chunks: this.chunks, length: this.length, period: rowSize, clean: this.clean },
      integerArithmetic(s),
    );
    const out = s.runSync(plan);
    return new IntegerVector(s, out.chunks, out.length, false);
  }

  /**
   * Σ coeffs[i]·x^i mod t on every element (Paterson–Stockmeyer: ceil(log2(d+1)) multiplicative depth, O(√d)
   * ciphertext products). Coefficients are integers (number or bigint); the constant term is added to the
   * vector's elements only, so a clean vector stays clean.
   */
  polyval(coeffs: ArrayLike<number | bigint>): IntegerVector {
    const s = this.session;
    const t = plainModulus(s);
    const reduced = Array.from(toBigInts(coeffs, 'coefficients'), (c) => centered(c, t));
    let degree = reduced.length - 1;
    while (degree > 0 && reduced[degree] === 0n) degree--;
    if (degree < 1) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        'a constant polynomial has no encrypted result; give at least one coefficient of degree ≥ 1 that is nonzero mod t',
      );
    }
    const plan = evaluateIntegerPolynomial(s, this.chunks, reduced.slice(0, degree + 1), {
      addConstant: (list, value) =>
        ops.mapAll(list, (c, k) => this.#withPlain(value, k, (p) => s.evaluator.addPlain(c, p))),
      timesConstant: (c, value) => this.#withConstant(value, (p) => s.evaluator.multiplyPlain(c, p)),
      afterProduct: (list) => this.#afterProduct(list),
    });
    return this.#fromPlan(plan, this.length, this.clean);
  }

  /** Drops the last prime of the level (BFV: scales by it; BGV: SEAL's t-corrected switch); values are unchanged. */
  modSwitchToNext(): IntegerVector {
    if (this.chainIndex === 0)
      throw new HeftyError('E_LEVEL_EXHAUSTED', 'the vector is at the last level: there is no prime left to drop');
    return this.#map((c) => this.session.evaluator.modSwitchToNext(c), this.clean);
  }

  /** A copy at a lower level of the chain (chainIndex ≤ this.chainIndex). */
  atLevel(chainIndex: number): IntegerVector {
    if (!Number.isSafeInteger(chainIndex) || chainIndex < 0 || chainIndex > this.chainIndex) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `chainIndex must be an integer in [0, ${this.chainIndex}] (a level cannot be raised)`,
      );
    }
    return this.#map((c) => ops.dropTo(this.session, c, chainIndex), this.clean);
  }

  *#sumPlan(): Plan<Ciphertext[]> {
    const s = this.session;
    const rowSize = s.rotationSlotCount;
    let total = this.chunks[0].clone();
    for (const next of this.chunks.slice(1)) total = ops.consume(total, (a) => s.evaluator.add(a, next));
    let acc = [total];
    const width = nextPowerOfTwo(Math.min(this.length, rowSize));
    acc = yield* ops.consumePlan(acc, (list) => ops.rotateSumMany(s, list, width));
    if (this.length <= rowSize && this.chunks.length === 1) return acc;
    return ops.consumeAll(acc, (c) =>
      ops.consume(s.evaluator.rotateColumns(c, s.galoisKeys), (r) => s.evaluator.add(c, r)),
    );
  }

  #products(other: IntegerVector): IntegerVector {
    const s = this.session;
    const products = ops.mapAll(this.chunks, (c, k) => {
      const [x, y] = ops.alignLevels(s, c, other.chunks[k]);
      try {
        return other === this ? s.evaluator.square(x) : s.evaluator.multiply(x, y);
      } finally {
        x.dispose();
        y.dispose();
      }
    });
    return this.#fromPlan(this.#relinearized(products), this.length, this.clean || other.clean);
  }

  /** Relinearizes fresh products (one request), then #afterProduct; consumes them. */
  *#relinearized(products: Ciphertext[]): Plan<Ciphertext[]> {
    return this.#afterProduct(yield* ops.consumePlan(products, (list) => keySwitch({ op: 'relinearize', list })));
  }

  /**
   * BGV: a relinearized product moves to the next level while one is left (SEAL's advice for BGV: its noise then
   * grows linearly in the depth instead of doubling). BFV keeps its level: its budget lasts longer without.
   * Consumes the list.
   */
  #afterProduct(list: Ciphertext[]): Ciphertext[] {
    const s = this.session;
    if (s.scheme !== 'bgv' || list[0].chainIndex === 0) return list;
    return ops.consumeAll(list, (c) => s.evaluator.modSwitchToNext(c));
  }

  #fromPlan(plan: Plan<Ciphertext[]>, length: number, clean: boolean): IntegerVector {
    return new IntegerVector(this.session, this.session.runSync(plan), length, clean);
  }

  #checkPeer(other: IntegerVector): void {
    if (other.session !== this.session)
      throw new HeftyError('E_PARAMS_MISMATCH', 'both vectors must come from the same context');
    if (other.length !== this.length) {
      throw new HeftyError('E_LENGTH_MISMATCH', `vector lengths differ: ${this.length} and ${other.length}`);
    }
  }

  #chunkLength(k: number): number {
    return Math.min(this.session.slotCount, this.length - k * this.session.slotCount);
  }

  /** Plain values for chunk k: a scalar on the vector's elements only (zero elsewhere), or the operand's part. */
  #withPlain<T>(operand: Exclude<IntegerOperand, IntegerVector>, k: number, fn: (p: Plaintext) => T): T {
    const s = this.session;
    let values: BigInt64Array;
    if (typeof operand === 'number' || typeof operand === 'bigint') {
      values = new BigInt64Array(this.#chunkLength(k)).fill(reduce(toBigInt(operand, 'scalar operand'), s));
    } else {
      const all = toBigInts(operand, 'plain operand');
      if (all.length !== this.length) {
        throw new HeftyError(
          'E_LENGTH_MISMATCH',
          `plain operand has ${all.length} elements, the vector has ${this.length}`,
        );
      }
      const start = k * s.slotCount;
      values = all.subarray(start, start + this.#chunkLength(k)).map((v) => reduce(v, s));
    }
    const plain = s.batchEncoder.encode(values);
    try {
      return fn(plain);
    } finally {
      plain.dispose();
    }
  }

  /** A constant in every slot (products by it keep zero slots zero). */
  #withConstant<T>(value: bigint, fn: (p: Plaintext) => T): T {
    const s = this.session;
    const plain = s.batchEncoder.encode(new BigInt64Array(s.slotCount).fill(reduce(value, s)));
    try {
      return fn(plain);
    } finally {
      plain.dispose();
    }
  }

  #combine(other: IntegerOperand, op: 'add' | 'sub'): IntegerVector {
    const s = this.session;
    if (other instanceof IntegerVector) {
      this.#checkPeer(other);
      return this.#map((c, k) => {
        const [x, y] = ops.alignLevels(s, c, other.chunks[k]);
        try {
          return s.evaluator[op](x, y);
        } finally {
          x.dispose();
          y.dispose();
        }
      }, this.clean && other.clean);
    }
    return this.#map(
      (c, k) =>
        this.#withPlain(other, k, (p) => (op === 'add' ? s.evaluator.addPlain(c, p) : s.evaluator.subPlain(c, p))),
      this.clean,
    );
  }

  #map(fn: (c: Ciphertext, k: number) => Ciphertext, clean: boolean): IntegerVector {
    return new IntegerVector(this.session, ops.mapAll(this.chunks, fn), this.length, clean);
  }
}

function plainModulus(s: Session): bigint {
  const t = s.ctx.params.plainModulus;
  if (t === undefined) throw new HeftyError('E_INTERNAL', 'an integer context has a plaintext modulus');
  return t;
}

/** An integer reduced to (-t/2, t/2], what the batch encoder takes: operands are taken mod t. */
function reduce(v: bigint, s: Session): bigint {
  return centered(v, plainModulus(s));
}

/** Checks an integer matrix (rectangular, safe integers) and reduces it mod t into rows of doubles (exact). */
function integerMatrix(matrix: ArrayLike<ArrayLike<number | bigint>>, s: Session): Float64Array[] {
  if (matrix === null || typeof matrix !== 'object' || typeof matrix.length !== 'number' || matrix.length === 0)
    throw new HeftyError('E_INVALID_ARGUMENT', 'a matrix is a non-empty array of rows');
  const t = plainModulus(s);
  return Array.from(matrix, (row, i) => {
    const values = toBigInts(row, `matrix row ${i}`);
    // Residues below 2^53 stay exact as doubles; wider t keeps the centered value only when it fits.
    return Float64Array.from(values, (v) => {
      const r = centered(v, t);
      if (r > BigInt(Number.MAX_SAFE_INTEGER) || r < -BigInt(Number.MAX_SAFE_INTEGER))
        throw new HeftyError('E_VALUE_OUT_OF_RANGE', `matrix entries must be below 2^53 in size mod t`);
      return Number(r);
    });
  });
}

/**
 * Diagonals for the integer schemes: values mod t in row 0 of the batching matrix (the row the transform
 * rotates through), row 1 zero. No rescale, no level. A giant step with no nonzero diagonal multiplies by a 1 in
 * row 1 only, which leaves row 0, the result, alone.
 */
function integerArithmetic(s: Session): DiagonalArithmetic {
  const rowSize = s.rotationSlotCount;
  const encodeRow0 = (values: Float64Array): Plaintext => {
    const slots = new BigInt64Array(s.slotCount);
    for (let i = 0; i < rowSize; i++) slots[i] = BigInt(values[i]);
    return s.batchEncoder.encode(slots);
  };
  return {
    levels: 0,
    encode: (values) => encodeRow0(values),
    filler: () => {
      const slots = new BigInt64Array(s.slotCount);
      slots[rowSize] = 1n;
      return s.batchEncoder.encode(slots);
    },
    finish: (sum) => sum,
  };
}
