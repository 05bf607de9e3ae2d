/**
 * The native backend: hefty's C++ CKKS engine (native/rlwe, native/ckks) behind the Backend interface.
 * Objects are opaque addon handles; `dispose()` frees their memory at once, and the addon's own finalizers free
 * what callers forget. SEAL bytes cross the boundary uncompressed: zlib/zstd are applied here (seal-compression.ts),
 * and decompression is bounded by the largest legal object so compressed bombs fail fast.
 *
 * Parameters of every scheme (EncryptionParameters, parms_ids, prime search, BFVDefault, PlainModulus.Batching,
 * the security table) are native, and so are CKKS, BFV and BGV evaluation (native/bfv: BEHZ multiplication; native/bgv:
 * NTT-form ciphertexts with SEAL's correction factor; both share the batch encoder).
 * Ciphertexts, plaintexts and keys share one handle layout across schemes; the entry points that differ by
 * scheme are picked once per context (SchemeEngine).
 * Heavy evaluator calls also have `...Async` variants that run on libuv worker threads.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { HeftyError } from '../errors.ts';
import { addonCandidates, prebuildTag, type AddonCandidate } from './addon-location.ts';
import { defaultGaloisSteps, galoisEltFromStep } from './galois.ts';
import { call, callAsync } from './native-call.ts';
import { NativeNtt } from './native-ntt.ts';
import { parmsIdToHex, parmsIdFromHex } from './parms-id.ts';
import { compress, decompress } from './seal-compression.ts';
import { MAX_PARAMS_BYTES, maxInflated, type LoadKind } from './seal-inflation.ts';
import type * as B from './types.ts';

/** An opaque addon object. */
type Handle = object & { readonly __native: unique symbol };

interface LevelRecord {
  parmsId: BigUint64Array;
  primes: BigUint64Array;
  chainIndex: number;
  totalBits: number;
}

