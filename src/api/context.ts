/**
 * HeftyContext: the high-level entry point. A client context (createContext + keygen) encrypts, computes and
 * decrypts; a public context (loadContext) holds evaluation keys only and can compute but never decrypt.
 */
import { HeftyError } from '../errors.ts';
import { loadBackend, resolveBackendChoice, type BackendChoice } from '../backend/load.ts';
import { recompress } from '../backend/seal-compression.ts';
import {
  isIntegerScheme,
  type Backend,
  type Compression,
  type GaloisSpec,
  type IntegerScheme,
  type ParamsSpec,
  type Scheme,
  type SecurityLevel,
} from '../backend/types.ts';
import type { GpuMode } from '../gpu/device.ts';
import { decodeKeySet, type KeySetBundle } from './bundle.ts';
import { IntegerVector, type IntegerValues } from './integer-vector.ts';
import { CKKSVector, type EncryptOptions } from './ckks-vector.ts';
import { programGaloisSteps, validateProgram, type Program } from './program.ts';
import {
  planIntegerProgram,
  planProgram,
  programCost,
  type InputSize,
  type PlanOptions,
  type ProgramPlan,
} from './he/planner.ts';
import { runProgram, type ProgramInput, type ProgramVector, type RunHooks } from './run.ts';
import { Session, type SessionKeys, type SessionOptions } from './session.ts';
import { decodeVector } from './vector-wire.ts';

export interface ContextOptions {
  scheme: Scheme;
  polyModulusDegree: number;
  /** Bit sizes of the coefficient-modulus primes, special prime last. Default depends on the degree. */
  coeffModulusBits?: readonly number[];
  /** CKKS: scale of fresh encryptions. Default 2^(bit size of the second prime). */
  scale?: number;
  /** BFV and BGV: bit size of the batching plaintext modulus t (default 20); values are integers mod t. */
  plainModulusBits?: number;
  /** Default 128. 'none' needs allowInsecure: true. */
  security?: SecurityLevel;
  allowInsecure?: boolean;
  backend?: BackendChoice;
  /** Batched key switching of programs on a GPU: auto | on | off (default: HEFTY_GPU, unset = off). */
  gpu?: GpuMode;
  /**
   * Bound, in bytes, of the cache of encoded matrix diagonals (default 256 MiB; 0: encode on every call); see
   * he/diagonal-cache.ts.
   */
  diagonalCacheBytes?: number;
}

/**
 * A context planned for a program: the planner (he/planner.ts) picks N and the coefficient chain that hold the
 * program's levels at 128-bit security and the requested precision, and keygen() makes exactly its keys.
 */
export interface ProgramContextOptions extends Omit<PlanOptions, 'inputs'> {
  /**
   * Default 'ckks'. 'bfv' or 'bgv': the planner picks the smallest N whose default chain's noise budget holds the
   * program's multiplicative depth (scaleBits and integerBits do not apply; plainModulusBits does).
   */
  scheme?: Scheme;
  /** BFV and BGV: bits of the batching plaintext modulus t (default 20). */
  plainModulusBits?: number;
  program: Program;
  /** Lengths of the encrypted inputs, [rows, cols] of matrix inputs, e.g. { x: 784, w: [128, 784] }. */
  inputs: PlanOptions['inputs'];
  backend?: BackendChoice;
  gpu?: GpuMode;
  /** As ContextOptions.diagonalCacheBytes. */
  diagonalCacheBytes?: number;
}

/** A context made for a program: its plan is always there. */
export type PlannedContext = HeftyContext & { readonly plan: ProgramPlan };
/** A BFV or BGV context made for a program. */
export type PlannedIntegerContext = HeftyContext<IntegerVector> & { readonly plan: ProgramPlan };

/** A BFV or BGV context: it encrypts integers into IntegerVectors, and its programs return them. */
export type IntegerContext = HeftyContext<IntegerVector>;

export interface LoadContextOptions {
  security?: SecurityLevel;
  allowInsecure?: boolean;
  backend?: BackendChoice;
  /** As ContextOptions.gpu. */
  gpu?: GpuMode;
  /** Bound, in bytes, of the cache of encoded matrix diagonals (default 256 MiB); see he/diagonal-cache.ts. */
  diagonalCacheBytes?: number;
  /** CKKS scale for values this context encrypts (it rarely does). */
  scale?: number;
}

