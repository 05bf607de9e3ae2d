/**
 * HeftyContext: the high-level entry point. A client context (createContext + keygen) encrypts, computes and
 * decrypts; a public context (loadContext) holds evaluation keys only and can compute but never decrypt.
 */
import { HeftyError } from '../errors.ts';
import { loadBackend, type BackendChoice } from '../backend/load.ts';
import type { Backend, GaloisSpec, ParamsSpec, Scheme, SecurityLevel } from '../backend/types.ts';
import type { GpuMode } from '../gpu/device.ts';
import { decodeKeySet, type KeySetBundle } from './bundle.ts';
import { BFVVector, type IntegerValues } from './bfv-vector.ts';
import { CKKSVector, type EncryptOptions } from './ckks-vector.ts';
import { programGaloisSteps, validateProgram, type Program } from './program.ts';
import { runProgram, type ProgramInput, type RunHooks } from './run.ts';
import { Session } from './session.ts';
import { decodeVector } from './vector-wire.ts';

export interface ContextOptions {
  scheme: Scheme;
  polyModulusDegree: number;
  /** Bit sizes of the coefficient-modulus primes, special prime last. Default depends on the degree. */
  coeffModulusBits?: readonly number[];
  /** CKKS: scale of fresh encryptions. Default 2^(bit size of the second prime). */
  scale?: number;
  /** BFV: bit size of the batching plaintext modulus (default 20). */
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

export interface KeygenOptions {
  /** Rotation steps to create galois keys for; omit for none. */
  galois?: GaloisSpec;
  /** Relinearization keys (default true; needed for ciphertext × ciphertext). */
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

export class HeftyContext implements Disposable {
  readonly backend: Backend;
  readonly session: Session;

  constructor(backend: Backend, session: Session) {
    this.backend = backend;
    this.session = session;
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

  /** Generates a fresh secret key with its public, relinearization and (only the requested) galois keys. */
  keygen(options: KeygenOptions = {}): this {
    const ctx = this.session.ctx;
    const generator = ctx.createKeyGenerator();
    try {
      const multiPrime = ctx.params.coeffModulus.length > 1;
      this.session.setKeys({
        secretKey: generator.secretKey(),
        publicKey: generator.createPublicKey(),
        relinKeys: options.relin !== false && multiPrime ? generator.createRelinKeys() : undefined,
        galoisKeys: options.galois !== undefined ? generator.createGaloisKeys(options.galois) : undefined,
      });
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
  encrypt(values: ArrayLike<number>, options?: EncryptOptions): CKKSVector;
  encrypt(values: IntegerValues): BFVVector;
  encrypt(values: ArrayLike<number> | IntegerValues, options?: EncryptOptions): CKKSVector | BFVVector {
    if (this.scheme === 'ckks') return CKKSVector.encrypt(this.session, values as ArrayLike<number>, options);
    return BFVVector.encrypt(this.session, values);
  }

  /** Loads a vector from hefty envelope bytes or bare SEAL ciphertext bytes (e.g. from node-seal). */
  loadVector(bytes: Uint8Array): CKKSVector | BFVVector {
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
    if (this.scheme === 'ckks') return new CKKSVector(this.session, chunks, parts.length, parts.clean, parts.period);
    return new BFVVector(this.session, chunks, parts.length, parts.clean);
  }

  /** Galois steps a program needs with this context's slot count. */
  requiredGaloisSteps(program: Program): number[] {
    return programGaloisSteps(validateProgram(program), this.slotCount);
  }

  /** Evaluates a program (see program.ts) over named inputs; returns its outputs by name. */
  async run(
    program: unknown,
    inputs: Readonly<Record<string, ProgramInput>>,
    hooks?: RunHooks,
  ): Promise<Record<string, CKKSVector>> {
    return runProgram(this.session, validateProgram(program), inputs, hooks);
  }

  /** What a server needs: parameters, public key and evaluation keys, all in SEAL format. */
  exportKeySet(options: { compression?: 'none' | 'zlib' | 'zstd' } = {}): KeySetBundle {
    const { keys } = this.session;
    const c = options.compression ?? 'none';
    return {
      params: this.backend.saveParams(this.params, c),
      ...(keys.publicKey ? { publicKey: keys.publicKey.save(c) } : {}),
      ...(keys.relinKeys ? { relinKeys: keys.relinKeys.save(c) } : {}),
      ...(keys.galoisKeys ? { galoisKeys: keys.galoisKeys.save(c) } : {}),
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

/** Creates a client context; call keygen() before encrypting. */
export async function createContext(options: ContextOptions): Promise<HeftyContext> {
  if (options === null || typeof options !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'createContext needs an options object');
  const { scheme, polyModulusDegree: n } = options;
  if (scheme !== 'ckks' && scheme !== 'bfv') throw new HeftyError('E_INVALID_PARAMS', `scheme must be 'ckks' or 'bfv'`);
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
    ...(scheme === 'bfv' ? { plainModulus: backend.plainModulusBatching(n, options.plainModulusBits ?? 20) } : {}),
  };
  const ctx = backend.createContext(params, security);
  const scale = options.scale ?? defaultScale(params);
  const dataPrimes = coeffModulus.length > 1 ? coeffModulus.slice(0, -1) : coeffModulus;
  const dataBits = dataPrimes.reduce((sum, q) => sum + q.toString(2).length, 0);
  if (scheme === 'ckks' && !(scale > 1 && Math.log2(scale) < dataBits)) {
    ctx.dispose();
    throw new HeftyError('E_SCALE_OUT_OF_BOUNDS', `scale ${scale} does not fit the coefficient modulus`);
  }
  return new HeftyContext(
    backend,
    new Session(ctx, scale, { gpu: options.gpu, diagonalCacheBytes: options.diagonalCacheBytes }),
  );
}

/**
 * Creates a public (evaluation-only) context from a key set: SEAL-format parameters plus public/relin/galois
 * keys, e.g. uploaded by a client. Secret keys are refused.
 */
export async function loadContext(
  keySet: KeySetBundle | Uint8Array,
  options: LoadContextOptions = {},
): Promise<HeftyContext> {
  const bundle = keySet instanceof Uint8Array ? decodeKeySet(keySet) : keySet;
  if (bundle.secretKey) throw new HeftyError('E_SECRET_KEY_REFUSED', 'a public context must not be given a secret key');
  const security = resolveSecurity(options.security, options.allowInsecure);
  checkDiagonalCacheBytes(options.diagonalCacheBytes);
  // Parameters are parsed by the default engine, then the engine that supports their scheme takes over.
  const probe = await loadBackend(options.backend);
  const params = probe.loadParams(bundle.params);
  const backend = probe.capabilities.schemes.includes(params.scheme)
    ? probe
    : await loadBackend(options.backend, params.scheme);
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
