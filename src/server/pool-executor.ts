/**
 * The service's Executor on the worker pool (src/pool): evaluations run on worker threads, so the event loop
 * only parses, routes and serializes. Stored key sets are registered with the pool on first use and kept in
 * an LRU (unregistered when evicted or deleted); the pool's bounded queue sheds with E_OVERLOADED and its
 * deadline gives E_TIMEOUT. The pool's metrics registry is merged into GET /metrics.
 */
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { decodeKeySet } from '../api/bundle.ts';
import type { Program } from '../api/program.ts';
import type { BackendChoice } from '../backend/load.ts';
import { HeftyError } from '../errors.ts';
import { createPool, type KeySetHandle, type Pool, type PoolInput } from '../pool/pool.ts';
import type {
  Executor,
  ExecutorStats,
  ItemResult,
  KeySetInfo,
  KeySetRef,
  OutputFormat,
  WireInput,
} from './executor.ts';

export interface PoolExecutorOptions {
  backend: BackendChoice;
  /** Worker threads; 0 = one per core. */
  workers: number;
  maxLoadedKeySets: number;
  maxQueue: number;
  jobTimeoutMs: number;
  onStep?: (op: string, backend: string, milliseconds: number) => void;
}

export class PoolExecutor implements Executor {
  readonly metricsRegistry: Registry;
  private readonly pool: Pool;
  private readonly jobTimeoutMs: number;
  private readonly keySets: LRUCache<string, Promise<KeySetHandle>>;

  constructor(pool: Pool, options: Pick<PoolExecutorOptions, 'maxLoadedKeySets' | 'jobTimeoutMs'>) {
    this.pool = pool;
    this.jobTimeoutMs = options.jobTimeoutMs;
    this.metricsRegistry = pool.metrics.registry;
    this.keySets = new LRUCache({
      max: options.maxLoadedKeySets,
      dispose: (pending) =>
        void pending.then(
          (handle) => this.pool.removeKeySet(handle),
          () => undefined,
        ),
    });
  }

  static async create(options: PoolExecutorOptions): Promise<PoolExecutor> {
    const pool = await createPool({
      backend: options.backend,
      ...(options.workers > 0 ? { workers: options.workers } : {}),
      maxQueue: options.maxQueue,
      maxLoadedKeySets: options.maxLoadedKeySets,
      onStep: options.onStep,
    });
    return new PoolExecutor(pool, options);
  }

  async inspect(bytes: Uint8Array): Promise<KeySetInfo> {
    decodeKeySet(bytes); // structure and secret-key refusal before a worker sees it
    const handle = await this.pool.addKeySet(bytes);
    // An upload is usually followed by evaluations: the worker that checked it keeps it loaded.
    this.pool.removeKeySet(handle, { unload: false });
    return handle.info;
  }

  private keySet(ref: KeySetRef): Promise<KeySetHandle> {
    let pending = this.keySets.get(ref.key);
    if (!pending) {
      pending = ref.read().then((bytes) => this.pool.addKeySet(bytes));
      pending.catch(() => this.keySets.delete(ref.key));
      this.keySets.set(ref.key, pending);
    }
    return pending;
  }

  async run(
    keySet: KeySetRef,
    program: Program,
    inputs: Readonly<Record<string, WireInput>>,
    format: OutputFormat,
  ): Promise<Record<string, Uint8Array>> {
    const handle = await this.keySet(keySet);
    // Inline ciphertexts were decoded for this request alone: their buffers move to the worker.
    const result = await this.pool.run(handle, program, inputs as Record<string, PoolInput>, {
      format,
      timeoutMs: this.jobTimeoutMs,
      transferInputs: true,
    });
    return result.outputs;
  }

  async runBatch(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
  ): Promise<ItemResult[]> {
    const handle = await this.keySet(keySet);
    const results = await this.pool.runBatch(handle, program, items as Record<string, PoolInput>[], {
      format,
      timeoutMs: this.jobTimeoutMs,
      transferInputs: true,
    });
    return results.map((r) => (r instanceof HeftyError ? { error: r.toJSON() } : { outputs: r.outputs }));
  }

  forget(key: string): void {
    this.keySets.delete(key);
  }

  stats(): ExecutorStats {
    const { queuedBatches, running, workers } = this.pool.stats();
    return { queued: queuedBatches, active: running, loadedKeySets: this.keySets.size, capacity: workers };
  }

  async close(): Promise<void> {
    await this.pool.close();
    this.keySets.clear();
  }
}