export interface ExportKeySetOptions {
  /** 'seeded' (default): SEAL's serializable form, about half the size; 'full': every polynomial written out. */
  form?: 'seeded' | 'full';
  /** Default 'zstd'. */
  compression?: Compression;
}

export interface KeygenOptions {
  /** Rotation steps to create galois keys for; omit for none (or, in a planned context, the plan's steps). */
  galois?: GaloisSpec;
  /** Relinearization keys (default true, or whether the plan multiplies ciphertexts; needed for ct × ct). */
  relin?: boolean;
}

/** Depths that keep each degree within the 128-bit limit and leave room for a few multiplications. */
const DEFAULT_CKKS_BITS: Record<number, readonly number[]> = {
  4096: [40, 29, 40],
  8192: [60, 40, 40, 60],
  16384: [60, 40, 40, 40, 40, 40, 40, 60],
  32768: [60, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 60],
};

function resolveSecurity(security: SecurityLevel | undefined, allowInsecure: boolean | undefined): SecurityLevel {
  const level = security ?? 128;
  if (![128, 192, 256, 'none'].includes(level))
    throw new HeftyError('E_INVALID_ARGUMENT', `unknown security level ${String(level)}`);
  if (level === 'none' && !allowInsecure) {
    throw new HeftyError(
      'E_INSECURE_PARAMS',
      "security: 'none' disables the 128-bit check; pass allowInsecure: true to do that deliberately",
    );
  }
  return level;
}

function checkDiagonalCacheBytes(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isSafeInteger(bytes) && bytes >= 0))
    throw new HeftyError('E_INVALID_ARGUMENT', 'diagonalCacheBytes must be a non-negative integer (0: no cache)');
}

function defaultScale(params: ParamsSpec): number {
  const q = params.coeffModulus;
  const bits = q.length >= 3 ? q[1].toString(2).length : Math.floor(q[0].toString(2).length / 2);
  return 2 ** bits;
}

/**
 * Evaluation keys as generated, in SEAL's seeded form, uncompressed: keygen stays fast (compressing is most of
 * the cost of an export) and zstd would save only ~12% of memory on these near-random words.
 */
interface WireKeys {
  publicKey: Uint8Array;
  relinKeys?: Uint8Array;
  galoisKeys?: Uint8Array;
}

/**
 * `V` is the kind of vector the context encrypts and its programs return: CKKSVector (the default, and what
 * createContext gives for CKKS) or IntegerVector (createContext for BFV and BGV). loadContext cannot know the
 * scheme before it reads the key set: narrow its result with `as IntegerContext` for integer key sets.
 */
export class HeftyContext<V extends ProgramVector = CKKSVector> implements Disposable {
  readonly backend: Backend;
  readonly session: Session;
  /** The plan this context was made for (createContext({ program })), if any. */
  readonly plan?: ProgramPlan;
  #wire?: WireKeys;

  constructor(backend: Backend, session: Session, plan?: ProgramPlan) {
    this.backend = backend;
    this.session = session;
    this.plan = plan;
  }

  get scheme(): Scheme {
    return this.session.scheme;
  }
  get slotCount(): number {
    return this.session.slotCount;
  }
  get params(): ParamsSpec {
    return this.session.ctx.params;
  }
  get scale(): number {
    return this.session.scale;
  }
  get hasSecretKey(): boolean {
    return this.session.keys.secretKey !== undefined;
  }

