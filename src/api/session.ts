/**
 * A Session is what vectors compute with: one backend context and the role objects built on it (evaluator,
 * encoder, keys, key switcher). HeftyContext owns it; vectors hold a reference, never a copy.
 */
import { HeftyError } from '../errors.ts';
import type * as B from '../backend/types.ts';
import { gpuModeFromEnv, type GpuMode } from '../gpu/device.ts';
import {
  BatchKeySwitcher,
  CpuKeySwitcher,
  runPlan,
  runPlanSync,
  serveOnCpu,
  type KeySwitcher,
  type Plan,
} from './key-switching.ts';
import { DiagonalCache, DEFAULT_DIAGONAL_CACHE_BYTES } from './he/diagonal-cache.ts';

export interface SessionKeys {
  secretKey?: B.SecretKey;
  publicKey?: B.PublicKey;
  relinKeys?: B.RelinKeys;
  galoisKeys?: B.GaloisKeys;
}

export interface SessionOptions {
  gpu?: GpuMode;
  diagonalCacheBytes?: number;
}

export class Session {
  readonly ctx: B.BackendContext;
  readonly evaluator: B.Evaluator;
  readonly scheme: B.Scheme;
  readonly slotCount: number;
  /**
   * Slots a rotation cycles through: all of them (CKKS), or one row of the 2×(N/2) batching matrix (BFV, BGV:
   * both rows rotate together).
   */
  readonly rotationSlotCount: number;
  /** Scale fresh CKKS encryptions use. */
  readonly scale: number;
  readonly keys: SessionKeys = {};
  #ckksEncoder?: B.CkksEncoder;
  #batchEncoder?: B.BatchEncoder;
  #encryptor?: B.Encryptor;
  #decryptor?: B.Decryptor;
  readonly #primeByLevel = new Map<number, number>();
  readonly #gpu: GpuMode | undefined;
  #keySwitcher?: Promise<KeySwitcher>;
  /** The chosen key switcher once it is ready, disposed with the session (before the context). */
  #switcher?: KeySwitcher;
  #disposed = false;
  #diagonalCache?: DiagonalCache;
  readonly #diagonalCacheBytes: number;

  /**
   * `gpu`: whether async operations may batch key switching on a GPU (default: HEFTY_GPU, unset = off).
   * `diagonalCacheBytes`: bound of the cache of encoded matrix diagonals (default 256 MiB).
   */
  constructor(ctx: B.BackendContext, scale: number, options: SessionOptions = {}) {
    this.ctx = ctx;
    this.scheme = ctx.params.scheme;
    this.slotCount = ctx.slotCount;
    this.rotationSlotCount = this.scheme === 'ckks' ? ctx.slotCount : ctx.slotCount / 2;
    this.scale = scale;
    this.#gpu = options.gpu;
    this.#diagonalCacheBytes = options.diagonalCacheBytes ?? DEFAULT_DIAGONAL_CACHE_BYTES;
    this.evaluator = ctx.createEvaluator();
    for (const level of ctx.levels)
      this.#primeByLevel.set(level.chainIndex, Number(level.primes[level.primes.length - 1]));
  }

  get ckksEncoder(): B.CkksEncoder {
    this.#ckksEncoder ??= this.ctx.createCkksEncoder();
    return this.#ckksEncoder;
  }

  /** Encoded matrix diagonals of the matrix-vector products run on this session (a served model's, once). */
  get diagonalCache(): DiagonalCache {
    this.#diagonalCache ??= new DiagonalCache(this.#diagonalCacheBytes);
    return this.#diagonalCache;
  }

  get batchEncoder(): B.BatchEncoder {
    this.#batchEncoder ??= this.ctx.createBatchEncoder();
    return this.#batchEncoder;
  }

  get encryptor(): B.Encryptor {
    if (!this.#encryptor) {
      if (!this.keys.publicKey && !this.keys.secretKey) {
        throw new HeftyError('E_MISSING_KEY', 'encryption needs a public or secret key: call keygen() or load keys');
      }
      this.#encryptor = this.ctx.createEncryptor({ publicKey: this.keys.publicKey, secretKey: this.keys.secretKey });
    }
    return this.#encryptor;
  }

  get decryptor(): B.Decryptor {
    if (!this.keys.secretKey)
      throw new HeftyError('E_MISSING_KEY', 'decryption needs the secret key, which this context does not hold');
    this.#decryptor ??= this.ctx.createDecryptor(this.keys.secretKey);
    return this.#decryptor;
  }

  get relinKeys(): B.RelinKeys {
    if (!this.keys.relinKeys)
      throw new HeftyError('E_MISSING_KEY', 'ciphertext multiplication needs relinearization keys');
    return this.keys.relinKeys;
  }

