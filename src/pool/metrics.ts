/**
 * The pool's Prometheus metrics, in a registry of its own that a service can mount or merge (it holds no
 * default process metrics, so merging never collides). Gauges read pool state at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from './cache.ts';
import type { DispatcherStats } from './dispatcher.ts';

export interface PoolMetrics {
  readonly registry: Registry;
  readonly jobDuration: Histogram<'backend' | 'outcome'>;
  readonly opDuration: Histogram<'op' | 'backend'>;
  readonly batchDuration: Histogram;
  readonly inputLoad: Histogram<'source' | 'backend'>;
  readonly workersLost: Counter;
  /** Each live worker's JS heap (used and total bytes), as of its last job. */
  readonly workerHeap: Gauge<'worker' | 'kind'>;
}

/** A counter whose value lives elsewhere (a monotonic stat), read at scrape time. */
export function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createPoolMetrics(sources: {
  queue: () => DispatcherStats;
  workers: () => number;
  cache: () => CacheStats;
}): PoolMetrics {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('hefty_pool_queue_depth', 'Batches waiting for a worker', () => sources.queue().queuedBatches);
  gauge('hefty_pool_queued_items', 'Batch items not yet handed to a worker', () => sources.queue().queuedItems);
  gauge('hefty_pool_active_workers', 'Workers running an item now', () => sources.queue().running);
  gauge('hefty_pool_workers', 'Worker threads alive', sources.workers);
  counter(registry, 'hefty_pool_cache_hits_total', 'Ciphertext cache hits', () => sources.cache().hits);
  counter(registry, 'hefty_pool_cache_misses_total', 'Ciphertext cache misses', () => sources.cache().misses);
  counter(
    registry,
    'hefty_pool_cache_evictions_total',
    'Ciphertext cache evictions (size or TTL)',
    () => sources.cache().evictions,
  );
  gauge('hefty_pool_cache_bytes', 'Bytes held by the ciphertext cache', () => sources.cache().bytes);
  gauge('hefty_pool_cache_entries', 'Ciphertexts held by the cache', () => sources.cache().entries);
  return {
    registry,
    jobDuration: new Histogram({
      name: 'hefty_pool_job_duration_seconds',
      help: 'One job (a run of batch items) on a worker, from dispatch to result, by backend and outcome',
      labelNames: ['backend', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    opDuration: new Histogram({
      name: 'hefty_pool_op_duration_seconds',
      help: 'Program step duration on pool workers by op and backend',
      labelNames: ['op', 'backend'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'hefty_pool_batch_duration_seconds',
      help: 'Whole batches, queue wait included',
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    inputLoad: new Histogram({
      name: 'hefty_pool_input_load_seconds',
      help: 'Getting an encrypted input ready on a worker: cache-hit (already loaded) or deserialized (from bytes)',
      labelNames: ['source', 'backend'],
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
    workerHeap: new Gauge({
      name: 'hefty_pool_worker_heap_bytes',
      help: "A worker thread's JS heap after its last job: kind used or total (committed), by worker thread id",
      labelNames: ['worker', 'kind'],
      registers: [registry],
    }),
    workersLost: new Counter({
      name: 'hefty_pool_workers_lost_total',
      help: 'Workers that crashed or were killed while running an item',
      registers: [registry],
    }),
  };
}