  /**
   * Generates a fresh secret key with its public, relinearization and (only the requested) galois keys. The
   * evaluation keys are made in SEAL's seeded form (the random half of every key is a 64-byte seed); those bytes
   * are kept for exportKeySet() (about half the memory of the expanded keys) and expanded into the keys this
   * context computes with. The seeds come from fresh randomness, so the bytes could not be regenerated later.
   */
  keygen(options: KeygenOptions = {}): this {
    if (options === null || typeof options !== 'object')
      throw new HeftyError('E_INVALID_ARGUMENT', 'keygen options must be an object');
    if (options.galois !== undefined && options.galois !== 'power-of-two' && !Array.isArray(options.galois))
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `keygen galois must be 'power-of-two' or an array of rotation steps (leave it out for no galois keys)`,
      );
    const ctx = this.session.ctx;
    const galois =
      options.galois ?? (this.plan && this.plan.galoisSteps.length > 0 ? this.plan.galoisSteps : undefined);
    const relin = options.relin ?? this.plan?.relinKeys ?? true;
    const generator = ctx.createKeyGenerator();
    try {
      const multiPrime = ctx.params.coeffModulus.length > 1;
      const wire: WireKeys = {
        publicKey: generator.createPublicKeySeeded(),
        relinKeys: relin && multiPrime ? generator.createRelinKeysSeeded() : undefined,
        galoisKeys: galois !== undefined ? generator.createGaloisKeysSeeded(galois) : undefined,
      };
      const keys: SessionKeys = {};
      try {
        keys.secretKey = generator.secretKey();
        keys.publicKey = ctx.load.publicKey(wire.publicKey);
        if (wire.relinKeys) keys.relinKeys = ctx.load.relinKeys(wire.relinKeys);
        if (wire.galoisKeys) keys.galoisKeys = ctx.load.galoisKeys(wire.galoisKeys);
      } catch (e) {
        for (const key of Object.values(keys)) key.dispose();
        throw e;
      }
      this.session.setKeys(keys);
      // Keys not made this time (relin: false, no galois) must not linger from an earlier keygen.
      this.session.dropKeys((['relinKeys', 'galoisKeys'] as const).filter((name) => !keys[name]));
      this.#wire = wire;
    } finally {
      generator.dispose();
    }
    return this;
  }

  /**
   * CKKS `options.period`: encrypt the values repeated with that period (a power of two ≥ length dividing the
   * slot count), the layout a matrix-vector product with that many padded columns wants, so it skips the
   * rotations that would replicate the input.
   */
  encrypt(values: V extends IntegerVector ? IntegerValues : ArrayLike<number>, options?: EncryptOptions): V {
    if (this.scheme === 'ckks') return CKKSVector.encrypt(this.session, values as ArrayLike<number>, options) as V;
    return IntegerVector.encrypt(this.session, values) as V;
  }

  /** Loads a vector from hefty envelope bytes or bare SEAL ciphertext bytes (e.g. from node-seal). */
  loadVector(bytes: Uint8Array): V {
    const parts = decodeVector(bytes, this.scheme, this.slotCount);
    const chunks = [];
    try {
      for (const chunk of parts.chunks) {
        const c = this.session.ctx.load.ciphertext(chunk);
        chunks.push(c);
        if (c.size !== 2)
          throw new HeftyError(
            'E_BAD_SERIALIZATION',
            `expected a relinearized ciphertext (2 polynomials), got ${c.size}`,
          );
        if (c.chainIndex !== chunks[0].chainIndex)
          throw new HeftyError('E_BAD_SERIALIZATION', 'vector chunks are at different levels');
      }
    } catch (e) {
      for (const c of chunks) c.dispose();
      throw e;
    }
    if (this.scheme === 'ckks')
      return new CKKSVector(this.session, chunks, parts.length, parts.clean, parts.period) as V;
    return new IntegerVector(this.session, chunks, parts.length, parts.clean) as V;
  }

  /**
   * Galois steps a program needs with this context's slot count. With the input sizes (as for createContext),
   * exactly the steps its rotations use; without them, every power of two a sum, dot or matvec might use.
   */
  requiredGaloisSteps(program: Program, inputs?: Readonly<Record<string, InputSize>>): number[] {
    const valid = validateProgram(program, this.scheme);
    if (inputs === undefined) return programGaloisSteps(valid, this.slotCount, this.scheme);
    return [...programCost(valid, inputs, this.slotCount, () => true, this.scheme).galoisSteps];
  }

  /** Evaluates a program (see program.ts) over named inputs; returns its outputs by name. */
  async run(
    program: unknown,
    inputs: Readonly<Record<string, ProgramInput>>,
    hooks?: RunHooks,
  ): Promise<Record<string, V>> {
    const outputs = await runProgram(this.session, validateProgram(program, this.scheme), inputs, hooks);
    return outputs as Record<string, V>;
  }

  /**
   * What a server needs: parameters, public key and evaluation keys, all in SEAL format. By default the keys are
   * seeded and zstd-compressed (SEAL's serializable form, which SEAL and node-seal load): about 2.3× smaller
   * than `{ form: 'full', compression: 'none' }`. Keys this context loaded rather than generated have no seeded
   * form and are exported in full.
   */
  exportKeySet(options: ExportKeySetOptions = {}): KeySetBundle {
    const { keys } = this.session;
    const c = options.compression ?? 'zstd';
    if (options.form !== undefined && options.form !== 'seeded' && options.form !== 'full')
      throw new HeftyError('E_INVALID_ARGUMENT', `key form must be 'seeded' or 'full'`);
    const seeded = options.form !== 'full' ? this.#wire : undefined;
    const save = (name: keyof WireKeys): Uint8Array | undefined => {
      const key = keys[name];
      if (!key) return undefined;
      const bytes = seeded?.[name];
      return bytes ? recompress(bytes, c) : key.save(c);
    };
    const publicKey = save('publicKey');
    const relinKeys = save('relinKeys');
    const galoisKeys = save('galoisKeys');
    return {
      params: this.backend.saveParams(this.params, c),
      ...(publicKey ? { publicKey } : {}),
      ...(relinKeys ? { relinKeys } : {}),
      ...(galoisKeys ? { galoisKeys } : {}),
    };
  }

  /** The secret key in SEAL format; only for the client's own storage. */
  exportSecretKey(): Uint8Array {
    if (!this.session.keys.secretKey) throw new HeftyError('E_MISSING_KEY', 'this context has no secret key');
    return this.session.keys.secretKey.save('none');
  }

  dispose(): void {
    this.session.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Creates a client context; call keygen() before encrypting. Either give the parameters (scheme,
 * polyModulusDegree, ...) or a program and its input sizes, and the planner chooses them.
 */
export async function createContext(
  options: ProgramContextOptions & { scheme: IntegerScheme },
): Promise<PlannedIntegerContext>;
export async function createContext(options: ProgramContextOptions): Promise<PlannedContext>;
export async function createContext(options: ContextOptions & { scheme: IntegerScheme }): Promise<IntegerContext>;
export async function createContext(options: ContextOptions): Promise<HeftyContext>;
export async function createContext(
  options: ContextOptions | ProgramContextOptions,
): Promise<HeftyContext<ProgramVector>> {
  if (options === null || typeof options !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'createContext needs an options object');
  if ('program' in options) return createPlannedContext(options);
  const { scheme, polyModulusDegree: n } = options;
  if (scheme !== 'ckks' && !isIntegerScheme(scheme))
    throw new HeftyError('E_INVALID_PARAMS', `scheme must be 'ckks', 'bfv' or 'bgv'`);
  if (!Number.isInteger(n) || !(n in DEFAULT_CKKS_BITS)) {
    throw new HeftyError(
      'E_INVALID_PARAMS',
      `polyModulusDegree must be one of ${Object.keys(DEFAULT_CKKS_BITS).join(', ')}`,
    );
  }
  const security = resolveSecurity(options.security, options.allowInsecure);
  checkDiagonalCacheBytes(options.diagonalCacheBytes);
  const backend = await loadBackend(options.backend, scheme);
  const bits = options.coeffModulusBits ?? (scheme === 'ckks' ? DEFAULT_CKKS_BITS[n] : undefined);
  const coeffModulus =
    bits !== undefined
      ? backend.coeffModulusCreate(n, bits)
      : backend.coeffModulusBfvDefault(n, security === 'none' ? 128 : security);
  const params: ParamsSpec = {
    scheme,
    polyModulusDegree: n,
    coeffModulus,
    ...(isIntegerScheme(scheme)
      ? { plainModulus: backend.plainModulusBatching(n, options.plainModulusBits ?? 20) }
      : {}),
  };
  return buildContext(backend, params, security, options.scale, sessionOptionsOf(options));
}

async function createPlannedContext(
  options: ProgramContextOptions,
): Promise<HeftyContext<ProgramVector> & { readonly plan: ProgramPlan }> {
  const scheme = options.scheme ?? 'ckks';
  if (scheme !== 'ckks' && !isIntegerScheme(scheme))
    throw new HeftyError('E_INVALID_PARAMS', `scheme must be 'ckks', 'bfv' or 'bgv'`);
  if (isIntegerScheme(scheme)) return createPlannedIntegerContext(options, scheme);
  const program = validateProgram(options.program, 'ckks');
  const backend = await loadBackend(options.backend, 'ckks');
  const plan = planProgram(program, options, (n, security) => backend.maxCoeffModulusBits(n, security));
  const n = plan.polyModulusDegree;
  const params: ParamsSpec = {
    scheme: 'ckks',
    polyModulusDegree: n,
    coeffModulus: backend.coeffModulusCreate(n, plan.coeffModulusBits),
  };
  return buildContext(
    backend,
    params,
    plan.security,
    2 ** plan.scaleBits,
    sessionOptionsOf(options),
    plan,
  ) as PlannedContext;
}

async function createPlannedIntegerContext(
  options: ProgramContextOptions,
  scheme: IntegerScheme,
): Promise<PlannedIntegerContext> {
  const program = validateProgram(options.program, scheme);
  const backend = await loadBackend(options.backend, scheme);
  const plan = planIntegerProgram(program, scheme, options, (n, security) =>
    backend.coeffModulusBfvDefault(n, security).map((q) => q.toString(2).length),
  );
  const n = plan.polyModulusDegree;
  const params: ParamsSpec = {
    scheme,
    polyModulusDegree: n,
    coeffModulus: backend.coeffModulusBfvDefault(n, plan.security),
    plainModulus: backend.plainModulusBatching(n, plan.plainModulusBits ?? 20),
  };
  return buildContext(
    backend,
    params,
    plan.security,
    undefined,
    sessionOptionsOf(options),
    plan,
  ) as PlannedIntegerContext;
}

function sessionOptionsOf(options: { gpu?: GpuMode; diagonalCacheBytes?: number }): SessionOptions {
  return { gpu: options.gpu, diagonalCacheBytes: options.diagonalCacheBytes };
}

function buildContext<V extends ProgramVector>(
  backend: Backend,
  params: ParamsSpec,
  security: SecurityLevel,
  requestedScale: number | undefined,
  sessionOptions: SessionOptions,
  plan?: ProgramPlan,
): HeftyContext<V> {
  const ctx = backend.createContext(params, security);
  const scale = requestedScale ?? defaultScale(params);
  const { coeffModulus } = params;
  const dataPrimes = coeffModulus.length > 1 ? coeffModulus.slice(0, -1) : coeffModulus;
  const dataBits = dataPrimes.reduce((sum, q) => sum + q.toString(2).length, 0);
  if (params.scheme === 'ckks' && !(scale > 1 && Math.log2(scale) < dataBits)) {
    ctx.dispose();
    throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `scale ${scale} does not fit the coefficient modulus`);
  }
  return new HeftyContext<V>(backend, new Session(ctx, scale, sessionOptions), plan);
}

