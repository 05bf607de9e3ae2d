/**
 * The WebAssembly backend: node-seal 7 (SEAL 4.1.2 compiled with emscripten) behind the Backend interface.
 * Every wrapper owns one node-seal object; `dispose()` deletes it, and a FinalizationRegistry deletes what
 * callers forgot. Every call into node-seal goes through `guard`, so WASM exceptions become HeftyErrors.
 */
import SEAL from 'node-seal';
import type * as S from 'node-seal';
import { HeftyError, type HeftyErrorCode } from '../errors.ts';
import { translateSealError } from './wasm-errors.ts';
import { defaultGaloisSteps, galoisEltFromStep } from './galois.ts';
import { parmsIdToHex } from './parms-id.ts';
import { decompress } from './seal-compression.ts';
import { MAX_PARAMS_BYTES, maxInflated, type LoadKind } from './seal-inflation.ts';
import type * as B from './types.ts';
import { isIntegerScheme } from './types.ts';

type Seal = S.MainModule;

/** Upper bound on bytes handed to node-seal's loaders; SEAL enforces the exact per-object limits itself. */
const MAX_LOAD_BYTES = 1 << 30;

const COMPRESSION = { none: 0, zlib: 1, zstd: 2 } as const;

const finalizer = new FinalizationRegistry<S.ClassHandle>((raw) => {
  if (!raw.isDeleted()) raw.delete();
});

class WasmRuntime {
  readonly seal: Seal;
  constructor(seal: Seal) {
    this.seal = seal;
  }

  guard<T>(fn: () => T, fallback: HeftyErrorCode = 'E_INVALID_ARGUMENT'): T {
    try {
      return fn();
    } catch (e) {
      throw translateSealError(
        e,
        (x) => (this.seal as unknown as { getExceptionMessage(e: unknown): unknown }).getExceptionMessage(x),
        fallback,
      );
    }
  }

  compression(mode: B.Compression = 'none'): S.ComprModeType {
    const value = COMPRESSION[mode];
    if (value === undefined) throw new HeftyError('E_INVALID_ARGUMENT', `unknown compression "${String(mode)}"`);
    return [this.seal.ComprModeType.none, this.seal.ComprModeType.zlib, this.seal.ComprModeType.zstd][value];
  }

  securityLevel(level: B.SecurityLevel): S.SecLevelType {
    const t = this.seal.SecLevelType;
    switch (level) {
      case 128:
        return t.tc128;
      case 192:
        return t.tc192;
      case 256:
        return t.tc256;
      case 'none':
        return t.none;
      default:
        throw new HeftyError('E_INVALID_ARGUMENT', `unknown security level ${String(level)}`);
    }
  }

  bytes(value: unknown): Uint8Array {
    return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayLike<number>);
  }
}

/** Base for wrappers: owns one node-seal object. */
class Owner<T extends S.ClassHandle> implements B.Owned {
  #raw: T | null;
  readonly rt: WasmRuntime;

  constructor(rt: WasmRuntime, raw: T) {
    this.rt = rt;
    this.#raw = raw;
    finalizer.register(this, raw, this);
  }

