/**
 * createPool(): batch jobs on a piscina worker pool.
 *
 *   const pool = await createPool({ workers: 2, cacheBytes: 512 << 20 });
 *   const keySet = await pool.addKeySet(publicContextBytes, { relin, galois });   // evaluation keys only
 *   const results = await pool.runBatch(keySet, program, inputs, { signal, onProgress });
 *
 * A batch's items go to the workers in short runs, one job per run (dispatcher.ts); results come back in input
 * order, each the item's outputs or its HeftyError. Key sets are registered once (by content hash) and loaded at
 * most once per worker; cached operands (`pool.cache`, or results of steps marked `reusable`) stay loaded in the
 * workers that used them.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { decodeKeySet, encodeKeySet, isKeySetEnvelope, type KeySetBundle } from '../api/bundle.ts';
import { validateProgram, type Program } from '../api/program.ts';
import type { BackendChoice } from '../backend/load.ts';
import { gpuModeFromEnv, type GpuMode } from '../gpu/device.ts';
import { HeftyError } from '../errors.ts';
import { CiphertextCache, sha256, sharedCopy } from './cache.ts';
import { Dispatcher, RETRY, toHeftyError, type DispatcherStats } from './dispatcher.ts';
import {
  type EvalItem,
  type EvalJob,
  type EvalResult,
  type InspectResult,
  type ItemDone,
  type ItemFailed,
  type Job,
  type KeySetInfo,
  type KeySetWire,
  type OutputFormat,
  type ProgramWire,
  type TestHook,
  type WorkerConfig,
} from './jobs.ts';
import { inputTransferList, jobInputs, movableInputs, type PoolInput } from './inputs.ts';
import { createPoolMetrics, type PoolMetrics } from './metrics.ts';

export type { PoolInput } from './inputs.ts';

export interface PoolOptions {
  /** Worker threads (default: the number of cores). */
  workers?: number;
  /** Native intra-op threads per worker (default: HEFTY_NATIVE_THREADS, else cores / workers, at least 1). */
  threadsPerWorker?: number;
  backend?: BackendChoice;
  /** Batches allowed to wait beyond the running one(s); past it runBatch fails at once with E_OVERLOADED. */
  maxQueue?: number;
  /** Default deadline of a batch (queue wait included); none by default. */
  jobTimeoutMs?: number;
  /** Ciphertext cache size in bytes and entry lifetime. */
  cacheBytes?: number;
  cacheTtlMs?: number;
  /** Loaded operands each worker keeps, in serialized bytes (default: cacheBytes / workers). */
  workerCacheBytes?: number;
  /** Key sets each worker keeps loaded. */
  maxLoadedKeySets?: number;
  /** Called for every program step a worker ran (besides the pool's own metrics). */
  onStep?: (op: string, backend: string, milliseconds: number) => void;
  /**
   * Batched key switching on a GPU, per worker and loaded key set: auto | on | off (default: HEFTY_GPU,
   * unset = off). A worker without a device stays on the CPU (auto) or fails its jobs with E_BACKEND_UNAVAILABLE (on).
   */
  gpu?: GpuMode;
  /** Tests only: lets batch items carry hooks that crash or stall their worker. */
  testHooks?: boolean;
}

export interface BatchOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Deadline for the batch from the call (queue wait included); unfinished items fail with E_TIMEOUT. */
  timeoutMs?: number;
  /** 'seal' returns single-ciphertext outputs as bare SEAL bytes (for node-seal peers). */
  format?: OutputFormat;
  /**
   * Hand ciphertext inputs' buffers to the workers instead of copying them: they are detached (empty) after
   * the call. Only byte arrays that fill their whole buffer and occur once in the batch move; others are copied.
   * A moved item cannot be dispatched again: if its worker is lost before its result is back, it fails with
   * E_WORKER_LOST.
   */
  transferInputs?: boolean;
  /** Tests only (needs a pool created with testHooks). */
  testHook?: (index: number) => TestHook | undefined;
}

export interface ItemOutputs {
  readonly outputs: Record<string, Uint8Array>;
  /** Cache ids of the values of steps marked reusable, by step name. */
  readonly cached: Record<string, string>;
}

