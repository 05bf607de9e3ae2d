/**
 * BFVVector: an encrypted vector of exact integers modulo the plaintext modulus t, chunked like CKKSVector.
 * Values are signed: they decrypt into (-t/2, t/2]. Slots past `length` are kept zero where possible.
 */
import { HeftyError } from '../errors.ts';
import type { Ciphertext, Plaintext } from '../backend/types.ts';
import type { Session } from './session.ts';
import { encodeVector } from './vector-wire.ts';

export type IntegerValues = ArrayLike<number | bigint>;
export type BfvOperand = BFVVector | number | bigint | IntegerValues;

function toBigInts(values: IntegerValues, what: string): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'bigint') out[i] = v;
    else if (Number.isSafeInteger(v)) out[i] = BigInt(v);
    else throw new HeftyError(Number.isFinite(v) ? 'E_INVALID_ARGUMENT' : 'E_NOT_FINITE', `${what} must be integers`);
  }
  return out;
}

function consume<T>(temp: Ciphertext, fn: (c: Ciphertext) => T): T {
  try {
    return fn(temp);
  } finally {
    temp.dispose();
  }
}

export class BFVVector implements Disposable {
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

  static encrypt(session: Session, values: IntegerValues): BFVVector {
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
      for (const c of chunks) c.dispose();
      throw e;
    }
    return new BFVVector(session, chunks, data.length, true);
  }

  get chunks(): readonly Ciphertext[] {
    if (this.#chunks === null) throw new HeftyError('E_DISPOSED', 'this BFVVector was disposed');
    return this.#chunks;
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

  /** Remaining noise budget in bits of the noisiest chunk (needs the secret key). */
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
      scheme: 'bfv',
      length: this.length,
      clean: this.clean,
      chunks: this.chunks.map((c) => c.save('none')),
    });
  }

  add(other: BfvOperand): BFVVector {
    return this.#combine(other, 'add');
  }

  sub(other: BfvOperand): BFVVector {
    return this.#combine(other, 'sub');
  }

  mul(other: BfvOperand): BFVVector {
    const s = this.session;
    if (other instanceof BFVVector) {
      this.#checkPeer(other);
      return this.#map((c, k) => {
        const product = c === other.chunks[k] ? s.evaluator.square(c) : s.evaluator.multiply(c, other.chunks[k]);
        return consume(product, (p) => s.evaluator.relinearize(p, s.relinKeys));
      }, this.clean || other.clean);
    }
    return this.#map((c, k) => this.#withPlain(other, k, (p) => s.evaluator.multiplyPlain(c, p)), true);
  }

  negate(): BFVVector {
    return this.#map((c) => this.session.evaluator.negate(c), this.clean);
  }

  /**
   * Rotates each chunk's two batching rows (N/2 slots each) left by `steps` (right when negative), as SEAL's
   * rotate_rows does: slot i of a row takes slot i + steps of the same row. A step without its own galois key is
   * composed from the keys of its non-adjacent form (SEAL's default power-of-two keys cover every step). The
   * length is unchanged; slots past it that rotate in carry whatever those slots held (zeros for fresh vectors).
   */
  rotateRows(steps: number): BFVVector {
    const s = this.session;
    const rowSize = s.slotCount / 2;
    if (!Number.isSafeInteger(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'steps must be an integer');
    const step = ((steps % rowSize) + rowSize) % rowSize;
    const signed = step > rowSize / 2 ? step - rowSize : step;
    if (signed === 0) return this.#map((c) => c.clone(), this.clean);
    return this.#map((c) => s.evaluator.rotateRows(c, signed, s.galoisKeys), false);
  }

  /** Swaps each chunk's two batching rows (slot i and slot i + N/2 trade places). */
  rotateColumns(): BFVVector {
    const s = this.session;
    return this.#map((c) => s.evaluator.rotateColumns(c, s.galoisKeys), false);
  }

  /** Sum of all elements (mod t), in slot 0 of a length-1 vector. */
  sum(): BFVVector {
    const s = this.session;
    const source = this.clean ? this : this.mul(1);
    try {
      let acc = source.chunks[0].clone();
      for (const next of source.chunks.slice(1)) acc = consume(acc, (a) => s.evaluator.add(a, next));
      const rowSize = s.slotCount / 2;
      let width = 1;
      while (width < Math.min(this.length, rowSize)) width *= 2;
      for (let step = 1; step < width; step *= 2) {
        acc = consume(acc, (a) => consume(s.evaluator.rotateRows(a, step, s.galoisKeys), (r) => s.evaluator.add(a, r)));
      }
      if (this.length > rowSize || this.chunks.length > 1) {
        acc = consume(acc, (a) => consume(s.evaluator.rotateColumns(a, s.galoisKeys), (r) => s.evaluator.add(a, r)));
      }
      return new BFVVector(s, [acc], 1, false);
    } finally {
      if (source !== this) source.dispose();
    }
  }

  dot(other: BFVVector | IntegerValues): BFVVector {
    const product = this.mul(other);
    try {
      return product.sum();
    } finally {
      product.dispose();
    }
  }

  #checkPeer(other: BFVVector): void {
    if (other.session !== this.session)
      throw new HeftyError('E_PARAMS_MISMATCH', 'both vectors must come from the same context');
    if (other.length !== this.length) {
      throw new HeftyError('E_LENGTH_MISMATCH', `vector lengths differ: ${this.length} and ${other.length}`);
    }
  }

  #chunkLength(k: number): number {
    return Math.min(this.session.slotCount, this.length - k * this.session.slotCount);
  }

  #withPlain(operand: Exclude<BfvOperand, BFVVector>, k: number, fn: (p: Plaintext) => Ciphertext): Ciphertext {
    let values: BigInt64Array;
    if (typeof operand === 'number' || typeof operand === 'bigint') {
      values = toBigInts([operand], 'scalar operand');
      values = new BigInt64Array(this.#chunkLength(k)).fill(values[0]);
    } else {
      const all = toBigInts(operand, 'plain operand');
      if (all.length !== this.length) {
        throw new HeftyError(
          'E_LENGTH_MISMATCH',
          `plain operand has ${all.length} elements, the vector has ${this.length}`,
        );
      }
      const start = k * this.session.slotCount;
      values = all.subarray(start, start + this.#chunkLength(k));
    }
    const plain = this.session.batchEncoder.encode(values);
    try {
      return fn(plain);
    } finally {
      plain.dispose();
    }
  }

  #combine(other: BfvOperand, op: 'add' | 'sub'): BFVVector {
    const s = this.session;
    if (other instanceof BFVVector) {
      this.#checkPeer(other);
      return this.#map((c, k) => s.evaluator[op](c, other.chunks[k]), this.clean && other.clean);
    }
    return this.#map(
      (c, k) =>
        this.#withPlain(other, k, (p) => (op === 'add' ? s.evaluator.addPlain(c, p) : s.evaluator.subPlain(c, p))),
      this.clean,
    );
  }

  #map(fn: (c: Ciphertext, k: number) => Ciphertext, clean: boolean): BFVVector {
    const out: Ciphertext[] = [];
    try {
      this.chunks.forEach((c, k) => out.push(fn(c, k)));
    } catch (e) {
      for (const c of out) c.dispose();
      throw e;
    }
    return new BFVVector(this.session, out, this.length, clean);
  }
}
