/**
 * CKKSVector: an encrypted vector of reals of any length. It is stored as ceil(length / slotCount)
 * ciphertexts ("chunks"); slots past `length` are kept at zero whenever an operation allows it (`clean`), so
 * sums and dot products need no masking. Operations return new vectors and never modify their operands.
 */
import { HeftyError } from '../errors.ts';
import type { Ciphertext } from '../backend/types.ts';
import * as ops from './ckks-ops.ts';
import type { Session } from './session.ts';
import { encodeVector } from './vector-wire.ts';

export type CkksOperand = CKKSVector | number | ArrayLike<number>;

export function toFiniteArray(values: ArrayLike<number>, what = 'values'): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  for (const v of out) if (!Number.isFinite(v)) throw new HeftyError('E_NOT_FINITE', `${what} must be finite numbers`);
  return out;
}

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

  decrypt(): Float64Array {
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
    return out;
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
    if (other instanceof CKKSVector) {
      this.#checkPeer(other);
      return this.#map((c, k) => ops.multiply(this.session, c, other.chunks[k]), this.clean || other.clean);
    }
    // Plain factors are zero past `length`, so the product is clean.
    return this.#map((c, k) => ops.multiplyValues(this.session, c, this.#plainChunk(other, k)), true);
  }

  negate(): CKKSVector {
    return this.#map((c) => this.session.evaluator.negate(c), this.clean);
  }

  square(): CKKSVector {
    return this.#map((c) => ops.square(this.session, c), this.clean);
  }

  /** Cyclic rotation over the ciphertext's slots (SEAL semantics): positive steps rotate left. */
  rotate(steps: number): CKKSVector {
    if (!Number.isSafeInteger(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'rotation steps must be an integer');
    if (this.chunkCount !== 1)
      throw new HeftyError('E_UNSUPPORTED', 'rotation of a vector longer than one ciphertext is not supported');
    const full = this.length === this.session.slotCount;
    return this.#map((c) => ops.rotate(this.session, c, steps), full);
  }

  // ---- reductions and linear algebra ----

  /** Sum of all elements, in slot 0 of a length-1 vector. */
  sum(): CKKSVector {
    const s = this.session;
    const source = this.clean ? this : this.#masked();
    try {
      const total = ops.addAll(s, source.chunks);
      const width = nextPowerOfTwo(Math.min(this.length, s.slotCount));
      return new CKKSVector(s, [ops.consume(total, (t) => ops.rotateSum(s, t, width))], 1, false);
    } finally {
      if (source !== this) source.dispose();
    }
  }

  dot(other: CKKSVector | ArrayLike<number>): CKKSVector {
    if (typeof other === 'number') throw new HeftyError('E_INVALID_ARGUMENT', 'dot needs a vector');
    const product = this.mul(other);
    try {
      return product.sum();
    } finally {
      product.dispose();
    }
  }

  /** Evaluates c0 + c1·x + c2·x² + … element-wise, with multiplicative depth about log2(degree) + 1. */
  polyval(coeffs: ArrayLike<number>): CKKSVector {
    const c = toFiniteArray(coeffs, 'polynomial coefficients');
    if (c.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'polyval needs at least one coefficient');
    return this.#map((chunk, k) => evaluatePolynomial(this.session, chunk, c, this.#chunkLength(k)), true);
  }

  /** Plain matrix (rows × length) times this encrypted vector; the result has one element per row. */
  matvec(matrix: ArrayLike<ArrayLike<number>>): CKKSVector {
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
      for (const [i, row] of rows.entries()) {
        // Row-times-vector over all chunks, rescaled once, then summed into every slot and kept at slot i.
        const products = source.chunks.map((c, k) => ops.multiplyValuesNoRescale(s, c, this.#slice(row, k)));
        const rowDot = ops.consume(ops.addAll(s, products), (p) => s.evaluator.rescaleToNext(p));
        for (const p of products) p.dispose();
        const everywhere = ops.consume(rowDot, (d) => ops.rotateSum(s, d, s.slotCount));
        const unit = new Float64Array(i + 1);
        unit[i] = 1;
        parts.push(ops.consume(everywhere, (e) => ops.multiplyValuesNoRescale(s, e, unit)));
      }
      const combined = ops.addAll(s, parts);
      return new CKKSVector(s, [ops.consume(combined, (c) => s.evaluator.rescaleToNext(c))], rows.length, true);
    } finally {
      for (const p of parts) p.dispose();
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

  #map(fn: (c: Ciphertext, k: number) => Ciphertext, clean: boolean): CKKSVector {
    const out: Ciphertext[] = [];
    try {
      this.chunks.forEach((c, k) => out.push(fn(c, k)));
    } catch (e) {
      for (const c of out) c.dispose();
      throw e;
    }
    return new CKKSVector(this.session, out, this.length, clean);
  }
}

/** c·x^k for k ≥ 1, written as (c·x^r)·x^h with h the largest power of two below k, to save a level. */
function evaluatePolynomial(s: Session, x: Ciphertext, coeffs: Float64Array, chunkLength: number): Ciphertext {
  const powers = new Map<number, Ciphertext>([[1, x.clone()]]);
  const power = (m: number): Ciphertext => {
    const known = powers.get(m);
    if (known) return known;
    let h = 1;
    while (h * 2 <= m) h *= 2;
    const result = h === m ? ops.square(s, power(m / 2)) : ops.multiply(s, power(h), power(m - h));
    powers.set(m, result);
    return result;
  };
  const broadcast = (value: number) => new Float64Array(chunkLength).fill(value);
  const terms: Ciphertext[] = [];
  try {
    for (let k = 1; k < coeffs.length; k++) {
      if (coeffs[k] === 0) continue;
      if (k === 1) {
        terms.push(ops.multiplyValues(s, x, broadcast(coeffs[1])));
        continue;
      }
      let h = 1;
      while (h * 2 < k) h *= 2;
      const scaled = ops.multiplyValues(s, power(k - h), broadcast(coeffs[k]));
      terms.push(ops.consume(scaled, (t) => ops.multiply(s, t, power(h))));
    }
    // A constant-only polynomial still yields an encrypted result: 0·x + c0.
    if (terms.length === 0) terms.push(ops.multiplyValues(s, x, broadcast(0)));
    const sum = ops.addAll(s, terms);
    if (coeffs[0] === 0) return sum;
    return ops.consume(sum, (t) => {
      const plain = ops.encodeForAdd(s, t, broadcast(coeffs[0]));
      try {
        return s.evaluator.addPlain(t, plain);
      } finally {
        plain.dispose();
      }
    });
  } finally {
    for (const t of terms) t.dispose();
    for (const p of powers.values()) p.dispose();
  }
}