export type BatchItemResult = ItemOutputs | HeftyError;

export interface KeySetHandle {
  readonly id: string;
  readonly info: KeySetInfo;
}

export interface PoolStats extends DispatcherStats {
  workers: number;
  keySets: number;
}

interface KeySetEntry {
  readonly wire: KeySetWire;
  readonly info: Promise<KeySetInfo>;
  refs: number;
}

/** What each handle addKeySet returned refers to. */
const handles = new WeakMap<KeySetHandle, KeySetWire>();

// worker.ts next to this file in a clone, worker.js in the built package (dist/).
const WORKER_FILE = fileURLToPath(new URL(`./worker${path.extname(import.meta.url)}`, import.meta.url));
const WORKER_YOUNG_GENERATION_MB = 16;
/** Removed key-set ids that jobs keep announcing so that every worker drops them. */
const DROP_HISTORY = 64;

/** An integer option of at least `min` (Infinity only where `unbounded`), or its default. */
function integerOption(value: number | undefined, fallback: number, what: string, min = 1, unbounded = false): number {
  const v = value ?? fallback;
  if (!((Number.isSafeInteger(v) && v >= min) || (unbounded && v === Infinity)))
    throw new HeftyError('E_INVALID_ARGUMENT', `pool option ${what} must be an integer ≥ ${min}`);
  return v;
}

function defaultThreads(workers: number): number {
  const env = process.env.HEFTY_NATIVE_THREADS;
  if (env !== undefined && env !== '' && Number.isSafeInteger(Number(env))) return Number(env);
  return Math.max(1, Math.floor(os.availableParallelism() / workers));
}

export class Pool {
  readonly cache: CiphertextCache;
  readonly metrics: PoolMetrics;
  readonly workers: number;
  private readonly piscina: Piscina<Job, unknown>;
  private readonly dispatcher: Dispatcher;
  private readonly keySets = new Map<string, KeySetEntry>();
  private readonly dropped: string[] = [];
  private readonly testHooks: boolean;
  private readonly jobTimeoutMs: number | undefined;
  private readonly onStep: PoolOptions['onStep'];
  private readonly dead = new AbortController();
  /** WorkerConfig.progress, and its entries not held by a job in flight. */
  private readonly progress: Int32Array;
  private readonly freeSlots: number[];
  private closing = false;