/**
 * Creates a public (evaluation-only) context from a key set: SEAL-format parameters plus public/relin/galois
 * keys, e.g. uploaded by a client. Secret keys are refused.
 */
export async function loadContext(
  keySet: KeySetBundle | Uint8Array,
  options: LoadContextOptions = {},
): Promise<HeftyContext> {
  if (keySet === null || typeof keySet !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'loadContext needs key-set bytes or a key-set bundle');
  const bundle = keySet instanceof Uint8Array ? decodeKeySet(keySet) : keySet;
  if (bundle.secretKey) throw new HeftyError('E_SECRET_KEY_REFUSED', 'a public context must not be given a secret key');
  const security = resolveSecurity(options.security, options.allowInsecure);
  checkDiagonalCacheBytes(options.diagonalCacheBytes);
  // Parameters are parsed by the default engine, then the engine that supports their scheme takes over.
  let probe = await loadBackend(options.backend);
  let params: ParamsSpec;
  try {
    params = probe.loadParams(bundle.params);
  } catch (e) {
    // An engine does not read parameters of a scheme it lacks; with 'auto', node-seal (which has them all) does.
    const auto = resolveBackendChoice(options.backend) === 'auto';
    if (!(e instanceof HeftyError && e.code === 'E_UNSUPPORTED') || probe.name === 'wasm' || !auto) throw e;
    probe = await loadBackend('wasm');
    params = probe.loadParams(bundle.params);
  }
  const backend = probe.capabilities.schemes.includes(params.scheme)
    ? probe
    : await loadBackend(options.backend, params.scheme);
  checkEvaluable(backend, params);
  const ctx = backend.createContext(params, security);
  const session = new Session(ctx, options.scale ?? defaultScale(params), {
    gpu: options.gpu,
    diagonalCacheBytes: options.diagonalCacheBytes,
  });
  try {
    session.setKeys({
      publicKey: bundle.publicKey && ctx.load.publicKey(bundle.publicKey),
      relinKeys: bundle.relinKeys && ctx.load.relinKeys(bundle.relinKeys),
      galoisKeys: bundle.galoisKeys && ctx.load.galoisKeys(bundle.galoisKeys),
    });
  } catch (e) {
    session.dispose();
    throw e;
  }
  return new HeftyContext(backend, session);
}