/** The entry points of an integer scheme; the addon exports them once per scheme, as bfv<Name> and bgv<Name>. */
interface IntegerEntryPoints {
  ContextCreate(n: number, primes: BigUint64Array, plainModulus: bigint): Handle;
  ContextLevels(ctx: Handle): LevelRecord[];
  SetTestSeed(ctx: Handle, seed: Uint8Array | null): void;
  /** Slot values in (-t/2, t/2]; the addon maps them to residues below t. */
  Encode(ctx: Handle, values: BigInt64Array): Handle;
  /** Slot values in (-t/2, t/2]. */
  Decode(ctx: Handle, plain: Handle): BigInt64Array;
  /** The correction factor of a ciphertext (BGV; 1 for the other schemes). */
  CorrectionFactor(ct: Handle): bigint;
  /** The object's SEAL bytes; with `true`, only their count; into a Uint8Array, written there, their count. */
  Save(ctx: Handle, object: Handle, target?: Uint8Array | true): Uint8Array | number;
  Load(ctx: Handle, kind: LoadKind, bytes: Uint8Array): Handle;
  KeygenSecret(ctx: Handle): Handle;
  KeygenPublic(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  KeygenRelin(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  KeygenGalois(ctx: Handle, sk: Handle, elts: Uint32Array, seeded: boolean): Handle | Uint8Array;
  KeygenRelinAsync(ctx: Handle, sk: Handle): Promise<Handle>;
  KeygenGaloisAsync(ctx: Handle, sk: Handle, elts: Uint32Array): Promise<Handle>;
  Encrypt(ctx: Handle, pk: Handle, plain: Handle): Handle;
  EncryptSymmetric(ctx: Handle, sk: Handle, plain: Handle, seeded: boolean): Handle | Uint8Array;
  Decrypt(ctx: Handle, sk: Handle, ct: Handle): Handle;
  NoiseBudget(ctx: Handle, sk: Handle, ct: Handle): number;
  Eval(op: string, ctx: Handle, ...operands: unknown[]): Handle;
  EvalAsync(op: string, ctx: Handle, ...operands: unknown[]): Promise<Handle>;
}

type IntegerScheme = 'bfv' | 'bgv';
type Prefixed<P extends string, T> = { [K in keyof T as `${P}${K & string}`]: T[K] };
type IntegerAddon = Prefixed<'bfv', IntegerEntryPoints> & Prefixed<'bgv', IntegerEntryPoints>;

interface CkksAddon extends IntegerAddon {
  /**
   * Where the addon leaves the metadata of each ciphertext or plaintext handle it returns: parms_id (4 u64 words),
   * then size, scale and NTT form (f64). Read right after a synchronous call (never after an await), it saves a
   * second crossing per op.
   */
  resultInfo: ArrayBuffer;
  ckksCoeffModulusCreate(n: number, bits: number[]): BigUint64Array;
  ckksContextCreate(n: number, primes: BigUint64Array): Handle;
  ckksContextLevels(ctx: Handle): LevelRecord[];
  ckksSetThreads(threads: number): number;
  ckksGetThreads(): number;
  ckksLiveHandles(): number;
  simdPath(): 'avx512-ifma' | 'avx512' | 'scalar';
  ckksSetTestSeed(ctx: Handle, seed: Uint8Array | null): void;
  ckksDispose(handle: Handle): void;
  ckksEncode(ctx: Handle, values: Float64Array, scale: number, parmsId?: BigUint64Array): Handle;
  ckksEncodeScalar(ctx: Handle, value: number, scale: number, parmsId?: BigUint64Array): Handle;
  ckksDecode(ctx: Handle, plain: Handle): Float64Array;
  ckksCipherInfo(ct: Handle): { parmsId: BigUint64Array; size: number; scale: number; isNttForm: boolean };
  ckksCipherCopy(ct: Handle, scale?: number): Handle;
  ckksSave(ctx: Handle, object: Handle, target?: Uint8Array | true): Uint8Array | number;
  ckksLoad(ctx: Handle, kind: LoadKind, bytes: Uint8Array): Handle;
  ckksKeyIndices(keys: Handle): Uint32Array;
  ckksKeygenSecret(ctx: Handle): Handle;
  ckksKeygenPublic(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  ckksKeygenRelin(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  ckksKeygenGalois(ctx: Handle, sk: Handle, elts: Uint32Array, seeded: boolean): Handle | Uint8Array;
  ckksKeygenRelinAsync(ctx: Handle, sk: Handle): Promise<Handle>;
  ckksKeygenGaloisAsync(ctx: Handle, sk: Handle, elts: Uint32Array): Promise<Handle>;
  ckksEncrypt(ctx: Handle, pk: Handle, plain: Handle): Handle;
  ckksEncryptSymmetric(ctx: Handle, sk: Handle, plain: Handle, seeded: boolean): Handle | Uint8Array;
  ckksDecrypt(ctx: Handle, sk: Handle, ct: Handle): Handle;
  ckksEval(op: 'rotateVectorHoisted', ctx: Handle, ct: Handle, steps: Int32Array, keys: Handle): Handle[];
  ckksEval(op: string, ctx: Handle, ...operands: unknown[]): Handle;
  ckksEvalAsync(op: 'rotateVectorHoisted', ctx: Handle, ct: Handle, steps: Int32Array, keys: Handle): Promise<Handle[]>;
  ckksEvalAsync(op: string, ctx: Handle, ...operands: unknown[]): Promise<Handle>;
  sealParamsSave(scheme: number, n: number, primes: BigUint64Array, plain: bigint): Uint8Array;
  sealParamsLoad(bytes: Uint8Array): {
    scheme: number;
    polyModulusDegree: number;
    coeffModulus: BigUint64Array;
    plainModulus: bigint;
  };
  sealChainParmsIds(scheme: number, n: number, primes: BigUint64Array, plain: bigint): BigUint64Array[];
  sealMaxBitCount(n: number, security: number): number;
  sealBfvDefault(n: number, security: number): BigUint64Array;
  sealPlainModulusBatching(n: number, bits: number): bigint;
  nttCreate(n: number, primes: BigUint64Array): Handle;
  nttForward(ntt: Handle, prime: number, words: BigUint64Array): void;
  nttInverse(ntt: Handle, prime: number, words: BigUint64Array): void;
  nttTables(ntt: Handle, prime: number): { rootPowers: BigUint64Array; invRootPowers: BigUint64Array; nInv: bigint };
}

interface CipherInfo {
  parmsId: string;
  size: number;
  scale: number;
  isNttForm: boolean;
}
type PlainInfo = Pick<CipherInfo, 'parmsId' | 'scale'>;

/** The addon entry points that differ by scheme (object info, copies, key indices and dispose are shared). */
interface SchemeEngine {
  levels(ctx: Handle): LevelRecord[];
  setTestSeed(ctx: Handle, seed: Uint8Array | null): void;
  save(ctx: Handle, object: Handle, target?: Uint8Array | true): Uint8Array | number;
  load(ctx: Handle, kind: LoadKind, bytes: Uint8Array): Handle;
  keygenSecret(ctx: Handle): Handle;
  keygenPublic(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  keygenRelin(ctx: Handle, sk: Handle, seeded: boolean): Handle | Uint8Array;
  keygenGalois(ctx: Handle, sk: Handle, elts: Uint32Array, seeded: boolean): Handle | Uint8Array;
  keygenRelinAsync(ctx: Handle, sk: Handle): Promise<Handle>;
  keygenGaloisAsync(ctx: Handle, sk: Handle, elts: Uint32Array): Promise<Handle>;
  encrypt(ctx: Handle, pk: Handle, plain: Handle): Handle;
  encryptSymmetric(ctx: Handle, sk: Handle, plain: Handle, seeded: boolean): Handle | Uint8Array;
  decrypt(ctx: Handle, sk: Handle, ct: Handle): Handle;
  eval(op: string, ctx: Handle, ...operands: unknown[]): Handle;
  evalAsync(op: string, ctx: Handle, ...operands: unknown[]): Promise<Handle>;
}

function schemeEngine(addon: CkksAddon, scheme: B.Scheme): SchemeEngine {
  if (scheme === 'bfv' || scheme === 'bgv') return integerEngine(addon, scheme);
  return {
    levels: (c) => addon.ckksContextLevels(c),
    setTestSeed: (c, seed) => addon.ckksSetTestSeed(c, seed),
    save: (c, o, target) => addon.ckksSave(c, o, target),
    load: (c, kind, bytes) => addon.ckksLoad(c, kind, bytes),
    keygenSecret: (c) => addon.ckksKeygenSecret(c),
    keygenPublic: (c, sk, seeded) => addon.ckksKeygenPublic(c, sk, seeded),
    keygenRelin: (c, sk, seeded) => addon.ckksKeygenRelin(c, sk, seeded),
    keygenGalois: (c, sk, elts, seeded) => addon.ckksKeygenGalois(c, sk, elts, seeded),
    keygenRelinAsync: (c, sk) => addon.ckksKeygenRelinAsync(c, sk),
    keygenGaloisAsync: (c, sk, elts) => addon.ckksKeygenGaloisAsync(c, sk, elts),
    encrypt: (c, pk, p) => addon.ckksEncrypt(c, pk, p),
    encryptSymmetric: (c, sk, p, seeded) => addon.ckksEncryptSymmetric(c, sk, p, seeded),
    decrypt: (c, sk, ct) => addon.ckksDecrypt(c, sk, ct),
    eval: (op, c, ...operands) => addon.ckksEval(op, c, ...operands),
    evalAsync: (op, c, ...operands) => addon.ckksEvalAsync(op, c, ...operands),
  };
}

/** One integer scheme's entry point by name (bfvSave, bgvSave, ...). */
function integerEntry<K extends keyof IntegerEntryPoints>(
  addon: CkksAddon,
  scheme: IntegerScheme,
  name: K,
): IntegerEntryPoints[K] {
  return (addon as unknown as Record<string, IntegerEntryPoints[K]>)[`${scheme}${name}`];
}

function integerEngine(addon: CkksAddon, scheme: IntegerScheme): SchemeEngine {
  const entry = <K extends keyof IntegerEntryPoints>(name: K): IntegerEntryPoints[K] =>
    integerEntry(addon, scheme, name);
  return {
    levels: entry('ContextLevels'),
    setTestSeed: entry('SetTestSeed'),
    save: entry('Save'),
    load: entry('Load'),
    keygenSecret: entry('KeygenSecret'),
    keygenPublic: entry('KeygenPublic'),
    keygenRelin: entry('KeygenRelin'),
    keygenGalois: entry('KeygenGalois'),
    keygenRelinAsync: entry('KeygenRelinAsync'),
    keygenGaloisAsync: entry('KeygenGaloisAsync'),
    encrypt: entry('Encrypt'),
    encryptSymmetric: entry('EncryptSymmetric'),
    decrypt: entry('Decrypt'),
    eval: entry('Eval'),
    evalAsync: entry('EvalAsync'),
  };
}

/** Requires the first addon candidate that loads (see addon-location.ts); says why none did. */
function loadAddon(): { addon: CkksAddon; source: AddonCandidate } {
  const require = createRequire(import.meta.url);
  const candidates = addonCandidates();
  if (candidates.length === 0) {
    throw new HeftyError(
      'E_BACKEND_UNAVAILABLE',
      `native addon not built and no prebuilt binary for ${prebuildTag()} (npm rebuild hefty builds it from source)`,
    );
  }
  const failures: string[] = [];
  for (const source of candidates) {
    try {
      const addon = require(source.file) as Partial<CkksAddon>;
      if (typeof addon.ckksContextCreate !== 'function') failures.push(`${source.file}: no CKKS engine`);
      else if (!(addon.resultInfo instanceof ArrayBuffer))
        failures.push(`${source.file}: built from older sources (no result-info block); rebuild it`);
      else return { addon: addon as CkksAddon, source };
    } catch (e) {
      failures.push(`${source.file}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new HeftyError('E_BACKEND_UNAVAILABLE', `native addon not loadable: ${failures.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------------------
// Objects.

abstract class NativeObject implements B.Owned {
  #handle: Handle | null;
  readonly ctx: NativeContext;

  constructor(ctx: NativeContext, handle: Handle) {
    this.ctx = ctx;
    this.#handle = handle;
  }

  get handle(): Handle {
    if (this.#handle === null) throw new HeftyError('E_DISPOSED', `${this.constructor.name} was disposed`);
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  dispose(): void {
    if (this.#handle === null) return;
    this.ctx.addon.ckksDispose(this.#handle);
    this.#handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  save(compression?: B.Compression): Uint8Array {
    const bytes = call(() => this.ctx.engine.save(this.ctx.handle, this.handle)) as Uint8Array;
    return compress(bytes, compression);
  }

  savedSize(): number {
    return call(() => this.ctx.engine.save(this.ctx.handle, this.handle, true)) as number;
  }

  saveInto(target: Uint8Array): number {
    if (!(target instanceof Uint8Array)) throw new HeftyError('E_INVALID_ARGUMENT', 'save target must be a Uint8Array');
    return call(() => this.ctx.engine.save(this.ctx.handle, this.handle, target)) as number;
  }
}

class NativePlaintext extends NativeObject implements B.Plaintext {
  readonly kind = 'plaintext';
  readonly parmsId: string;
  readonly scale: number;
  /** `info` defaults to what the synchronous call that just returned `handle` left in the result-info block. */
  constructor(ctx: NativeContext, handle: Handle, info: PlainInfo = ctx.resultPlainInfo()) {
    super(ctx, handle);
    this.parmsId = info.parmsId;
    this.scale = info.scale;
  }
}

export class NativeCiphertext extends NativeObject implements B.Ciphertext {
  readonly kind = 'ciphertext';
  readonly parmsId: string;
  readonly size: number;
  readonly scale: number;
  readonly isNttForm: boolean;
  /** `info` defaults to what the synchronous call that just returned `handle` left in the result-info block. */
  constructor(ctx: NativeContext, handle: Handle, info: CipherInfo = ctx.resultCipherInfo()) {
    super(ctx, handle);
    this.parmsId = info.parmsId;
    this.size = info.size;
    this.scale = info.scale;
    this.isNttForm = info.isNttForm;
  }
  get chainIndex(): number {
    return this.ctx.chainIndexOf(this.parmsId);
  }
  clone(): NativeCiphertext {
    return new NativeCiphertext(
      this.ctx,
      call(() => this.ctx.addon.ckksCipherCopy(this.handle)),
    );
  }
  withScale(scale: number): NativeCiphertext {
    if (this.ctx.params.scheme !== 'ckks' && scale !== 1)
      throw new HeftyError('E_INVALID_ARGUMENT', 'BFV and BGV ciphertexts have scale 1');
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `invalid scale ${scale}`);
    return new NativeCiphertext(
      this.ctx,
      call(() => this.ctx.addon.ckksCipherCopy(this.handle, scale)),
    );
  }
}

class NativeSecretKey extends NativeObject implements B.SecretKey {
  readonly kind = 'secret-key';
}

class NativePublicKey extends NativeObject implements B.PublicKey {
  readonly kind = 'public-key';
}

class NativeRelinKeys extends NativeObject implements B.RelinKeys {
  readonly kind = 'relin-keys';
}

class NativeGaloisKeys extends NativeObject implements B.GaloisKeys {
  readonly kind = 'galois-keys';
  readonly galoisElts: readonly number[];
  constructor(ctx: NativeContext, handle: Handle) {
    super(ctx, handle);
    this.galoisElts = Object.freeze(
      Array.from(
        call(() => ctx.addon.ckksKeyIndices(handle)),
        (i) => 2 * i + 1,
      ),
    );
  }
  hasKey(galoisElt: number): boolean {
    return this.galoisElts.includes(galoisElt);
  }
}

function own<T extends NativeObject>(
  ctx: NativeContext,
  value: unknown,
  type: abstract new (...a: never[]) => T,
  what: string,
): Handle {
  if (!(value instanceof type))
    throw new HeftyError('E_INVALID_ARGUMENT', `expected a ${what} from the native backend`);
  if (value.ctx !== ctx) throw new HeftyError('E_PARAMS_MISMATCH', `${what} belongs to another context`);
  return value.handle;
}

class Helper implements B.Owned {
  #disposed = false;
  protected readonly ctx: NativeContext;
  constructor(ctx: NativeContext) {
    this.ctx = ctx;
  }
  get disposed(): boolean {
    return this.#disposed;
  }
  protected check(): void {
    if (this.#disposed) throw new HeftyError('E_DISPOSED', `${this.constructor.name} was disposed`);
  }
  dispose(): void {
    this.#disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

export class NativeKeyGenerator extends Helper implements B.KeyGenerator {
  readonly #sk: NativeSecretKey;
  readonly #ownsSecret: boolean;
  constructor(ctx: NativeContext, sk: NativeSecretKey, ownsSecret: boolean) {
    super(ctx);
    this.#sk = sk;
    this.#ownsSecret = ownsSecret;
  }
  get #a(): SchemeEngine {
    this.check();
    return this.ctx.engine;
  }
  secretKey(): B.SecretKey {
    return this.ctx.load.secretKey(this.#sk.save());
  }
  createPublicKey(): B.PublicKey {
    return new NativePublicKey(
      this.ctx,
      call(() => this.#a.keygenPublic(this.ctx.handle, this.#sk.handle, false)) as Handle,
    );
  }
  createRelinKeys(): B.RelinKeys {
    this.ctx.requireKeySwitching();
    return new NativeRelinKeys(
      this.ctx,
      call(() => this.#a.keygenRelin(this.ctx.handle, this.#sk.handle, false)) as Handle,
    );
  }
  createGaloisKeys(spec: B.GaloisSpec): B.GaloisKeys {
    this.ctx.requireKeySwitching();
    const elts = this.#elements(spec);
    return new NativeGaloisKeys(
      this.ctx,
      call(() => this.#a.keygenGalois(this.ctx.handle, this.#sk.handle, elts, false)) as Handle,
    );
  }
  createPublicKeySeeded(compression?: B.Compression): Uint8Array {
    return compress(
      call(() => this.#a.keygenPublic(this.ctx.handle, this.#sk.handle, true)) as Uint8Array,
      compression,
    );
  }
  createRelinKeysSeeded(compression?: B.Compression): Uint8Array {
    this.ctx.requireKeySwitching();
    return compress(call(() => this.#a.keygenRelin(this.ctx.handle, this.#sk.handle, true)) as Uint8Array, compression);
  }
  createGaloisKeysSeeded(spec: B.GaloisSpec, compression?: B.Compression): Uint8Array {
    this.ctx.requireKeySwitching();
    const elts = this.#elements(spec);
    return compress(
      call(() => this.#a.keygenGalois(this.ctx.handle, this.#sk.handle, elts, true)) as Uint8Array,
      compression,
    );
  }
  /** Off-event-loop variants (key generation takes seconds for many galois elements at large N). */
  async createRelinKeysAsync(): Promise<B.RelinKeys> {
    this.ctx.requireKeySwitching();
    const handle = await callAsync(() => this.#a.keygenRelinAsync(this.ctx.handle, this.#sk.handle));
    return new NativeRelinKeys(this.ctx, handle);
  }
  async createGaloisKeysAsync(spec: B.GaloisSpec): Promise<B.GaloisKeys> {
    this.ctx.requireKeySwitching();
    const elts = this.#elements(spec);
    const handle = await callAsync(() => this.#a.keygenGaloisAsync(this.ctx.handle, this.#sk.handle, elts));
    return new NativeGaloisKeys(this.ctx, handle);
  }
  #elements(spec: B.GaloisSpec): Uint32Array {
    const n = this.ctx.params.polyModulusDegree;
    const steps = spec === 'power-of-two' ? [0, ...defaultGaloisSteps(n)] : [...spec];
    return Uint32Array.from(steps, (s) => galoisEltFromStep(s, n));
  }
  override dispose(): void {
    if (this.#ownsSecret) this.#sk.dispose();
    super.dispose();
  }
}

class NativeEncryptor extends Helper implements B.Encryptor {
  readonly #pk?: NativePublicKey;
  readonly #sk?: NativeSecretKey;
  constructor(ctx: NativeContext, pk?: NativePublicKey, sk?: NativeSecretKey) {
    super(ctx);
    this.#pk = pk;
    this.#sk = sk;
  }
  #plain(plain: B.Plaintext): Handle {
    this.check();
    return own(this.ctx, plain, NativePlaintext, 'plaintext');
  }
  encrypt(plain: B.Plaintext): B.Ciphertext {
    const p = this.#plain(plain);
    if (!this.#pk) throw new HeftyError('E_MISSING_KEY', 'public-key encryption needs a public key');
    const pk = this.#pk.handle;
    return new NativeCiphertext(
      this.ctx,
      call(() => this.ctx.engine.encrypt(this.ctx.handle, pk, p)),
    );
  }
  encryptSymmetric(plain: B.Plaintext): B.Ciphertext {
    const p = this.#plain(plain);
    const sk = this.#secret();
    return new NativeCiphertext(
      this.ctx,
      call(() => this.ctx.engine.encryptSymmetric(this.ctx.handle, sk, p, false)) as Handle,
    );
  }
  encryptSymmetricSeeded(plain: B.Plaintext, compression?: B.Compression): Uint8Array {
    const p = this.#plain(plain);
    const sk = this.#secret();
    return compress(
      call(() => this.ctx.engine.encryptSymmetric(this.ctx.handle, sk, p, true)) as Uint8Array,
      compression,
    );
  }
  #secret(): Handle {
    if (!this.#sk) throw new HeftyError('E_MISSING_KEY', 'symmetric encryption needs a secret key');
    return this.#sk.handle;
  }
}

class NativeDecryptor extends Helper implements B.Decryptor {
  readonly #sk: NativeSecretKey;
  constructor(ctx: NativeContext, sk: NativeSecretKey) {
    super(ctx);
    this.#sk = sk;
  }
  decrypt(cipher: B.Ciphertext): B.Plaintext {
    this.check();
    const c = own(this.ctx, cipher, NativeCiphertext, 'ciphertext');
    return new NativePlaintext(
      this.ctx,
      call(() => this.ctx.engine.decrypt(this.ctx.handle, this.#sk.handle, c)),
    );
  }
  invariantNoiseBudget(cipher: B.Ciphertext): number {
    this.check();
    const scheme = this.ctx.integerScheme('noise budget is defined for BFV and BGV only');
    const c = own(this.ctx, cipher, NativeCiphertext, 'ciphertext');
    return call(() => integerEntry(this.ctx.addon, scheme, 'NoiseBudget')(this.ctx.handle, this.#sk.handle, c));
  }
}

class NativeCkksEncoder extends Helper implements B.CkksEncoder {
  readonly slotCount: number;
  constructor(ctx: NativeContext) {
    super(ctx);
    this.slotCount = ctx.slotCount;
  }
  #level(parmsId?: string): BigUint64Array | undefined {
    if (parmsId === undefined) return undefined;
    this.ctx.chainIndexOf(parmsId);
    return parmsIdFromHex(parmsId);
  }
  encode(values: Float64Array, scale: number, parmsId?: string): B.Plaintext {
    this.check();
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
    const level = this.#level(parmsId);
    return new NativePlaintext(
      this.ctx,
      call(() => this.ctx.addon.ckksEncode(this.ctx.handle, values, scale, level)),
    );
  }
  encodeScalar(value: number, scale: number, parmsId?: string): B.Plaintext {
    this.check();
    if (!Number.isFinite(value)) throw new HeftyError('E_NOT_FINITE', 'value must be a finite number');
    if (!(scale > 0) || !Number.isFinite(scale))
      throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `invalid scale ${scale}`);
    const level = this.#level(parmsId);
    return new NativePlaintext(
      this.ctx,
      call(() => this.ctx.addon.ckksEncodeScalar(this.ctx.handle, value, scale, level)),
    );
  }
  decode(plain: B.Plaintext): Float64Array {
    this.check();
    const p = own(this.ctx, plain, NativePlaintext, 'plaintext');
    return call(() => this.ctx.addon.ckksDecode(this.ctx.handle, p));
  }
}

class NativeBatchEncoder extends Helper implements B.BatchEncoder {
  readonly slotCount: number;
  readonly #scheme: IntegerScheme;
  constructor(ctx: NativeContext, scheme: IntegerScheme) {
    super(ctx);
    this.slotCount = ctx.slotCount;
    this.#scheme = scheme;
  }
  encode(values: BigInt64Array): B.Plaintext {
    this.check();
    if (!(values instanceof BigInt64Array))
      throw new HeftyError('E_INVALID_ARGUMENT', 'values must be a BigInt64Array');
    if (values.length > this.slotCount) {
      throw new HeftyError(
        'E_LENGTH_MISMATCH',
        `at most ${this.slotCount} values fit one plaintext, got ${values.length}`,
      );
    }
    // The addon checks each value against (-t/2, t/2] and maps it to its residue (E_VALUE_OUT_OF_RANGE).
    return new NativePlaintext(
      this.ctx,
      call(() => integerEntry(this.ctx.addon, this.#scheme, 'Encode')(this.ctx.handle, values)),
    );
  }
  decode(plain: B.Plaintext): BigInt64Array {
    this.check();
    const p = own(this.ctx, plain, NativePlaintext, 'plaintext');
    return call(() => integerEntry(this.ctx.addon, this.#scheme, 'Decode')(this.ctx.handle, p));
  }
}

export class NativeEvaluator extends Helper implements B.Evaluator {
  #ct(value: B.Ciphertext): Handle {
    return own(this.ctx, value, NativeCiphertext, 'ciphertext');
  }
  #pt(value: B.Plaintext): Handle {
    return own(this.ctx, value, NativePlaintext, 'plaintext');
  }
  #galois(keys: B.GaloisKeys, elt: number): Handle {
    const k = own(this.ctx, keys, NativeGaloisKeys, 'galois keys');
    if (!(keys as NativeGaloisKeys).hasKey(elt))
      throw new HeftyError('E_MISSING_GALOIS_KEY', `no galois key for element ${elt}`);
    return k;
  }
  #relin(keys: B.RelinKeys): Handle {
    return own(this.ctx, keys, NativeRelinKeys, 'relin keys');
  }
  /** BFV or BGV (the integer schemes share every evaluator entry point). */
  get #integer(): boolean {
    return this.ctx.params.scheme !== 'ckks';
  }
  #ckksOnly(op: string): void {
    if (this.#integer) throw new HeftyError('E_UNSUPPORTED', `${op} is a CKKS operation`);
  }
  #run(op: string, ...operands: unknown[]): NativeCiphertext {
    this.check();
    return new NativeCiphertext(
      this.ctx,
      call(() => this.ctx.engine.eval(op, this.ctx.handle, ...operands)),
    );
  }
  async #runAsync(op: string, ...operands: unknown[]): Promise<NativeCiphertext> {
    this.check();
    const handle = await callAsync(() => this.ctx.engine.evalAsync(op, this.ctx.handle, ...operands));
    return new NativeCiphertext(this.ctx, handle, this.ctx.cipherInfo(handle));
  }
  #plainRun(op: string, ...operands: unknown[]): B.Plaintext {
    this.check();
    return new NativePlaintext(
      this.ctx,
      call(() => this.ctx.engine.eval(op, this.ctx.handle, ...operands)),
    );
  }

  negate(a: B.Ciphertext): B.Ciphertext {
    return this.#run('negate', this.#ct(a));
  }
  add(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    return this.#run('add', this.#ct(a), this.#ct(b));
  }
  sub(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    return this.#run('sub', this.#ct(a), this.#ct(b));
  }
  addPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    return this.#run('addPlain', this.#ct(a), this.#pt(p));
  }
  subPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    return this.#run('subPlain', this.#ct(a), this.#pt(p));
  }
  multiply(a: B.Ciphertext, b: B.Ciphertext): B.Ciphertext {
    return this.#run('multiply', this.#ct(a), this.#ct(b));
  }
  square(a: B.Ciphertext): B.Ciphertext {
    return this.#run('square', this.#ct(a));
  }
  multiplyPlain(a: B.Ciphertext, p: B.Plaintext): B.Ciphertext {
    return this.#run('multiplyPlain', this.#ct(a), this.#pt(p));
  }
  relinearize(a: B.Ciphertext, keys: B.RelinKeys): B.Ciphertext {
    return this.#run('relinearize', this.#ct(a), this.#relin(keys));
  }
  rescaleToNext(a: B.Ciphertext): B.Ciphertext {
    this.#ckksOnly('rescaleToNext');
    return this.#run('rescaleToNext', this.#ct(a));
  }
  modSwitchToNext(a: B.Ciphertext): B.Ciphertext {
    return this.#run('modSwitchToNext', this.#ct(a));
  }
  modSwitchTo(a: B.Ciphertext, parmsId: string): B.Ciphertext {
    this.ctx.chainIndexOf(parmsId);
    return this.#run('modSwitchTo', this.#ct(a), parmsIdFromHex(parmsId));
  }
  modSwitchPlainToNext(p: B.Plaintext): B.Plaintext {
    this.#ckksOnly('modSwitchPlainToNext');
    return this.#plainRun('plainModSwitchToNext', this.#pt(p));
  }
  modSwitchPlainTo(p: B.Plaintext, parmsId: string): B.Plaintext {
    this.#ckksOnly('modSwitchPlainTo');
    this.ctx.chainIndexOf(parmsId);
    return this.#plainRun('plainModSwitchTo', this.#pt(p), parmsIdFromHex(parmsId));
  }
  rotateVector(a: B.Ciphertext, steps: number, keys: B.GaloisKeys): B.Ciphertext {
    this.#ckksOnly('rotateVector');
    // SEAL rotates by 0 as a no-op (the element galoisElt(0) names is conjugation).
    if (steps === 0)
      return new NativeCiphertext(
        this.ctx,
        call(() => this.ctx.addon.ckksCipherCopy(this.#ct(a))),
      );
    const k = this.#galois(keys, this.ctx.galoisElt(steps));
    return this.#run('rotateVector', this.#ct(a), steps, k);
  }
  /**
   * One decomposition of c1 for all steps (hoisting); see B.Evaluator.rotateVectorHoisted. Step 0 gives the input,
   * as node-seal's rotateVector does (this engine's rotateVector(a, 0) conjugates instead).
   */
  rotateVectorHoisted(a: B.Ciphertext, steps: readonly number[], keys: B.GaloisKeys): B.Ciphertext[] {
    this.check();
    const operands = this.#hoisted(a, steps, keys);
    if (operands === null) return [];
    const handles = call(() => this.ctx.addon.ckksEval('rotateVectorHoisted', this.ctx.handle, ...operands));
    return handles.map((h) => new NativeCiphertext(this.ctx, h, this.ctx.cipherInfo(h)));
  }
  /** Operands of a hoisted rotation, every step checked (integer, in range, own key); null for no steps. */
  #hoisted(
    a: B.Ciphertext,
    steps: readonly number[],
    keys: B.GaloisKeys,
  ): [ct: Handle, steps: Int32Array, keys: Handle] | null {
    if (!Array.isArray(steps)) throw new HeftyError('E_INVALID_ARGUMENT', 'rotation steps must be an array');
    // No call rotates by more distinct steps than there are slots; this bounds the checks below too.
    if (steps.length > this.ctx.slotCount)
      throw new HeftyError('E_INVALID_ARGUMENT', `${steps.length} rotation steps: at most ${this.ctx.slotCount}`);
    const ct = this.#ct(a);
    if (steps.length === 0) return null;
    let k: Handle | undefined;
    for (const step of steps) k = this.#galois(keys, this.ctx.galoisElt(step));
    return [ct, Int32Array.from(steps), k as Handle];
  }
  /** BFV: SEAL composes a step without its own key from the keys of its non-adjacent form (in the engine). */
  rotateRows(a: B.Ciphertext, steps: number, keys: B.GaloisKeys): B.Ciphertext {
    if (!this.#integer) throw new HeftyError('E_UNSUPPORTED', 'rotateRows is a BFV and BGV operation');
    this.ctx.galoisElt(steps);
    const k = own(this.ctx, keys, NativeGaloisKeys, 'galois keys');
    return this.#run('rotateRows', this.#ct(a), steps, k);
  }
  rotateColumns(a: B.Ciphertext, keys: B.GaloisKeys): B.Ciphertext {
    if (!this.#integer) throw new HeftyError('E_UNSUPPORTED', 'rotateColumns is a BFV and BGV operation');
    const k = this.#galois(keys, this.ctx.conjugationElt);
    return this.#run('rotateColumns', this.#ct(a), k);
  }
  complexConjugate(a: B.Ciphertext, keys: B.GaloisKeys): B.Ciphertext {
    this.#ckksOnly('complexConjugate');
    const k = this.#galois(keys, this.ctx.conjugationElt);
    return this.#run('complexConjugate', this.#ct(a), k);
  }
  applyGalois(a: B.Ciphertext, galoisElt: number, keys: B.GaloisKeys): B.Ciphertext {
    const k = this.#galois(keys, galoisElt);
    return this.#run('applyGalois', this.#ct(a), galoisElt, k);
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
    if (this.#integer) {
      const handles = list.map((c) => this.#ct(c));
      return this.#run('multiplyMany', handles, this.#relin(keys));
    }
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

  /** BFV: a^exponent by SEAL's multiply_many over `exponent` copies (relinearized after each product). */
  exponentiate(a: B.Ciphertext, exponent: number, keys: B.RelinKeys): B.Ciphertext {
    if (!this.#integer) throw new HeftyError('E_UNSUPPORTED', 'exponentiate is a BFV and BGV operation');
    if (!Number.isInteger(exponent) || exponent < 1 || exponent > 4096)
      throw new HeftyError('E_INVALID_ARGUMENT', 'exponent must be an integer in [1, 4096]');
    return this.#run('exponentiate', this.#ct(a), exponent, this.#relin(keys));
  }

  // Off-event-loop variants of the heavy operations (same checks, same results).
  multiplyAsync(a: B.Ciphertext, b: B.Ciphertext): Promise<B.Ciphertext> {
    return this.#runAsync('multiply', this.#ct(a), this.#ct(b));
  }
  squareAsync(a: B.Ciphertext): Promise<B.Ciphertext> {
    return this.#runAsync('square', this.#ct(a));
  }
  multiplyPlainAsync(a: B.Ciphertext, p: B.Plaintext): Promise<B.Ciphertext> {
    return this.#runAsync('multiplyPlain', this.#ct(a), this.#pt(p));
  }
  relinearizeAsync(a: B.Ciphertext, keys: B.RelinKeys): Promise<B.Ciphertext> {
    return this.#runAsync('relinearize', this.#ct(a), this.#relin(keys));
  }
  rescaleToNextAsync(a: B.Ciphertext): Promise<B.Ciphertext> {
    this.#ckksOnly('rescaleToNext');
    return this.#runAsync('rescaleToNext', this.#ct(a));
  }
  rotateVectorAsync(a: B.Ciphertext, steps: number, keys: B.GaloisKeys): Promise<B.Ciphertext> {
    if (steps === 0) return Promise.resolve().then(() => this.rotateVector(a, 0, keys));
    this.#ckksOnly('rotateVector');
    const k = this.#galois(keys, this.ctx.galoisElt(steps));
    return this.#runAsync('rotateVector', this.#ct(a), steps, k);
  }
  complexConjugateAsync(a: B.Ciphertext, keys: B.GaloisKeys): Promise<B.Ciphertext> {
    this.#ckksOnly('complexConjugate');
    const k = this.#galois(keys, this.ctx.conjugationElt);
    return this.#runAsync('complexConjugate', this.#ct(a), k);
  }
  /** rotateVectorHoisted on a libuv worker (same bytes); rejects with the same coded errors. */
  async rotateVectorHoistedAsync(
    a: B.Ciphertext,
    steps: readonly number[],
    keys: B.GaloisKeys,
  ): Promise<B.Ciphertext[]> {
    this.check();
    const operands = this.#hoisted(a, steps, keys);
    if (operands === null) return [];
    const handles = await callAsync(() =>
      this.ctx.addon.ckksEvalAsync('rotateVectorHoisted', this.ctx.handle, ...operands),
    );
    return handles.map((h) => new NativeCiphertext(this.ctx, h, this.ctx.cipherInfo(h)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Context and backend.

export class NativeContext implements B.BackendContext {
  readonly backend: NativeBackend;
  readonly addon: CkksAddon;
  readonly params: B.ParamsSpec;
  readonly security: B.SecurityLevel;
  readonly slotCount: number;
  readonly levels: readonly B.LevelInfo[];
  readonly keyParmsId: string;
  readonly firstParmsId: string;
  readonly conjugationElt: number;
  readonly load: B.ObjectLoader;
  readonly #chainIndex = new Map<string, number>();
  readonly #keySwitching: boolean;
  /** parms_ids objects commonly carry (the chain's, and zero for batched plaintexts) as 32-bit words, with hex. */
  readonly #knownIds: { words: Uint32Array; hex: string }[];
  readonly #resultWords: Uint32Array;
  readonly #resultFields: Float64Array;
  readonly engine: SchemeEngine;
  #handle: Handle | null;

  constructor(backend: NativeBackend, handle: Handle, params: B.ParamsSpec, security: B.SecurityLevel) {
    this.backend = backend;
    this.addon = backend.addon;
    this.engine = schemeEngine(backend.addon, params.scheme);
    this.#handle = handle;
    this.params = params;
    this.security = security;
    const n = params.polyModulusDegree;
    this.slotCount = params.scheme === 'ckks' ? n / 2 : n;
    this.conjugationElt = 2 * n - 1;
    const records = call(() => this.engine.levels(handle));
    this.levels = Object.freeze(
      records.map((r) =>
        Object.freeze({
          parmsId: parmsIdToHex(r.parmsId),
          chainIndex: r.chainIndex,
          primes: Object.freeze(Array.from(r.primes)),
        }),
      ),
    );
    for (const level of this.levels) this.#chainIndex.set(level.parmsId, level.chainIndex);
    const zero = new BigUint64Array(4);
    this.#knownIds = [...records.map((r) => r.parmsId), zero].map((id) => ({
      words: new Uint32Array(id.slice().buffer),
      hex: parmsIdToHex(id),
    }));
    this.#resultWords = new Uint32Array(this.addon.resultInfo, 0, 8);
    this.#resultFields = new Float64Array(this.addon.resultInfo, 32, 3);
    this.keyParmsId = this.levels[0].parmsId;
    this.#keySwitching = this.levels.length > 1;
    this.firstParmsId = this.levels[this.#keySwitching ? 1 : 0].parmsId;
    this.load = this.#loader();
  }

  get handle(): Handle {
    if (this.#handle === null) throw new HeftyError('E_DISPOSED', 'context was disposed');
    return this.#handle;
  }
  get disposed(): boolean {
    return this.#handle === null;
  }
  dispose(): void {
    if (this.#handle === null) return;
    this.addon.ckksDispose(this.#handle);
    this.#handle = null;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Hex form of a parms_id as 8 32-bit words; a known id's string is reused (no BigInt formatting per object). */
  #parmsIdHex(words: Uint32Array): string {
    for (const known of this.#knownIds) {
      const k = known.words;
      if (
        k[0] === words[0] &&
        k[1] === words[1] &&
        k[2] === words[2] &&
        k[3] === words[3] &&
        k[4] === words[4] &&
        k[5] === words[5] &&
        k[6] === words[6] &&
        k[7] === words[7]
      ) {
        return known.hex;
      }
    }
    return parmsIdToHex(new BigUint64Array(words.slice().buffer));
  }

  /** The info of the ciphertext the last synchronous addon call returned (from the result-info block). */
  resultCipherInfo(): CipherInfo {
    const fields = this.#resultFields;
    return {
      parmsId: this.#parmsIdHex(this.#resultWords),
      size: fields[0],
      scale: fields[1],
      isNttForm: fields[2] === 1,
    };
  }

  /** The info of the plaintext the last synchronous addon call returned (from the result-info block). */
  resultPlainInfo(): PlainInfo {
    return { parmsId: this.#parmsIdHex(this.#resultWords), scale: this.#resultFields[1] };
  }

  /** A ciphertext's info asked of the addon: for handles from async calls, or several from one call. */
  cipherInfo(handle: Handle): CipherInfo {
    const info = call(() => this.addon.ckksCipherInfo(handle));
    const words = info.parmsId;
    return { ...info, parmsId: this.#parmsIdHex(new Uint32Array(words.buffer, words.byteOffset, 8)) };
  }

  chainIndexOf(parmsId: string): number {
    const index = this.#chainIndex.get(parmsId);
    if (index === undefined) throw new HeftyError('E_PARAMS_MISMATCH', `parms_id ${parmsId} is not in this context`);
    return index;
  }

  galoisElt(steps: number): number {
    return galoisEltFromStep(steps, this.params.polyModulusDegree);
  }

  /**
   * Test-only: with a 64-byte seed every random draw of this context replays that seed's Blake2xb stream,
   * like SEAL's fixed-seed PRNG factory (so key generation and symmetric encryption become reproducible).
   * `null` restores OS randomness, the default. Never use outside tests.
   */
  setTestSeed(seed: Uint8Array | null): void {
    call(() => this.engine.setTestSeed(this.handle, seed));
  }

  requireKeySwitching(): void {
    if (!this.#keySwitching)
      throw new HeftyError(
        'E_UNSUPPORTED',
        'these parameters have a single prime: no relinearization or rotation keys',
      );
  }

  createKeyGenerator(secretKey?: B.SecretKey): B.KeyGenerator {
    if (secretKey !== undefined) {
      own(this, secretKey, NativeSecretKey, 'secret key');
      return this.#keyGenerator(secretKey as NativeSecretKey, false);
    }
    const sk = new NativeSecretKey(
      this,
      call(() => this.engine.keygenSecret(this.handle)),
    );
    return this.#keyGenerator(sk, true);
  }

  #keyGenerator(sk: NativeSecretKey, owns: boolean): B.KeyGenerator {
    return new NativeKeyGenerator(this, sk, owns);
  }

  createEncryptor(keys: { publicKey?: B.PublicKey; secretKey?: B.SecretKey }): B.Encryptor {
    if (!keys.publicKey && !keys.secretKey)
      throw new HeftyError('E_MISSING_KEY', 'an encryptor needs a public or a secret key');
    if (keys.publicKey) own(this, keys.publicKey, NativePublicKey, 'public key');
    if (keys.secretKey) own(this, keys.secretKey, NativeSecretKey, 'secret key');
    return new NativeEncryptor(
      this,
      keys.publicKey as NativePublicKey | undefined,
      keys.secretKey as NativeSecretKey | undefined,
    );
  }

  createDecryptor(secretKey: B.SecretKey): B.Decryptor {
    own(this, secretKey, NativeSecretKey, 'secret key');
    return new NativeDecryptor(this, secretKey as NativeSecretKey);
  }

  createEvaluator(): NativeEvaluator {
    return new NativeEvaluator(this);
  }

  createCkksEncoder(): B.CkksEncoder {
    if (this.params.scheme !== 'ckks') throw new HeftyError('E_UNSUPPORTED', 'the CKKS encoder needs CKKS parameters');
    return new NativeCkksEncoder(this);
  }

  /** The integer scheme of this context (BFV or BGV); E_UNSUPPORTED with `message` for CKKS. */
  integerScheme(message: string): IntegerScheme {
    if (this.params.scheme === 'ckks') throw new HeftyError('E_UNSUPPORTED', message);
    return this.params.scheme;
  }

  createBatchEncoder(): B.BatchEncoder {
    const scheme = this.integerScheme('the batch encoder needs BFV or BGV parameters');
    const t = this.params.plainModulus ?? 0n;
    const n = BigInt(this.params.polyModulusDegree);
    if (t % (2n * n) !== 1n)
      throw new HeftyError('E_INVALID_PARAMS', 'batching needs a prime plain modulus that is 1 mod 2N');
    return new NativeBatchEncoder(this, scheme);
  }

  #loader(): B.ObjectLoader {
    const load = (kind: LoadKind, bytes: Uint8Array): Handle => {
      const plain = decompress(bytes, maxInflated(kind, this.params, bytes.length));
      return call(() => this.engine.load(this.handle, kind, plain));
    };
    return {
      plaintext: (bytes) => new NativePlaintext(this, load('plaintext', bytes)),
      ciphertext: (bytes) => new NativeCiphertext(this, load('ciphertext', bytes)),
      secretKey: (bytes) => new NativeSecretKey(this, load('secret-key', bytes)),
      publicKey: (bytes) => new NativePublicKey(this, load('public-key', bytes)),
      relinKeys: (bytes) => new NativeRelinKeys(this, load('keys', bytes)),
      galoisKeys: (bytes) => new NativeGaloisKeys(this, load('keys', bytes)),
    };
  }
}

/** SEAL accepts any power of two in [2, 131072]; below 1024 only the 'none' security level can pass. */
function checkDegree(n: number): void {
  if (!Number.isInteger(n) || n < 2 || n > 131072 || (n & (n - 1)) !== 0) {
    throw new HeftyError('E_INVALID_PARAMS', `polyModulusDegree must be a power of two in [2, 131072], got ${n}`);
  }
}

function securityBits(level: Exclude<B.SecurityLevel, 'none'>): number {
  if (level !== 128 && level !== 192 && level !== 256)
    throw new HeftyError('E_INVALID_ARGUMENT', `unknown security level ${String(level)}`);
  return level;
}

const SCHEME_BYTES = { bfv: 1, ckks: 2, bgv: 3 } as const;

/** Largest serialized EncryptionParameters: 256 primes (SEAL's reader limit). */

export class NativeBackend implements B.Backend {
  readonly name = 'native';
  readonly capabilities: B.BackendCapabilities = { schemes: ['ckks', 'bfv', 'bgv'] };
  readonly addon: CkksAddon;
  /** Which binary this is: an explicit file, a source build or the package's prebuild. */
  readonly source: AddonCandidate;

  constructor(addon: CkksAddon, source: AddonCandidate) {
    this.addon = addon;
    this.source = source;
  }

  /**
   * Intra-op threads (RNS limbs in parallel) for calls made from this JS thread (and the async calls it
   * queues); 0 = all cores. Each worker thread keeps its own setting. Returns the count in effect.
   */
  setThreads(threads: number): number {
    return call(() => this.addon.ckksSetThreads(threads));
  }

  /** The vector code path the engine picked for this CPU: avx512-ifma, avx512 or scalar. */
  get simdPath(): string {
    return this.addon.simdPath();
  }

  get threads(): number {
    return this.addon.ckksGetThreads();
  }

  /**
   * Engine objects of the whole process (every thread) whose JS handles are not finalized yet. dispose() frees
   * an object's memory at once; its small handle goes only after a GC and a turn of its thread's event loop.
   */
  get liveHandles(): number {
    return this.addon.ckksLiveHandles();
  }

  coeffModulusCreate(polyModulusDegree: number, bitSizes: readonly number[]): bigint[] {
    checkDegree(polyModulusDegree);
    if (
      !Array.isArray(bitSizes) ||
      bitSizes.length === 0 ||
      bitSizes.some((b) => !Number.isInteger(b) || b < 2 || b > 60)
    ) {
      throw new HeftyError('E_INVALID_PARAMS', 'coefficient modulus bit sizes must be integers in [2, 60]');
    }
    return Array.from(call(() => this.addon.ckksCoeffModulusCreate(polyModulusDegree, [...bitSizes])));
  }

  coeffModulusBfvDefault(polyModulusDegree: number, security: Exclude<B.SecurityLevel, 'none'>): bigint[] {
    checkDegree(polyModulusDegree);
    return Array.from(call(() => this.addon.sealBfvDefault(polyModulusDegree, securityBits(security))));
  }

  plainModulusBatching(polyModulusDegree: number, bitSize: number): bigint {
    checkDegree(polyModulusDegree);
    if (!Number.isInteger(bitSize) || bitSize < 2 || bitSize > 60)
      throw new HeftyError('E_INVALID_PARAMS', 'plain modulus bit size must be an integer in [2, 60]');
    return call(() => this.addon.sealPlainModulusBatching(polyModulusDegree, bitSize));
  }

  maxCoeffModulusBits(polyModulusDegree: number, security: Exclude<B.SecurityLevel, 'none'>): number {
    return call(() => this.addon.sealMaxBitCount(polyModulusDegree, securityBits(security)));
  }

  /** SEAL's parms_ids of the modulus chain of these parameters (any scheme), key level first, as hex. */
  chainParmsIds(params: B.ParamsSpec): string[] {
    return call(() => this.addon.sealChainParmsIds(...paramsTuple(params))).map((words) => parmsIdToHex(words));
  }

  /** The ring NTT (spec §5) for N and these primes, on caller-owned words. */
  createNtt(polyModulusDegree: number, primes: readonly bigint[]): NativeNtt {
    checkDegree(polyModulusDegree);
    return new NativeNtt(
      this.addon,
      call(() => this.addon.nttCreate(polyModulusDegree, BigUint64Array.from(primes, BigInt))),
      polyModulusDegree,
    );
  }

  createContext(params: B.ParamsSpec, security: B.SecurityLevel): NativeContext {
    if (params.scheme !== 'ckks' && params.scheme !== 'bfv' && params.scheme !== 'bgv') {
      throw new HeftyError(
        'E_INVALID_PARAMS',
        `the native engine supports CKKS, BFV and BGV, got "${String(params.scheme)}"`,
      );
    }
    checkDegree(params.polyModulusDegree);
    if (!Array.isArray(params.coeffModulus) || params.coeffModulus.length === 0 || params.coeffModulus.length > 64) {
      throw new HeftyError('E_INVALID_PARAMS', 'coeffModulus must list 1 to 64 primes');
    }
    const primes = params.coeffModulus.map((q) => BigInt(q));
    if (primes.some((q) => q < 2n || q >= 1n << 60n))
      throw new HeftyError('E_INVALID_PARAMS', 'primes must be in [2, 2^60)');
    if (security !== 'none') {
      const bits = primes.reduce((product, q) => product * q, 1n).toString(2).length;
      const max = this.maxCoeffModulusBits(params.polyModulusDegree, security);
      if (bits > max) {
        throw new HeftyError(
          'E_INSECURE_PARAMS',
          `coefficient modulus of ${bits} bits exceeds ${max} bits, the ${security}-bit security limit for N=${params.polyModulusDegree}`,
        );
      }
    }
    if (params.scheme === 'bfv' || params.scheme === 'bgv') {
      const scheme = params.scheme;
      const t = plainModulusOf(params.plainModulus);
      const create = integerEntry(this.addon, scheme, 'ContextCreate');
      const handle = call(() => create(params.polyModulusDegree, BigUint64Array.from(primes), t));
      const normalized: B.ParamsSpec = Object.freeze({
        scheme,
        polyModulusDegree: params.polyModulusDegree,
        coeffModulus: Object.freeze(primes),
        plainModulus: t,
      });
      return new NativeContext(this, handle, normalized, security);
    }
    const handle = call(() => this.addon.ckksContextCreate(params.polyModulusDegree, BigUint64Array.from(primes)));
    const normalized: B.ParamsSpec = Object.freeze({
      scheme: 'ckks',
      polyModulusDegree: params.polyModulusDegree,
      coeffModulus: Object.freeze(primes),
    });
    return new NativeContext(this, handle, normalized, security);
  }

  saveParams(params: B.ParamsSpec, compression?: B.Compression): Uint8Array {
    return compress(
      call(() => this.addon.sealParamsSave(...paramsTuple(params))),
      compression,
    );
  }

  loadParams(bytes: Uint8Array): B.ParamsSpec {
    const data = decompress(bytes, MAX_PARAMS_BYTES);
    const parms = call(() => this.addon.sealParamsLoad(data));
    if (parms.scheme !== 1 && parms.scheme !== 2 && parms.scheme !== 3)
      throw new HeftyError('E_UNSUPPORTED', `scheme ${parms.scheme} is not supported (CKKS, BFV and BGV are)`);
    const base = { polyModulusDegree: parms.polyModulusDegree, coeffModulus: Array.from(parms.coeffModulus) };
    if (parms.scheme === 2) return { scheme: 'ckks', ...base };
    return { scheme: parms.scheme === 1 ? 'bfv' : 'bgv', ...base, plainModulus: parms.plainModulus };
  }
}

/** A BFV/BGV plain modulus as a bigint in [2, 2^60) (the engine checks the rest: coprime to the primes, below Q). */
function plainModulusOf(value: bigint | number | undefined): bigint {
  if (value === undefined) throw new HeftyError('E_INVALID_PARAMS', 'BFV and BGV need a plainModulus');
  let t: bigint;
  try {
    t = BigInt(value);
  } catch (e) {
    throw new HeftyError('E_INVALID_PARAMS', `invalid plain modulus ${String(value)}`, { cause: e });
  }
  if (t < 2n || t >= 1n << 60n) throw new HeftyError('E_INVALID_PARAMS', 'plainModulus must be in [2, 2^60)');
  return t;
}

/** (scheme byte, N, primes, plain modulus) as the addon takes them; shapes checked, values left to contexts. */
function paramsTuple(params: B.ParamsSpec): [number, number, BigUint64Array, bigint] {
  const scheme = SCHEME_BYTES[params.scheme];
  if (scheme === undefined) throw new HeftyError('E_INVALID_PARAMS', `unknown scheme "${String(params.scheme)}"`);
  if (!Array.isArray(params.coeffModulus) || params.coeffModulus.length > 256)
    throw new HeftyError('E_INVALID_PARAMS', 'coeffModulus must list at most 256 primes');
  const integer = params.scheme === 'bfv' || params.scheme === 'bgv';
  if (integer && params.plainModulus === undefined)
    throw new HeftyError('E_INVALID_PARAMS', 'BFV and BGV need a plainModulus');
  const word = (value: bigint | number | undefined): bigint => {
    let v: bigint;
    try {
      v = BigInt(value ?? 0n);
    } catch (e) {
      throw new HeftyError('E_INVALID_PARAMS', `invalid modulus ${String(value)}`, { cause: e });
    }
    if (v < 0n || v >= 1n << 64n) throw new HeftyError('E_INVALID_PARAMS', `modulus ${v} is out of range`);
    return v;
  };
  const primes = BigUint64Array.from(params.coeffModulus, word);
  const plain = integer ? word(params.plainModulus) : 0n;
  return [scheme, params.polyModulusDegree, primes, plain];
}

let instance: Promise<NativeBackend> | undefined;

function defaultThreads(): number {
  const configured = process.env.HEFTY_NATIVE_THREADS;
  if (configured !== undefined && configured !== '') {
    const value = Number(configured);
    if (!Number.isInteger(value) || value < 0)
      throw new HeftyError('E_INVALID_ARGUMENT', 'HEFTY_NATIVE_THREADS must be a non-negative integer');
    return value;
  }
  // Pool workers already run one job per core: inside them, one thread per operation.
  return isMainThread ? os.availableParallelism() : 1;
}

/** Loads the addon once per process (or worker thread) and returns the backend. */
export function createNativeBackend(): Promise<NativeBackend> {
  instance ??= (async () => {
    const { addon, source } = loadAddon();
    const backend = new NativeBackend(addon, source);
    backend.setThreads(defaultThreads());
    return backend;
  })();
  instance.catch(() => {
    instance = undefined;
  });
  return instance;
}