  get galoisKeys(): B.GaloisKeys {
    if (!this.keys.galoisKeys)
      throw new HeftyError('E_MISSING_GALOIS_KEY', 'rotations need galois keys; none were generated or uploaded');
    return this.keys.galoisKeys;
  }

  /** The prime a rescale at this chain index divides by (the last prime of that level). */
  lastPrime(chainIndex: number): number {
    const prime = this.#primeByLevel.get(chainIndex);
    if (prime === undefined)
      throw new HeftyError('E_PARAMS_MISMATCH', `chain index ${chainIndex} is not in this context`);
    return prime;
  }

  parmsIdAt(chainIndex: number): string {
    const level = this.ctx.levels.find((l) => l.chainIndex === chainIndex);
    if (!level) throw new HeftyError('E_PARAMS_MISMATCH', `chain index ${chainIndex} is not in this context`);
    return level.parmsId;
  }

  /**
   * How async operations key-switch, chosen on first use: the CPU evaluator, or a batch evaluator on the GPU
   * device when the GPU mode is auto or on and a device exists (on without one: E_BACKEND_UNAVAILABLE). Off
   * never loads the GPU code.
   */
  keySwitcher(): Promise<KeySwitcher> {
    this.#keySwitcher ??= this.#chooseKeySwitcher().then((switcher) => {
      if (this.#disposed) {
        switcher.dispose();
        throw new HeftyError('E_DISPOSED', 'this context was disposed');
      }
      this.#switcher = switcher;
      return switcher;
    });
    return this.#keySwitcher;
  }

  /**
   * Replaces the key switcher (e.g. a batch evaluator made with your own options) and disposes the old one; call
   * it before async operations start, not while they run.
   */
  useKeySwitcher(switcher: KeySwitcher): void {
    this.#switcher?.dispose();
    this.#switcher = switcher;
    this.#keySwitcher = Promise.resolve(switcher);
  }

  async #chooseKeySwitcher(): Promise<KeySwitcher> {
    const mode = gpuModeFromEnv(this.#gpu ?? process.env.HEFTY_GPU ?? 'off');
    // The GPU batch evaluator rotates CKKS slots; integer schemes key-switch on the CPU.
    if (mode === 'off' || this.scheme !== 'ckks') return new CpuKeySwitcher(this.evaluator);
    const { createBatchEvaluator } = await import('../gpu/batch-evaluator.ts');
    const batch = await createBatchEvaluator(this.ctx, { mode });
    if (batch.device !== null) return new BatchKeySwitcher(batch);
    batch.destroy();
    return new CpuKeySwitcher(this.evaluator);
  }

  /** Runs a vector operation's plan with this session's key switcher. */
  async run<T>(plan: Plan<T>): Promise<T> {
    const switcher = await this.keySwitcher();
    return runPlan(plan, (request) => switcher.serve(request, this));
  }

  /** Runs a plan synchronously on the CPU evaluator (the synchronous vector API). */
  runSync<T>(plan: Plan<T>): T {
    return runPlanSync(plan, (request) => serveOnCpu(this.evaluator, request, this));
  }

  /** Replaces keys; new keys invalidate cached encryptor/decryptor. */
  setKeys(keys: SessionKeys): void {
    for (const name of ['secretKey', 'publicKey', 'relinKeys', 'galoisKeys'] as const) {
      if (keys[name] !== undefined) {
        this.keys[name]?.dispose();
        (this.keys as Record<string, B.Owned | undefined>)[name] = keys[name];
      }
    }
    this.#encryptor?.dispose();
    this.#encryptor = undefined;
    this.#decryptor?.dispose();
    this.#decryptor = undefined;
  }

  /** Removes (and disposes) keys, e.g. those a new keygen did not make again. */
  dropKeys(names: readonly (keyof SessionKeys)[]): void {
    for (const name of names) {
      this.keys[name]?.dispose();
      delete this.keys[name];
    }
    this.#encryptor?.dispose();
    this.#encryptor = undefined;
    this.#decryptor?.dispose();
    this.#decryptor = undefined;
  }

  dispose(): void {
    this.#disposed = true;
    // A GPU batch evaluator frees its device buffers (one still being chosen is freed when it arrives).
    this.#switcher?.dispose();
    this.#diagonalCache?.clear();
    for (const owned of [this.#ckksEncoder, this.#batchEncoder, this.#encryptor, this.#decryptor, this.evaluator])
      owned?.dispose();
    for (const key of Object.values(this.keys)) key?.dispose();
    this.ctx.dispose();
  }
}