/**
 * Parameters hefty can compute on, checked before any key loads (a service refuses the upload with these codes
 * instead of failing every evaluation later): an engine that runs the scheme (E_UNSUPPORTED where the engine
 * asked for lacks it), and for BFV and BGV a plaintext modulus that batches, a
 * prime t ≡ 1 (mod 2N) (E_INVALID_PARAMS): hefty's integer vectors are batched.
 */
function checkEvaluable(backend: Backend, params: ParamsSpec): void {
  if (!backend.capabilities.schemes.includes(params.scheme)) {
    throw new HeftyError(
      'E_UNSUPPORTED',
      `the ${backend.name} engine does not run ${params.scheme.toUpperCase()} ` +
        `(it runs ${backend.capabilities.schemes.join(', ')}); choose the backend auto or wasm`,
    );
  }
  if (!isIntegerScheme(params.scheme)) return;
  const t = params.plainModulus ?? 0n;
  const twoN = BigInt(2 * params.polyModulusDegree);
  if (t < 2n || t % twoN !== 1n || !isPrime(t)) {
    throw new HeftyError(
      'E_INVALID_PARAMS',
      `plain modulus ${t} does not support batching (it must be a prime ≡ 1 mod 2N = ${twoN}); ` +
        'hefty computes on batched integer vectors only (PlainModulus.Batching makes such a t)',
    );
  }
}

/** Deterministic Miller–Rabin for t < 2^64 (the first 12 primes as bases suffice there). */
function isPrime(n: bigint): boolean {
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  if (n < 2n) return false;
  for (const p of bases) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let r = 0;
  while (d % 2n === 0n) {
    d /= 2n;
    r++;
  }
  const powMod = (base: bigint, exp: bigint): bigint => {
    let result = 1n;
    let b = base % n;
    for (let e = exp; e > 0n; e >>= 1n) {
      if (e & 1n) result = (result * b) % n;
      b = (b * b) % n;
    }
    return result;
  };
  for (const a of bases) {
    let x = powMod(a, d);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let i = 1; i < r && composite; i++) {
      x = (x * x) % n;
      if (x === n - 1n) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

/** Restores a client context from its key set and secret key (both from this library or node-seal). */
export async function loadSecretContext(
  keySet: KeySetBundle,
  secretKey: Uint8Array,
  options: LoadContextOptions = {},
): Promise<HeftyContext> {
  const context = await loadContext(keySet, options);
  try {
    context.session.setKeys({ secretKey: context.session.ctx.load.secretKey(secretKey) });
  } catch (e) {
    context.dispose();
    throw e;
  }
  return context;
}
