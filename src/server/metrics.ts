/**
 * Prometheus metrics: HTTP (requests, durations), per-op evaluation durations by backend (one metric for both
 * executors), executor queue and cache state, and hefty_info (version, engine, SIMD path). Gauges and the cache
 * counters read their value at scrape time, so nothing has to push updates.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineReport } from '../backend/engine-report.ts';
import type { CacheStats } from '../pool/cache.ts';
import { counter } from '../pool/metrics.ts';
import type { ExecutorStats } from './executor.ts';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly opDuration: Histogram<'op' | 'backend'>;
  readonly evalDuration: Histogram<'kind'>;
}

export function createServerMetrics(sources: {
  executor: () => ExecutorStats;
  cache: () => CacheStats;
  engine: () => Promise<EngineReport>;
}): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hefty_' });
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
  gauge('hefty_executor_queue_depth', 'Evaluation jobs waiting to run', () => sources.executor().queued);
  gauge('hefty_executor_active_jobs', 'Evaluation jobs running now', () => sources.executor().active);
  gauge(
    'hefty_executor_loaded_keysets',
    'Key sets held deserialized in memory',
    () => sources.executor().loadedKeySets,
  );
  counter(registry, 'hefty_upload_cache_hits_total', 'Uploaded-ciphertext cache hits', () => sources.cache().hits);
  counter(
    registry,
    'hefty_upload_cache_misses_total',
    'Uploaded-ciphertext cache misses',
    () => sources.cache().misses,
  );
  counter(
    registry,
    'hefty_upload_cache_evictions_total',
    'Uploaded-ciphertext cache evictions (size or TTL)',
    () => sources.cache().evictions,
  );
  // Which engine evaluations run on, as labels of a constant 1 (the Prometheus "info" convention).
  let engine: Promise<EngineReport | undefined> | undefined;
  new Gauge({
    name: 'hefty_info',
    help: 'hefty build and engine: version, engine (native or wasm), SIMD code path, Node version',
    labelNames: ['version', 'engine', 'simd', 'node'],
    registers: [registry],
    async collect() {
      // No engine at all: evaluations fail with E_BACKEND_UNAVAILABLE, and hefty_info stays empty.
      const report = await (engine ??= sources.engine().catch(() => undefined));
      if (!report) return;
      const simd = report.native.available ? report.native.simd : 'none';
      this.set({ version: report.version, engine: report.engine, simd, node: process.versions.node }, 1);
    },
  });

  gauge('hefty_upload_cache_bytes', 'Bytes held by the uploaded-ciphertext cache', () => sources.cache().bytes);
  gauge('hefty_upload_cache_entries', 'Ciphertexts held by the cache', () => sources.cache().entries);
  return {
    registry,
    httpRequests: new Counter({
      name: 'hefty_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'hefty_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    opDuration: new Histogram({
      name: 'hefty_op_duration_seconds',
      help: 'Homomorphic program step duration by op and backend, whichever executor ran it',
      labelNames: ['op', 'backend'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    evalDuration: new Histogram({
      name: 'hefty_job_duration_seconds',
      help: 'Evaluation job duration (queue wait included) by kind',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
