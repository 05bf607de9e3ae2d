/**
 * Prometheus metrics: HTTP (requests, durations), per-op evaluation durations by backend, executor queue and
 * cache state. Gauges read their value at scrape time, so nothing has to push updates.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from '../pool/cache.ts';
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
  gauge('hefty_upload_cache_hits', 'Uploaded-ciphertext cache hits since start', () => sources.cache().hits);
  gauge('hefty_upload_cache_misses', 'Uploaded-ciphertext cache misses since start', () => sources.cache().misses);
  gauge(
    'hefty_upload_cache_evictions',
    'Uploaded-ciphertext cache evictions (size or TTL) since start',
    () => sources.cache().evictions,
  );
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
      help: 'Homomorphic program step duration by op and backend',
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