  get raw(): T {
    if (this.#raw === null) throw new HeftyError('E_DISPOSED', `${this.constructor.name} was disposed`);
    return this.#raw;
  }

  get disposed(): boolean {
    return this.#raw === null;
  }

  dispose(): void {
    if (this.#raw === null) return;
    finalizer.unregister(this);
    this.#raw.delete();
    this.#raw = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function savable(
  rt: WasmRuntime,
  raw: { saveToArray(mode: S.ComprModeType): unknown },
  compression?: B.Compression,
): Uint8Array {
  return rt.bytes(rt.guard(() => raw.saveToArray(rt.compression(compression)), 'E_INTERNAL'));
}

class WasmPlaintext extends Owner<S.Plaintext> implements B.Plaintext {
  readonly kind = 'plaintext';
  get parmsId(): string {
    return parmsIdToHex(this.raw.parmsId().values());
  }
  get scale(): number {
    return this.raw.scale();
  }
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

class WasmCiphertext extends Owner<S.Ciphertext> implements B.Ciphertext {
  readonly kind = 'ciphertext';
  readonly #ctx: WasmContext;
  constructor(ctx: WasmContext, raw: S.Ciphertext) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
  }
  get parmsId(): string {
    return parmsIdToHex(this.raw.parmsId().values());
  }
  get chainIndex(): number {
    return this.#ctx.chainIndexOf(this.parmsId);
  }
  get size(): number {
    return this.raw.size();
  }
  get scale(): number {
    return this.raw.scale();
  }
  get isNttForm(): boolean {
    return this.raw.isNttForm();
  }
  savedSize(): number {
    return this.save('none').byteLength;
  }
  /** node-seal saves into its own array only: the bytes are copied over. */
  saveInto(target: Uint8Array): number {
    if (!(target instanceof Uint8Array)) throw new HeftyError('E_INVALID_ARGUMENT', 'save target must be a Uint8Array');
    const bytes = this.save('none');
    if (target.byteLength < bytes.byteLength)
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `save target holds ${target.byteLength} bytes; this object needs ${bytes.byteLength}`,
      );
    target.set(bytes);
    return bytes.byteLength;
  }
  /** A deep copy: embind's clone() would share one SEAL object, so a later setScale would change both. */
  clone(): WasmCiphertext {
    return new WasmCiphertext(
      this.#ctx,
      this.rt.guard(() => this.raw.copy()),
    );
  }
  withScale(scale: number): WasmCiphertext {
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `invalid scale ${scale}`);
    const copy = this.clone();
    copy.raw.setScale(scale);
    return copy;
  }
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

class WasmSecretKey extends Owner<S.SecretKey> implements B.SecretKey {
  readonly kind = 'secret-key';
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

class WasmPublicKey extends Owner<S.PublicKey> implements B.PublicKey {
  readonly kind = 'public-key';
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

class WasmRelinKeys extends Owner<S.RelinKeys> implements B.RelinKeys {
  readonly kind = 'relin-keys';
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

class WasmGaloisKeys extends Owner<S.GaloisKeys> implements B.GaloisKeys {
  readonly kind = 'galois-keys';
  readonly #candidates: readonly number[];
  constructor(rt: WasmRuntime, raw: S.GaloisKeys, polyModulusDegree: number) {
    super(rt, raw);
    const odd: number[] = [];
    for (let g = 1; g < 2 * polyModulusDegree; g += 2) odd.push(g);
    this.#candidates = odd;
  }
  get galoisElts(): readonly number[] {
    return this.#candidates.filter((g) => this.hasKey(g));
  }
  hasKey(galoisElt: number): boolean {
    return this.rt.guard(() => this.raw.hasKey(galoisElt));
  }
  save(compression?: B.Compression): Uint8Array {
    return savable(this.rt, this.raw, compression);
  }
}

function unwrap<T extends S.ClassHandle>(
  ctx: WasmContext,
  value: unknown,
  type: abstract new (...a: never[]) => Owner<T>,
  what: string,
): T {
  if (!(value instanceof type)) throw new HeftyError('E_INVALID_ARGUMENT', `expected a ${what} from the wasm backend`);
  const owner = value as Owner<T>;
  if (owner.rt !== ctx.rt) throw new HeftyError('E_PARAMS_MISMATCH', `${what} belongs to another runtime`);
  return owner.raw;
}

class WasmKeyGenerator extends Owner<S.KeyGenerator> implements B.KeyGenerator {
  readonly #ctx: WasmContext;
  constructor(ctx: WasmContext, raw: S.KeyGenerator) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
  }
  secretKey(): B.SecretKey {
    return new WasmSecretKey(
      this.rt,
      this.rt.guard(() => this.raw.secretKey()),
    );
  }
  createPublicKey(): B.PublicKey {
    return new WasmPublicKey(
      this.rt,
      this.rt.guard(() => this.raw.createPublicKey()),
    );
  }
  createRelinKeys(): B.RelinKeys {
    this.#ctx.requireKeySwitching();
    return new WasmRelinKeys(
      this.rt,
      this.rt.guard(() => this.raw.createRelinKeys()),
    );
  }
  createGaloisKeys(spec: B.GaloisSpec): B.GaloisKeys {
    this.#ctx.requireKeySwitching();
    const steps = this.#steps(spec);
    return new WasmGaloisKeys(
      this.rt,
      this.rt.guard(() => this.raw.createGaloisKeysWithSteps(steps)),
      this.#ctx.params.polyModulusDegree,
    );
  }
  createPublicKeySeeded(compression?: B.Compression): Uint8Array {
    return this.#saveSerializable(
      this.rt.guard(() => this.raw.createPublicKeySerializable()),
      compression,
    );
  }
  createRelinKeysSeeded(compression?: B.Compression): Uint8Array {
    this.#ctx.requireKeySwitching();
    return this.#saveSerializable(
      this.rt.guard(() => this.raw.createRelinKeysSerializable()),
      compression,
    );
  }
  createGaloisKeysSeeded(spec: B.GaloisSpec, compression?: B.Compression): Uint8Array {
    this.#ctx.requireKeySwitching();
    const steps = this.#steps(spec);
    return this.#saveSerializable(
      this.rt.guard(() => this.raw.createGaloisKeysSerializableWithSteps(steps)),
      compression,
    );
  }
  #steps(spec: B.GaloisSpec): Int32Array {
    const n = this.#ctx.params.polyModulusDegree;
    const steps = spec === 'power-of-two' ? [0, ...defaultGaloisSteps(n)] : [...spec];
    for (const s of steps) galoisEltFromStep(s, n); // validates range with a clear error
    return Int32Array.from(steps);
  }
  #saveSerializable(
    serializable: { saveToArray(m: S.ComprModeType): unknown; delete(): void },
    compression?: B.Compression,
  ): Uint8Array {
    try {
      return savable(this.rt, serializable, compression);
    } finally {
      serializable.delete();
    }
  }
}

