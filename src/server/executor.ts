/**
 * Where evaluations run. The routes only see the Executor interface, so moving from the in-process executor to
 * the worker pool (src/pool) is one change in app.ts. The in-process executor keeps loaded key sets hot in an
 * LRU, runs one job at a time off a bounded queue (E_OVERLOADED past it, E_TIMEOUT for jobs that waited too
 * long) and yields to the event loop between jobs so health checks and uploads stay responsive.
 */
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { HeftyError } from '../errors.ts';
import { loadContext, type HeftyContext } from '../api/context.ts';
import { describeKeySet, type KeySetInfo } from '../api/keyset-info.ts';
import type { Program } from '../api/program.ts';
import type { ProgramInput, ProgramVector } from '../api/run.ts';
import type { BackendChoice } from '../backend/load.ts';
import { isCacheEntry, type CacheEntry } from '../pool/cache.ts';
import type { StoredUpload } from './upload-cache.ts';

/**
 * A program input as it arrives over the wire: ciphertext bytes, an uploaded ciphertext's cache entry, or (only for
 * executors that read them, `readsStoredUploads`) where a shared cache holds an upload, for 'vector' inputs;
 * numbers otherwise.
 */
export type WireInput =
  Uint8Array | CacheEntry | StoredUpload | number | readonly number[] | readonly (readonly number[])[];

export function isStoredUpload(value: unknown): value is StoredUpload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StoredUpload).location === 'string' &&
    typeof (value as StoredUpload).hash === 'string'
  );
}

export interface KeySetRef {
  /** Unique per stored key set (tenant-scoped id). */
  readonly key: string;
  /** The owner and id in the key store (remote workers read the key set by these). */
  readonly tenant: string;
  readonly id: string;
  /** Reads the envelope bytes when the executor does not hold the key set loaded. */
  readonly read: () => Promise<Uint8Array>;
}

export type { KeySetInfo } from '../api/keyset-info.ts';

export type OutputFormat = 'hefty' | 'seal';
export type ItemResult = { outputs: Record<string, Uint8Array> } | { error: { code: string; message: string } };

/** Per-request options an executor may honour (the distributed one does; in-process ones need neither). */
export interface RunOptions {
  /** The client's Idempotency-Key: a retry with the same key (and request) never runs the work twice. */
  readonly idempotencyKey?: string;
  /** Aborted when the client goes away: work not started yet is dropped. */
  readonly signal?: AbortSignal;
}

export interface ExecutorStats {
  queued: number;
  active: number;
  loadedKeySets: number;
  /** Jobs the executor runs at once (its workers); the fair gate hands it no more than this. */
  capacity: number;
}

export interface Executor {
  /** Parses and checks a key-set envelope (parameters, security, keys) without storing it. */
  inspect(bytes: Uint8Array): Promise<KeySetInfo>;
  run(
    keySet: KeySetRef,
    program: Program,
    inputs: Readonly<Record<string, WireInput>>,
    format: OutputFormat,
    options?: RunOptions,
  ): Promise<Record<string, Uint8Array>>;
  runBatch(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
    options?: RunOptions,
  ): Promise<ItemResult[]>;
  /**
   * Whether uploads may be named by where a shared cache holds them (StoredUpload) instead of their bytes: the
   * distributed executor's compute nodes read them there themselves.
   */
  readonly readsStoredUploads?: boolean;
  /** Drops a loaded key set (after deletion). */
  forget(key: string): void;
  stats(): ExecutorStats;
  /** Stops taking jobs and waits for queued ones. */
  close(): Promise<void>;
  /** The executor's own metrics (e.g. the worker pool's), merged into GET /metrics. */
  readonly metricsRegistry?: Registry;
}

export interface InProcessOptions {
  backend: BackendChoice;
  maxLoadedKeySets: number;
  maxQueue: number;
  jobTimeoutMs: number;
  onStep?: (op: string, backend: string, milliseconds: number) => void;
}

interface Waiter {
  start: () => void;
  fail: (e: HeftyError) => void;
  timer: NodeJS.Timeout;
}

export class InProcessExecutor implements Executor {
  private readonly options: InProcessOptions;
  private readonly contexts: LRUCache<string, Promise<HeftyContext<ProgramVector>>>;
  private readonly waiting: Waiter[] = [];
  private active = 0;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(options: InProcessOptions) {
    this.options = options;
    this.contexts = new LRUCache({
      max: options.maxLoadedKeySets,
      dispose: (pending) =>
        void pending.then(
          (ctx) => ctx.dispose(),
          () => undefined,
        ),
    });
  }