  constructor(options: PoolOptions = {}) {
    const workers = integerOption(options.workers, os.availableParallelism(), 'workers');
    const cacheBytes = integerOption(options.cacheBytes, 256 << 20, 'cacheBytes');
    const config: WorkerConfig = {
      backend: options.backend ?? 'auto',
      threads: integerOption(options.threadsPerWorker, defaultThreads(workers), 'threadsPerWorker', 0),
      maxLoadedKeySets: integerOption(options.maxLoadedKeySets, 8, 'maxLoadedKeySets'),
      operandCacheBytes: integerOption(
        options.workerCacheBytes,
        Math.max(1, Math.floor(cacheBytes / workers)),
        'workerCacheBytes',
      ),
      gpu: gpuModeFromEnv(options.gpu ?? process.env.HEFTY_GPU ?? 'off'),
      testHooks: options.testHooks === true,
      progress: new Int32Array(new SharedArrayBuffer(4 * workers)),
      ...(options.testHooks ? { testFlags: new Int32Array(new SharedArrayBuffer(4)) } : {}),
    };
    if (!['native', 'wasm', 'auto'].includes(config.backend))
      throw new HeftyError('E_INVALID_ARGUMENT', 'pool option backend must be native, wasm or auto');
    this.workers = workers;
    this.progress = config.progress;
    this.freeSlots = Array.from({ length: workers }, (_, i) => i);
    this.onStep = options.onStep;
    this.testHooks = config.testHooks;
    this.jobTimeoutMs =
      options.jobTimeoutMs === undefined ? undefined : integerOption(options.jobTimeoutMs, 0, 'jobTimeoutMs', 1, true);
    this.cache = new CiphertextCache({
      maxBytes: cacheBytes,
      ttlMs: integerOption(options.cacheTtlMs, 3600_000, 'cacheTtlMs'),
    });
    this.dispatcher = new Dispatcher({
      concurrency: workers,
      maxQueue: integerOption(options.maxQueue, 1024, 'maxQueue', 0, true),
    });
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      // Between jobs a worker must return to its event loop: N-API finalizers (the engine's object handles) and
      // FinalizationRegistry callbacks run only there. piscina's default ('sync') waits for the next job in
      // Atomics.wait instead, and a busy worker then grows by every handle it ever made.
      atomics: 'async',
      // A busy worker's garbage is nearly all young; left alone V8 keeps doubling its young generation (to 64 MiB
      // and more per worker) and the process RSS climbs in steps. 16 MiB costs no measurable throughput.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      workerData: config,
    });
    // A worker failing outside a job (nothing to fail) is replaced by piscina; there is no one to tell.
    this.piscina.on('error', () => undefined);
    // Replacements are added synchronously after a removal: if none is there a moment later, none will come.
    this.piscina.on('workerDestroy', (worker: { id: number }) => {
      this.metrics.workerHeap.remove({ worker: String(worker.id), kind: 'used' });
      this.metrics.workerHeap.remove({ worker: String(worker.id), kind: 'total' });
      setImmediate(() => this.checkAlive());
    });
    this.metrics = createPoolMetrics({
      queue: () => this.dispatcher.stats(),
      workers: () => this.piscina.threads.length,
      cache: () => this.cache.stats(),
    });
  }

  /**
   * Registers a key set (an HFKS envelope, or a bundle, optionally with relin/galois keys beside it); a worker
   * loads and checks it at once. The same content registered twice is one key set (counted references).
   */
  async addKeySet(
    keySet: Uint8Array | KeySetBundle,
    extra: { relin?: Uint8Array; galois?: Uint8Array } = {},
  ): Promise<KeySetHandle> {
    const isEnvelope = keySet instanceof Uint8Array && isKeySetEnvelope(keySet);
    let envelope: Uint8Array;
    if (isEnvelope && !extra.relin && !extra.galois) envelope = keySet;
    else {
      // Bare bytes are SEAL-format parameters; an envelope with extra keys is opened and extended.
      const bundle = keySet instanceof Uint8Array ? (isEnvelope ? decodeKeySet(keySet) : { params: keySet }) : keySet;
      envelope = encodeKeySet({
        ...bundle,
        ...(extra.relin ? { relinKeys: extra.relin } : {}),
        ...(extra.galois ? { galoisKeys: extra.galois } : {}),
      });
    }
    const id = `ks_${sha256(envelope)}`;
    let entry = this.keySets.get(id);
    if (entry) entry.refs++;
    else {
      const wire: KeySetWire = { id, bytes: sharedCopy(envelope) };
      const index = this.dropped.indexOf(id);
      if (index >= 0) this.dropped.splice(index, 1);
      entry = { wire, info: this.inspect(wire), refs: 1 };
      this.keySets.set(id, entry);
      entry.info.catch(() => this.release(id));
    }
    const handle: KeySetHandle = { id, info: await entry.info };
    handles.set(handle, entry.wire);
    return handle;
  }

  /**
   * Drops one reference to a key set; at zero it is forgotten and workers unload it (or, with unload: false,
   * keep it among their least recently used key sets, for a caller that will register it again soon).
   */
  removeKeySet(keySet: KeySetHandle | string, options: { unload?: boolean } = {}): void {
    const id = typeof keySet === 'string' ? keySet : keySet.id;
    const entry = this.keySets.get(id);
    if (entry && --entry.refs <= 0) this.release(id, options.unload !== false);
  }

  private release(id: string, unload = true): void {
    this.keySets.delete(id);
    if (!unload) return;
    this.dropped.push(id);
    if (this.dropped.length > DROP_HISTORY) this.dropped.shift();
  }

  private async inspect(wire: KeySetWire): Promise<KeySetInfo> {
    const [outcome] = await this.dispatcher.submit({
      size: 1,
      runItems: async (_indices, signal) => {
        const result = (await this.runJob(
          { type: 'inspect', keySet: wire, drop: this.dropped },
          [],
          signal,
        )) as InspectResult;
        if (!result.ok) throw new HeftyError(result.error.code, result.error.message);
        return [result.info];
      },
    });
    if (outcome instanceof HeftyError) throw outcome;
    return outcome;
  }

  private async runJob(job: Job, transfer: ArrayBuffer[], signal: AbortSignal): Promise<unknown> {
    if (this.dead.signal.aborted) throw this.dead.signal.reason;
    try {
      return await this.piscina.run(job, {
        transferList: transfer,
        signal: AbortSignal.any([signal, this.dead.signal]),
      });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (this.dead.signal.aborted) throw this.dead.signal.reason;
      // A job that cannot be posted (a value structured clone refuses) never reached a worker: bad input, not a
      // lost worker (which would raise a false crash alarm and be retried).
      if (e instanceof Error && e.name === 'DataCloneError') {
        throw new HeftyError('E_INVALID_ARGUMENT', `the job's inputs cannot be sent to a worker: ${e.message}`);
      }
      this.metrics.workersLost.inc();
      throw new HeftyError('E_WORKER_LOST', `the worker running this item was lost: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  private finish(backend: string, result: ItemDone | ItemFailed): ItemOutputs | HeftyError {
    if (!result.ok) return new HeftyError(result.error.code, result.error.message);
    for (const [op, ms] of result.steps) {
      this.metrics.opDuration.observe({ op, backend }, ms / 1000);
      this.onStep?.(op, backend, ms);
    }
    for (const [source, ms] of result.inputs) this.metrics.inputLoad.observe({ source, backend }, ms / 1000);
    const cached: Record<string, string> = {};
    for (const [name, { bytes, hash }] of Object.entries(result.reusable))
      cached[name] = this.cache.put(bytes, { hash });
    return { outputs: result.values, cached };
  }

  /**
   * One job for the batch items `indices`. If its worker is lost, the item it was running fails with
   * E_WORKER_LOST and the others come back as RETRY (their results, if any, were lost with the worker), except
   * items whose input buffers moved to that worker (transferInputs): those are gone, and fail too.
   */
  private async runItems(
    indices: readonly number[],
    signal: AbortSignal,
    prepare: (index: number) => EvalItem,
    moved: (index: number) => boolean,
    job: Omit<EvalJob, 'items' | 'slot' | 'drop'>,
  ): Promise<(ItemOutputs | HeftyError | typeof RETRY)[]> {
    const outcomes: (ItemOutputs | HeftyError | typeof RETRY)[] = new Array(indices.length);
    const items: EvalItem[] = [];
    const positions: number[] = [];
    for (const [k, index] of indices.entries()) {
      try {
        items.push(prepare(index));
        positions.push(k);
      } catch (e) {
        outcomes[k] = toHeftyError(e);
      }
    }
    if (items.length === 0) return outcomes;
    // The dispatcher runs at most one job per worker, so a slot is always free.
    const slot = this.freeSlots.pop() as number;
    Atomics.store(this.progress, slot, 0);
    const started = performance.now();
    let backend = 'none';
    let outcome = 'error';
    try {
      const result = (await this.runJob(
        { ...job, items, slot, drop: this.dropped },
        items.flatMap((item) => inputTransferList(item.inputs)),
        signal,
      )) as EvalResult;
      backend = result.backend;
      if (result.ok) {
        const worker = String(result.heap.threadId);
        this.metrics.workerHeap.set({ worker, kind: 'used' }, result.heap.used);
        this.metrics.workerHeap.set({ worker, kind: 'total' }, result.heap.total);
      }
      for (const [j, k] of positions.entries())
        outcomes[k] = result.ok
          ? this.finish(result.backend, result.items[j])
          : new HeftyError(result.error.code, result.error.message);
      outcome = result.ok ? 'ok' : 'error';
    } catch (e) {
      const error = toHeftyError(e);
      const lost = error.code === 'E_WORKER_LOST' && !this.dead.signal.aborted;
      const running = Atomics.load(this.progress, slot) - 1;
      for (const [j, k] of positions.entries())
        outcomes[k] = lost && j !== running && !moved(indices[k]) ? RETRY : error;
    } finally {
      this.freeSlots.push(slot);
      this.metrics.jobDuration.observe({ backend, outcome }, (performance.now() - started) / 1000);
    }
    return outcomes;
  }

  /** Runs `program` once per item; resolves with per-item outputs or HeftyErrors, in input order. */
  async runBatch(
    keySet: KeySetHandle | string,
    program: Program | unknown,
    inputs: readonly Readonly<Record<string, PoolInput>>[],
    options: BatchOptions = {},
  ): Promise<BatchItemResult[]> {
    const checked = validateProgram(program);
    const id = typeof keySet === 'string' ? keySet : keySet?.id;
    // A handle stays usable after removeKeySet (a batch racing a removal still runs); a bare id must be registered.
    const wire = (typeof keySet === 'object' && keySet !== null && handles.get(keySet)) || this.keySets.get(id)?.wire;
    if (!wire) throw new HeftyError('E_NOT_FOUND', `key set ${String(id)} is not registered with this pool`);
    if (!Array.isArray(inputs)) throw new HeftyError('E_INVALID_ARGUMENT', 'batch inputs must be an array of items');
    const format = options.format ?? 'hefty';
    if (format !== 'hefty' && format !== 'seal')
      throw new HeftyError('E_INVALID_ARGUMENT', 'format must be hefty or seal');
    const reusable = checked.steps.filter((s) => s.reusable).map((s) => s.out);
    const json = new TextEncoder().encode(JSON.stringify(checked));
    const programWire: ProgramWire = { id: sha256(json), json: sharedCopy(json) };
    const timeoutMs = options.timeoutMs ?? this.jobTimeoutMs;
    const movable = options.transferInputs ? movableInputs(inputs) : new Set<Uint8Array>();
    const movedInputs = (index: number): boolean =>
      movable.size > 0 && Object.values(inputs[index] ?? {}).some((v) => v instanceof Uint8Array && movable.has(v));
    const prepare = (index: number): EvalItem => ({
      inputs: jobInputs(checked, inputs[index], this.cache, movable),
      ...(this.testHooks && options.testHook ? { test: options.testHook(index) } : {}),
    });
    const job = { type: 'eval', keySet: wire, program: programWire, format, reusable } as const;
    const stopTimer = this.metrics.batchDuration.startTimer();
    try {
      return await this.dispatcher.submit<ItemOutputs>({
        size: inputs.length,
        signal: options.signal,
        timeoutMs,
        onProgress: options.onProgress,
        runItems: (indices, signal) => this.runItems(indices, signal, prepare, movedInputs, job),
      });
    } finally {
      stopTimer();
    }
  }

  /** One evaluation (a batch of one); throws the item's HeftyError. */
  async run(
    keySet: KeySetHandle | string,
    program: Program | unknown,
    inputs: Readonly<Record<string, PoolInput>>,
    options: Omit<BatchOptions, 'onProgress'> = {},
  ): Promise<ItemOutputs> {
    const [result] = await this.runBatch(keySet, program, [inputs], options);
    if (result instanceof HeftyError) throw result;
    return result;
  }

  stats(): PoolStats {
    return { ...this.dispatcher.stats(), workers: this.piscina.threads.length, keySets: this.keySets.size };
  }

  /** Refuses new batches, lets accepted ones finish, then stops the workers. */
  /**
   * piscina stops replacing workers once one fails while starting; with none left its queue would wait forever.
   * Then every waiting and future job fails with E_WORKER_LOST instead.
   */
  private checkAlive(): void {
    if (this.closing || this.dead.signal.aborted || this.piscina.threads.length > 0) return;
    this.dead.abort(new HeftyError('E_WORKER_LOST', 'no pool worker is left and none could be started'));
  }

  async close(): Promise<void> {
    await this.dispatcher.drain();
    this.closing = true;
    await this.piscina.destroy();
    this.cache.clear();
    this.keySets.clear();
  }
}

export async function createPool(options: PoolOptions = {}): Promise<Pool> {
  return new Pool(options);
}