class WasmEncryptor extends Owner<S.Encryptor> implements B.Encryptor {
  readonly #ctx: WasmContext;
  readonly #hasPublic: boolean;
  readonly #hasSecret: boolean;
  constructor(ctx: WasmContext, raw: S.Encryptor, hasPublic: boolean, hasSecret: boolean) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
    this.#hasPublic = hasPublic;
    this.#hasSecret = hasSecret;
  }
  encrypt(plain: B.Plaintext): B.Ciphertext {
    if (!this.#hasPublic) throw new HeftyError('E_MISSING_KEY', 'public-key encryption needs a public key');
    const p = unwrap(this.#ctx, plain, WasmPlaintext, 'plaintext');
    const out = new this.rt.seal.Ciphertext();
    return this.#ctx.wrapResult(out, () => this.raw.encrypt(p, out));
  }
  encryptSymmetric(plain: B.Plaintext): B.Ciphertext {
    if (!this.#hasSecret) throw new HeftyError('E_MISSING_KEY', 'symmetric encryption needs a secret key');
    const p = unwrap(this.#ctx, plain, WasmPlaintext, 'plaintext');
    const out = new this.rt.seal.Ciphertext();
    return this.#ctx.wrapResult(out, () => this.raw.encryptSymmetric(p, out));
  }
  encryptSymmetricSeeded(plain: B.Plaintext, compression?: B.Compression): Uint8Array {
    if (!this.#hasSecret) throw new HeftyError('E_MISSING_KEY', 'symmetric encryption needs a secret key');
    const p = unwrap(this.#ctx, plain, WasmPlaintext, 'plaintext');
    const serializable = this.rt.guard(() => this.raw.encryptSymmetricSerializable(p));
    try {
      return savable(this.rt, serializable, compression);
    } finally {
      serializable.delete();
    }
  }
}

class WasmDecryptor extends Owner<S.Decryptor> implements B.Decryptor {
  readonly #ctx: WasmContext;
  constructor(ctx: WasmContext, raw: S.Decryptor) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
  }
  decrypt(cipher: B.Ciphertext): B.Plaintext {
    const c = unwrap(this.#ctx, cipher, WasmCiphertext, 'ciphertext');
    const out = new this.rt.seal.Plaintext();
    try {
      this.rt.guard(() => this.raw.decrypt(c, out));
    } catch (e) {
      out.delete();
      throw e;
    }
    return new WasmPlaintext(this.rt, out);
  }
  invariantNoiseBudget(cipher: B.Ciphertext): number {
    if (!isIntegerScheme(this.#ctx.params.scheme))
      throw new HeftyError('E_UNSUPPORTED', 'noise budget is defined for BFV and BGV only');
    const c = unwrap(this.#ctx, cipher, WasmCiphertext, 'ciphertext');
    return this.rt.guard(() => this.raw.invariantNoiseBudget(c));
  }
}

class WasmCkksEncoder extends Owner<S.CKKSEncoder> implements B.CkksEncoder {
  readonly #ctx: WasmContext;
  readonly slotCount: number;
  constructor(ctx: WasmContext, raw: S.CKKSEncoder) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
    this.slotCount = raw.slotCount();
  }
  encode(values: Float64Array, scale: number, parmsId?: string): B.Plaintext {
    if (!(values instanceof Float64Array)) throw new HeftyError('E_INVALID_ARGUMENT', 'values must be a Float64Array');
    if (values.length > this.slotCount) {
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `at most ${this.slotCount} values fit one plaintext, got ${values.length}`,
      );
    }
    for (const v of values)
      if (!Number.isFinite(v)) throw new HeftyError('E_NOT_FINITE', 'values must be finite numbers');
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `invalid scale ${scale}`);
    const out = new this.rt.seal.Plaintext();
    try {
      this.rt.guard(() => this.raw.encode(values, scale, out));
      if (parmsId !== undefined && parmsId !== this.#ctx.firstParmsId) {
        const target = this.#ctx.parmsIdHandle(parmsId);
        this.rt.guard(() => this.#ctx.evaluatorRaw.plainModSwitchToInplace(out, target));
      }
    } catch (e) {
      out.delete();
      throw e;
    }
    return new WasmPlaintext(this.rt, out);
  }
  encodeScalar(value: number, scale: number, parmsId?: string): B.Plaintext {
    return this.encode(new Float64Array(this.slotCount).fill(value), scale, parmsId);
  }
  decode(plain: B.Plaintext): Float64Array {
    const p = unwrap(this.#ctx, plain, WasmPlaintext, 'plaintext');
    return Float64Array.from(this.rt.guard(() => this.raw.decodeFloat64(p)) as ArrayLike<number>);
  }
}

class WasmBatchEncoder extends Owner<S.BatchEncoder> implements B.BatchEncoder {
  readonly #ctx: WasmContext;
  readonly slotCount: number;
  constructor(ctx: WasmContext, raw: S.BatchEncoder) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
    this.slotCount = raw.slotCount();
  }
  encode(values: BigInt64Array): B.Plaintext {
    if (!(values instanceof BigInt64Array))
      throw new HeftyError('E_INVALID_ARGUMENT', 'values must be a BigInt64Array');
    if (values.length > this.slotCount) {
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `at most ${this.slotCount} values fit one plaintext, got ${values.length}`,
      );
    }
    const t = this.#ctx.params.plainModulus ?? 0n;
    const half = t / 2n;
    for (const v of values) {
      if (v > half || v < -half)
        throw new HeftyError('E_VALUE_OUT_OF_RANGE', `value ${v} is outside (-t/2, t/2] for t = ${t}`);
    }
    const out = new this.rt.seal.Plaintext();
    try {
      this.rt.guard(() => this.raw.encode(values, out));
    } catch (e) {
      out.delete();
      throw e;
    }
    return new WasmPlaintext(this.rt, out);
  }
  decode(plain: B.Plaintext): BigInt64Array {
    const p = unwrap(this.#ctx, plain, WasmPlaintext, 'plaintext');
    return BigInt64Array.from(this.rt.guard(() => this.raw.decodeBigInt64(p)) as ArrayLike<bigint>);
  }
}

class WasmEvaluator extends Owner<S.Evaluator> implements B.Evaluator {
  readonly #ctx: WasmContext;
  constructor(ctx: WasmContext, raw: S.Evaluator) {
    super(ctx.rt, raw);
    this.#ctx = ctx;
  }
  #ct(value: B.Ciphertext): S.Ciphertext {
    return unwrap(this.#ctx, value, WasmCiphertext, 'ciphertext');
  }
  #pt(value: B.Plaintext): S.Plaintext {
    return unwrap(this.#ctx, value, WasmPlaintext, 'plaintext');
  }
  #unary(run: (out: S.Ciphertext) => void): B.Ciphertext {
    return this.#ctx.wrapResult(new this.rt.seal.Ciphertext(), run);
  }
  negate(a: B.Ciphertext): B.Ciphertext {
    const x = this.#ct(a);
    return this.#unary((out) => this.raw.negate(x, out));
  }
  add(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#ct(b)];
    return this.#unary((out) => this.raw.add(x, y, out));
  }
  sub(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#ct(b)];
    return this.#unary((out) => this.raw.sub(x, y, out));
  }
  addPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#pt(p)];
    return this.#unary((out) => this.raw.addPlain(x, y, out));
  }
  subPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#pt(p)];
    return this.#unary((out) => this.raw.subPlain(x, y, out));
  }
  multiply(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#ct(b)];
    return this.#unary((out) => this.raw.multiply(x, y, out));
  }
  square(a: B.Ciphertext): B.Ciphertext {
    const x = this.#ct(a);
    return this.#unary((out) => this.raw.square(x, out));
  }
  multiplyPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    const [x, y] = [this.#ct(a), this.#pt(p)];
    return this.#unary((out) => this.raw.multiplyPlain(x, y, out));
  }
  relinearize(a: B.Ciphertext, keys: B.RelinKeys): B.Ciphertext {
    const [x, k] = [this.#ct(a), unwrap(this.#ctx, keys, WasmRelinKeys, 'relin keys')];
    return this.#unary((out) => this.raw.relinearize(x, k, out));
  }
  rescaleToNext(a: B.Ciphertext): B.Ciphertext {
    if (this.#ctx.params.scheme !== 'ckks') throw new HeftyError('E_UNSUPPORTED', 'rescale is a CKKS operation');
    const x = this.#ct(a);
    return this.#unary((out) => this.raw.rescaleToNext(x, out));
  }
  modSwitchToNext(a: B.Ciphertext): B.Ciphertext {
    const x = this.#ct(a);
    return this.#unary((out) => this.raw.cipherModSwitchToNext(x, out));
  }
  modSwitchTo(a: B.Ciphertext, parmsId: string): B.Ciphertext {
    const x = this.#ct(a);
    const target = this.#ctx.parmsIdHandle(parmsId);
    return this.#unary((out) => this.raw.cipherModSwitchTo(x, target, out));
  }
  modSwitchPlainToNext(p: B.Plaintext): B.Plaintext {
    const x = this.#pt(p);
    const out = new this.rt.seal.Plaintext();
    return this.#plainResult(out, () => this.raw.plainModSwitchToNext(x, out));
  }
  modSwitchPlainTo(p: B.Plaintext, parmsId: string): B.Plaintext {
    const x = this.#pt(p);
    const target = this.#ctx.parmsIdHandle(parmsId);
    const out = new this.rt.seal.Plaintext();
    return this.#plainResult(out, () => this.raw.plainModSwitchTo(x, target, out));
  }
  #plainResult(out: S.Plaintext, run: () => void): B.Plaintext {
    try {
      this.rt.guard(run);
    } catch (e) {
      out.delete();
      throw e;
    }
    return new WasmPlaintext(this.rt, out);
  }
  #galois(keys: B.GaloisKeys, elt: number): S.GaloisKeys {
    const k = unwrap(this.#ctx, keys, WasmGaloisKeys, 'galois keys');
    if (!this.rt.guard(() => k.hasKey(elt))) {
      throw new HeftyError('E_MISSING_GALOIS_KEY', `no galois key for element ${elt}`);
    }
    return k;
  }
  rotateVector(a: B.Ciphertext, steps: number, keys: B.GaloisKeys): B.Ciphertext {
    if (this.#ctx.params.scheme !== 'ckks') throw new HeftyError('E_UNSUPPORTED', 'rotateVector is a CKKS operation');
    const x = this.#ct(a);
    const k = this.#galois(keys, this.#ctx.galoisElt(steps));
    return this.#unary((out) => this.raw.rotateVector(x, steps, k, out));
  }
  /** node-seal has no hoisting: one rotation after another (those made are disposed when a later one fails). */
  rotateVectorHoisted(a: B.Ciphertext, steps: readonly number[], keys: B.GaloisKeys): B.Ciphertext[] {
    const out: B.Ciphertext[] = [];
    try {
      for (const step of steps) out.push(this.rotateVector(a, step, keys));
    } catch (e) {
      for (const c of out) c.dispose();
      throw e;
    }
    return out;
  }
  rotateRows(a: B.Ciphertext, steps: number, keys: B.GaloisKeys): B.Ciphertext {
    if (!isIntegerScheme(this.#ctx.params.scheme))
      throw new HeftyError('E_UNSUPPORTED', 'rotateRows is a BFV and BGV operation');
    const x = this.#ct(a);
    this.#ctx.galoisElt(steps);
    // SEAL composes a step without its own key from the keys of its non-adjacent form; it raises the missing key.
    const k = unwrap(this.#ctx, keys, WasmGaloisKeys, 'galois keys');
    return this.#unary((out) => this.raw.rotateRows(x, steps, k, out));
  }
  rotateColumns(a: B.Ciphertext, keys: B.GaloisKeys): B.Ciphertext {
    if (!isIntegerScheme(this.#ctx.params.scheme))
      throw new HeftyError('E_UNSUPPORTED', 'rotateColumns is a BFV and BGV operation');
    const x = this.#ct(a);
    const k = this.#galois(keys, this.#ctx.conjugationElt);
    return this.#unary((out) => this.raw.rotateColumns(x, k, out));
  }
  complexConjugate(a: B.Ciphertext, keys: B.GaloisKeys): B.Ciphertext {
    if (this.#ctx.params.scheme !== 'ckks')
      throw new HeftyError('E_UNSUPPORTED', 'complexConjugate is a CKKS operation');
    const x = this.#ct(a);
    const k = this.#galois(keys, this.#ctx.conjugationElt);
    return this.#unary((out) => this.raw.complexConjugate(x, k, out));
  }
  applyGalois(a: B.Ciphertext, galoisElt: number, keys: B.GaloisKeys): B.Ciphertext {
    const x = this.#ct(a);
    const k = this.#galois(keys, galoisElt);
    return this.#unary((out) => this.raw.applyGalois(x, galoisElt, k, out));
  }
  addMany(list: readonly B.Ciphertext[]): B.Ciphertext {
    if (list.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'addMany needs at least one ciphertext');
    let acc = list[0].clone();
    for (const next of list.slice(1)) {
      const sum = this.add(acc, next);
      acc.dispose();
      acc = sum;
    }
    return acc;
  }
  multiplyMany(list: readonly B.Ciphertext[], keys: B.RelinKeys): B.Ciphertext {
    if (list.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'multiplyMany needs at least one ciphertext');
    // A balanced product tree keeps the multiplicative depth at ceil(log2(n)), as SEAL's multiply_many does.
    let layer = list.map((c) => c.clone());
    while (layer.length > 1) {
      const next: B.Ciphertext[] = [];
      for (let i = 0; i + 1 < layer.length; i += 2) {
        const product = this.multiply(layer[i], layer[i + 1]);
        next.push(this.relinearize(product, keys));
        product.dispose();
        layer[i].dispose();
        layer[i + 1].dispose();
      }
      if (layer.length % 2 === 1) next.push(layer[layer.length - 1]);
      layer = next;
    }
    return layer[0];
  }
}

class WasmContext extends Owner<S.SEALContext> implements B.BackendContext {
  readonly backend: WasmBackend;
  readonly params: B.ParamsSpec;
  readonly security: B.SecurityLevel;
  readonly slotCount: number;
  readonly levels: readonly B.LevelInfo[];
  readonly keyParmsId: string;
  readonly firstParmsId: string;
  readonly conjugationElt: number;
  readonly load: B.ObjectLoader;
  readonly #chainIndex = new Map<string, number>();
  readonly #parmsIds = new Map<string, S.ParmsIdType>();
  #evaluator: S.Evaluator | null = null;

  constructor(backend: WasmBackend, raw: S.SEALContext, params: B.ParamsSpec, security: B.SecurityLevel) {
    super(backend.rt, raw);
    this.backend = backend;
    this.params = params;
    this.security = security;
    const n = params.polyModulusDegree;
    this.slotCount = params.scheme === 'ckks' ? n / 2 : n;
    this.conjugationElt = 2 * n - 1;
    const levels: B.LevelInfo[] = [];
    // node-seal's nextContextData() on the last level returns that level again, so stop at chain index 0.
    for (let data = raw.keyContextData(); ; data = data.nextContextData()) {
      const id = parmsIdToHex(data.parmsId().values());
      const primes = this.rt.seal.jsArrayFromVecModulus(data.parms().coeffModulus()) as bigint[];
      levels.push({ parmsId: id, chainIndex: data.chainIndex(), primes: primes.map(BigInt) });
      this.#chainIndex.set(id, data.chainIndex());
      this.#parmsIds.set(id, data.parmsId());
      if (data.chainIndex() === 0) break;
    }
    this.levels = levels;
    this.keyParmsId = levels[0].parmsId;
    this.firstParmsId = parmsIdToHex(raw.firstParmsId().values());
    this.load = this.#loader();
  }

  get evaluatorRaw(): S.Evaluator {
    this.#evaluator ??= new this.rt.seal.Evaluator(this.raw);
    return this.#evaluator;
  }

  override dispose(): void {
    this.#evaluator?.delete();
    this.#evaluator = null;
    super.dispose();
  }

  chainIndexOf(parmsId: string): number {
    const index = this.#chainIndex.get(parmsId);
    if (index === undefined) throw new HeftyError('E_PARAMS_MISMATCH', `parms_id ${parmsId} is not in this context`);
    return index;
  }

  parmsIdHandle(parmsId: string): S.ParmsIdType {
    const handle = this.#parmsIds.get(parmsId);
    if (handle === undefined) throw new HeftyError('E_PARAMS_MISMATCH', `parms_id ${parmsId} is not in this context`);
    return handle;
  }

  galoisElt(steps: number): number {
    return galoisEltFromStep(steps, this.params.polyModulusDegree);
  }

  requireKeySwitching(): void {
    if (!this.raw.usingKeyswitching()) {
      throw new HeftyError(
        'E_UNSUPPORTED',
        'these parameters have a single prime: no relinearization or rotation keys',
      );
    }
  }

  wrapResult(out: S.Ciphertext, run: (out: S.Ciphertext) => void): B.Ciphertext {
    try {
      this.rt.guard(() => run(out));
    } catch (e) {
      out.delete();
      throw e;
    }
    return new WasmCiphertext(this, out);
  }

  createKeyGenerator(secretKey?: B.SecretKey): B.KeyGenerator {
    const sk = secretKey === undefined ? undefined : unwrap(this, secretKey, WasmSecretKey, 'secret key');
    const raw = this.rt.guard(() =>
      sk ? new this.rt.seal.KeyGenerator(this.raw, sk) : new this.rt.seal.KeyGenerator(this.raw),
    );
    return new WasmKeyGenerator(this, raw);
  }

  createEncryptor(keys: { publicKey?: B.PublicKey; secretKey?: B.SecretKey }): B.Encryptor {
    if (!keys.publicKey && !keys.secretKey)
      throw new HeftyError('E_MISSING_KEY', 'an encryptor needs a public or a secret key');
    const sk = keys.secretKey && unwrap(this, keys.secretKey, WasmSecretKey, 'secret key');
    // node-seal's Encryptor always wants a valid public key; a secret-key-only encryptor derives one.
    const derived = keys.publicKey ? undefined : this.createKeyGenerator(keys.secretKey).createPublicKey();
    const pk = unwrap(this, keys.publicKey ?? derived, WasmPublicKey, 'public key');
    try {
      const raw = this.rt.guard(() =>
        sk ? new this.rt.seal.Encryptor(this.raw, pk, sk) : new this.rt.seal.Encryptor(this.raw, pk),
      );
      return new WasmEncryptor(this, raw, keys.publicKey !== undefined, sk !== undefined);
    } finally {
      derived?.dispose();
    }
  }

  createDecryptor(secretKey: B.SecretKey): B.Decryptor {
    const sk = unwrap(this, secretKey, WasmSecretKey, 'secret key');
    return new WasmDecryptor(
      this,
      this.rt.guard(() => new this.rt.seal.Decryptor(this.raw, sk)),
    );
  }

  createEvaluator(): B.Evaluator {
    return new WasmEvaluator(
      this,
      this.rt.guard(() => new this.rt.seal.Evaluator(this.raw)),
    );
  }

  createCkksEncoder(): B.CkksEncoder {
    if (this.params.scheme !== 'ckks') throw new HeftyError('E_UNSUPPORTED', 'the CKKS encoder needs CKKS parameters');
    return new WasmCkksEncoder(
      this,
      this.rt.guard(() => new this.rt.seal.CKKSEncoder(this.raw)),
    );
  }

  createBatchEncoder(): B.BatchEncoder {
    if (!isIntegerScheme(this.params.scheme))
      throw new HeftyError('E_UNSUPPORTED', 'the batch encoder needs BFV or BGV parameters');
    return new WasmBatchEncoder(
      this,
      this.rt.guard(() => new this.rt.seal.BatchEncoder(this.raw), 'E_INVALID_PARAMS'),
    );
  }

  #loader(): B.ObjectLoader {
    const load = <T extends S.ClassHandle & { loadFromArray(ctx: S.SEALContext, bytes: unknown): void }>(
      kind: LoadKind,
      bytes: Uint8Array,
      make: () => T,
    ): T => {
      checkLoadBytes(bytes);
      // Inflated here, bounded by what the object can legally be: node-seal only ever sees uncompressed bytes.
      const plain = decompress(bytes, maxInflated(kind, this.params, bytes.length));
      const raw = make();
      try {
        this.rt.guard(() => raw.loadFromArray(this.raw, plain), 'E_BAD_SERIALIZATION');
      } catch (e) {
        raw.delete();
        throw asLoadError(e);
      }
      return raw;
    };
    const seal = this.rt.seal;
    return {
      plaintext: (bytes) =>
        new WasmPlaintext(
          this.rt,
          load('plaintext', bytes, () => new seal.Plaintext()),
        ),
      ciphertext: (bytes) =>
        new WasmCiphertext(
          this,
          load('ciphertext', bytes, () => new seal.Ciphertext()),
        ),
      secretKey: (bytes) =>
        new WasmSecretKey(
          this.rt,
          load('secret-key', bytes, () => new seal.SecretKey()),
        ),
      publicKey: (bytes) =>
        new WasmPublicKey(
          this.rt,
          load('public-key', bytes, () => new seal.PublicKey()),
        ),
      relinKeys: (bytes) =>
        new WasmRelinKeys(
          this.rt,
          load('keys', bytes, () => new seal.RelinKeys()),
        ),
      galoisKeys: (bytes) =>
        new WasmGaloisKeys(
          this.rt,
          load('keys', bytes, () => new seal.GaloisKeys()),
          this.params.polyModulusDegree,
        ),
    };
  }
}

/** A failed load is malformed input, unless SEAL said the object belongs to other parameters. */
function asLoadError(e: unknown): unknown {
  if (e instanceof HeftyError && e.code !== 'E_PARAMS_MISMATCH' && e.code !== 'E_BAD_SERIALIZATION') {
    return new HeftyError('E_BAD_SERIALIZATION', e.message, { cause: e });
  }
  return e;
}

function checkLoadBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array))
    throw new HeftyError('E_BAD_SERIALIZATION', 'serialized objects must be a Uint8Array');
  if (bytes.length < 16) throw new HeftyError('E_BAD_SERIALIZATION', 'too short for a SEAL header');
  if (bytes.length > MAX_LOAD_BYTES) throw new HeftyError('E_BAD_SERIALIZATION', 'object larger than 1 GiB');
}

const SCHEME_TYPES = { bfv: 1, ckks: 2, bgv: 3 } as const;
const SCHEMES_BY_TYPE: Readonly<Record<number, B.Scheme>> = { 1: 'bfv', 2: 'ckks', 3: 'bgv' };

class WasmBackend implements B.Backend {
  readonly name = 'wasm';
  readonly capabilities: B.BackendCapabilities = { schemes: ['ckks', 'bfv', 'bgv'] };
  readonly rt: WasmRuntime;

  constructor(rt: WasmRuntime) {
    this.rt = rt;
  }

  #secLevel(level: Exclude<B.SecurityLevel, 'none'>): S.SecLevelType {
    return this.rt.securityLevel(level);
  }

  #checkDegree(n: number): void {
    if (!Number.isInteger(n) || n < 1024 || n > 32768 || (n & (n - 1)) !== 0) {
      throw new HeftyError('E_INVALID_PARAMS', `polyModulusDegree must be a power of two in [1024, 32768], got ${n}`);
    }
  }

  coeffModulusCreate(polyModulusDegree: number, bitSizes: readonly number[]): bigint[] {
    this.#checkDegree(polyModulusDegree);
    if (bitSizes.length === 0 || bitSizes.some((b) => !Number.isInteger(b) || b < 2 || b > 60)) {
      throw new HeftyError('E_INVALID_PARAMS', 'coefficient modulus bit sizes must be integers in [2, 60]');
    }
    const vec = this.rt.guard(
      () => this.rt.seal.CoeffModulus.Create(polyModulusDegree, Int32Array.from(bitSizes)),
      'E_INVALID_PARAMS',
    );
    return this.#primes(vec);
  }

  coeffModulusBfvDefault(polyModulusDegree: number, security: Exclude<B.SecurityLevel, 'none'>): bigint[] {
    this.#checkDegree(polyModulusDegree);
    const vec = this.rt.guard(
      () => this.rt.seal.CoeffModulus.BFVDefault(polyModulusDegree, this.#secLevel(security)),
      'E_INVALID_PARAMS',
    );
    return this.#primes(vec);
  }

  plainModulusBatching(polyModulusDegree: number, bitSize: number): bigint {
    this.#checkDegree(polyModulusDegree);
    const m = this.rt.guard(() => this.rt.seal.PlainModulus.Batching(polyModulusDegree, bitSize), 'E_INVALID_PARAMS');
    try {
      return m.value();
    } finally {
      m.delete();
    }
  }

  maxCoeffModulusBits(polyModulusDegree: number, security: Exclude<B.SecurityLevel, 'none'>): number {
    return this.rt.guard(() => this.rt.seal.CoeffModulus.MaxBitCount(polyModulusDegree, this.#secLevel(security)));
  }

  #primes(vec: S.VectorModulus): bigint[] {
    try {
      return (this.rt.seal.jsArrayFromVecModulus(vec) as bigint[]).map(BigInt);
    } finally {
      vec.delete();
    }
  }

  #rawParams(params: B.ParamsSpec): S.EncryptionParameters {
    const seal = this.rt.seal;
    const schemeValue = SCHEME_TYPES[params.scheme];
    if (schemeValue === undefined)
      throw new HeftyError('E_INVALID_PARAMS', `unknown scheme "${String(params.scheme)}"`);
    this.#checkDegree(params.polyModulusDegree);
    if (!Array.isArray(params.coeffModulus) || params.coeffModulus.length === 0 || params.coeffModulus.length > 64) {
      throw new HeftyError('E_INVALID_PARAMS', 'coeffModulus must list 1 to 64 primes');
    }
    const parms = new seal.EncryptionParameters(seal.SchemeType[params.scheme]);
    try {
      this.rt.guard(() => {
        parms.setPolyModulusDegree(params.polyModulusDegree);
        const vec = new seal.VectorModulus();
        for (const q of params.coeffModulus) {
          const modulus = new seal.Modulus(BigInt(q));
          vec.push_back(modulus);
          modulus.delete();
        }
        parms.setCoeffModulus(vec);
        vec.delete();
        if (isIntegerScheme(params.scheme)) {
          if (params.plainModulus === undefined)
            throw new HeftyError('E_INVALID_PARAMS', `${params.scheme.toUpperCase()} needs a plainModulus`);
          const t = new seal.Modulus(BigInt(params.plainModulus));
          parms.setPlainModulus(t);
          t.delete();
        }
      }, 'E_INVALID_PARAMS');
      return parms;
    } catch (e) {
      parms.delete();
      throw e;
    }
  }

  createContext(params: B.ParamsSpec, security: B.SecurityLevel): B.BackendContext {
    const parms = this.#rawParams(params);
    try {
      if (security !== 'none') {
        const bits = params.coeffModulus.reduce((sum, q) => sum + BigInt(q).toString(2).length, 0);
        const max = this.maxCoeffModulusBits(params.polyModulusDegree, security);
        if (bits > max) {
          throw new HeftyError(
            'E_INSECURE_PARAMS',
            `coefficient modulus of ${bits} bits exceeds ${max} bits, the ${security}-bit security limit for N=${params.polyModulusDegree}`,
          );
        }
      }
      const raw = this.rt.guard(
        () => new this.rt.seal.SEALContext(parms, true, this.rt.securityLevel(security)),
        'E_INVALID_PARAMS',
      );
      if (!raw.parametersSet()) {
        raw.delete();
        throw new HeftyError(
          'E_INVALID_PARAMS',
          'SEAL rejected these parameters (primes must be distinct, NTT-friendly and ≤ 60 bits)',
        );
      }
      return new WasmContext(this, raw, normalizeParams(params), security);
    } finally {
      parms.delete();
    }
  }

  saveParams(params: B.ParamsSpec, compression?: B.Compression): Uint8Array {
    const parms = this.#rawParams(params);
    try {
      return savable(this.rt, parms, compression);
    } finally {
      parms.delete();
    }
  }

  loadParams(bytes: Uint8Array): B.ParamsSpec {
    checkLoadBytes(bytes);
    const plain = decompress(bytes, MAX_PARAMS_BYTES);
    const seal = this.rt.seal;
    const parms = new seal.EncryptionParameters(seal.SchemeType.none);
    try {
      try {
        this.rt.guard(() => parms.loadFromArray(plain), 'E_BAD_SERIALIZATION');
      } catch (e) {
        throw asLoadError(e);
      }
      const scheme = SCHEMES_BY_TYPE[parms.scheme().value];
      if (scheme === undefined)
        throw new HeftyError(
          'E_UNSUPPORTED',
          `scheme ${parms.scheme().value} is not supported (CKKS, BFV and BGV are)`,
        );
      const spec: B.ParamsSpec = {
        scheme,
        polyModulusDegree: parms.polyModulusDegree(),
        coeffModulus: (seal.jsArrayFromVecModulus(parms.coeffModulus()) as bigint[]).map(BigInt),
        ...(isIntegerScheme(scheme) ? { plainModulus: BigInt(parms.plainModulus().value()) } : {}),
      };
      return spec;
    } finally {
      parms.delete();
    }
  }
}

function normalizeParams(params: B.ParamsSpec): B.ParamsSpec {
  return Object.freeze({
    scheme: params.scheme,
    polyModulusDegree: params.polyModulusDegree,
    coeffModulus: Object.freeze(params.coeffModulus.map((q) => BigInt(q))),
    ...(params.plainModulus !== undefined ? { plainModulus: BigInt(params.plainModulus) } : {}),
  });
}

type WasmApi = {
  instantiate(...args: unknown[]): Promise<{ instance: { exports: Record<string, unknown> } }>;
  Memory: abstract new (...args: never[]) => { buffer: ArrayBuffer };
};

/**
 * Loads node-seal while watching WebAssembly.instantiate, to keep a reference to the module's linear memory
 * (emscripten does not export it) so memory use can be measured and reported.
 */
async function loadSeal(): Promise<{ seal: Seal; memory?: { buffer: ArrayBuffer } }> {
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const original = wasm.instantiate;
  let memory: { buffer: ArrayBuffer } | undefined;
  wasm.instantiate = async (...args: unknown[]) => {
    const result = await original.apply(wasm, args);
    memory = Object.values(result.instance.exports).find((e): e is { buffer: ArrayBuffer } => e instanceof wasm.Memory);
    return result;
  };
  try {
    return { seal: await SEAL(), memory };
  } finally {
    wasm.instantiate = original;
  }
}

export type WasmBackendApi = B.Backend & {
  /** Bytes of WASM linear memory (it only grows); undefined if it could not be observed. */
  memoryBytes(): number | undefined;
};

let instance: Promise<WasmBackendApi> | undefined;

/** Loads node-seal once per process (or worker thread) and returns the backend. */
export function createWasmBackend(): Promise<WasmBackendApi> {
  instance ??= loadSeal().then(({ seal, memory }) => {
    const backend = new WasmBackend(new WasmRuntime(seal));
    return Object.assign(backend, { memoryBytes: () => memory?.buffer.byteLength });
  });
  return instance;
}