  async inspect(bytes: Uint8Array): Promise<KeySetInfo> {
    const ctx = await loadContext(bytes, { backend: this.options.backend, security: 128 });
    try {
      return describeKeySet(ctx);
    } finally {
      ctx.dispose();
    }
  }

  private context(ref: KeySetRef): Promise<HeftyContext<ProgramVector>> {
    let pending = this.contexts.get(ref.key);
    if (!pending) {
      pending = ref.read().then((bytes) => loadContext(bytes, { backend: this.options.backend, security: 128 }));
      pending.catch(() => this.contexts.delete(ref.key));
      this.contexts.set(ref.key, pending);
    }
    return pending;
  }

  /** Waits for the single execution slot; refuses when the queue is full. */
  private acquire(): Promise<void> {
    if (this.closed) return Promise.reject(new HeftyError('E_OVERLOADED', 'the service is shutting down'));
    if (this.active === 0 && this.waiting.length === 0) {
      this.active = 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new HeftyError('E_OVERLOADED', `the evaluation queue is full (${this.options.maxQueue})`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        fail: reject,
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new HeftyError('E_TIMEOUT', `the job waited more than ${this.options.jobTimeoutMs} ms`));
        }, this.options.jobTimeoutMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    // setImmediate lets pending I/O (new requests, health checks) run between two CPU-bound jobs.
    setImmediate(() => {
      const next = this.waiting.shift();
      if (next) return next.start();
      this.active = 0;
      for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private async evaluate(
    ctx: HeftyContext<ProgramVector>,
    program: Program,
    wire: Readonly<Record<string, WireInput>>,
    format: OutputFormat,
  ): Promise<Record<string, Uint8Array>> {
    const loaded: ProgramVector[] = [];
    let outputs: Record<string, ProgramVector> = {};
    try {
      const inputs: Record<string, ProgramInput> = {};
      for (const [name, kind] of Object.entries(program.inputs)) {
        // Cached bytes live in shared memory; engines get a private copy.
        const given = Object.hasOwn(wire, name) ? wire[name] : undefined;
        const value = isCacheEntry(given) ? given.bytes.slice() : given;
        if (kind === 'vector') {
          if (!(value instanceof Uint8Array))
            throw new HeftyError('E_BAD_PROGRAM', `input "${name}" needs a ciphertext`);
          const vector = ctx.loadVector(value);
          loaded.push(vector);
          inputs[name] = vector;
        } else if (value !== undefined) {
          if (value instanceof Uint8Array)
            throw new HeftyError('E_BAD_PROGRAM', `input "${name}" is ${kind}, not a ciphertext`);
          inputs[name] = value as ProgramInput;
        }
      }
      const backend = ctx.backend.name;
      outputs = await ctx.run(program, inputs, {
        onStep: (op, ms) => this.options.onStep?.(op, backend, ms),
      });
      const result: Record<string, Uint8Array> = {};
      for (const [name, vector] of Object.entries(outputs)) {
        result[name] = format === 'seal' && vector.chunkCount === 1 ? vector.serialize('seal') : vector.serialize();
      }
      return result;
    } finally {
      for (const v of loaded) v.dispose();
      for (const v of Object.values(outputs)) v.dispose();
    }
  }

  run(
    keySet: KeySetRef,
    program: Program,
    inputs: Readonly<Record<string, WireInput>>,
    format: OutputFormat,
  ): Promise<Record<string, Uint8Array>> {
    return this.exclusive(async () => this.evaluate(await this.context(keySet), program, inputs, format));
  }

  runBatch(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
  ): Promise<ItemResult[]> {
    return this.exclusive(async () => {
      const ctx = await this.context(keySet);
      const results: ItemResult[] = [];
      for (const item of items) {
        try {
          results.push({ outputs: await this.evaluate(ctx, program, item, format) });
        } catch (e) {
          const error = e instanceof HeftyError ? e : new HeftyError('E_INTERNAL', 'item failed', { cause: e });
          results.push({ error: error.toJSON() });
        }
      }
      return results;
    });
  }

  forget(key: string): void {
    this.contexts.delete(key);
  }

  stats(): ExecutorStats {
    return { queued: this.waiting.length, active: this.active, loadedKeySets: this.contexts.size, capacity: 1 };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.active > 0 || this.waiting.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.contexts.clear();
  }
}
