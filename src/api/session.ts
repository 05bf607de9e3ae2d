/**
 * A Session is what vectors compute with: one backend context and the role objects built on it (evaluator,
 * encoder, keys). HeftyContext owns it; vectors hold a reference, never a copy.
 */
import { HeftyError } from '../errors.ts';
import type * as B from '../backend/types.ts';

export interface SessionKeys {
  secretKey?: B.SecretKey;
  publicKey?: B.PublicKey;
  relinKeys?: B.RelinKeys;
  galoisKeys?: B.GaloisKeys;
}

export class Session {
  readonly ctx: B.BackendContext;
  readonly evaluator: B.Evaluator;
  readonly scheme: B.Scheme;
  readonly slotCount: number;
  /** Scale fresh CKKS encryptions use. */
  readonly scale: number;
  readonly keys: SessionKeys = {};
  #ckksEncoder?: B.CkksEncoder;
  #batchEncoder?: B.BatchEncoder;
  #encryptor?: B.Encryptor;
  #decryptor?: B.Decryptor;
  readonly #primeByLevel = new Map<number, number>();

  constructor(ctx: B.BackendContext, scale: number) {
    this.ctx = ctx;
    this.scheme = ctx.params.scheme;
    this.slotCount = ctx.slotCount;
    this.scale = scale;
    this.evaluator = ctx.createEvaluator();
    for (const level of ctx.levels)
      this.#primeByLevel.set(level.chainIndex, Number(level.primes[level.primes.length - 1]));
  }

  get ckksEncoder(): B.CkksEncoder {
    this.#ckksEncoder ??= this.ctx.createCkksEncoder();
    return this.#ckksEncoder;
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

  dispose(): void {
    for (const owned of [this.#ckksEncoder, this.#batchEncoder, this.#encryptor, this.#decryptor, this.evaluator])
      owned?.dispose();
    for (const key of Object.values(this.keys)) key?.dispose();
    this.ctx.dispose();
  }
}
