/**
 * Metrics of the key store and the uploaded-ciphertext cache, whichever implementation: each call is counted by
 * outcome (ok or its error code) and timed, key-set bytes are counted both ways, and, for Redis, whether it is
 * connected and how often it reconnected. The wrappers delegate every call unchanged.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HeftyError } from '../errors.ts';
import type { CacheEntry, CacheStats } from '../pool/cache.ts';
import type { KeySetRecord, KeySetStore, PutMeta, Reservation } from './keyset-store.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { UploadCache } from './upload-cache.ts';

export interface StoreMetrics {
  readonly operations: Counter<'store' | 'kind' | 'op' | 'outcome'>;
  readonly duration: Histogram<'store' | 'kind' | 'op'>;
  readonly keySetBytes: Counter<'kind' | 'direction'>;
}

export function createStoreMetrics(registry: Registry, redis: () => RedisConnection | undefined): StoreMetrics {
  new Gauge({
    name: 'hefty_redis_up',
    help: 'Whether the shared store (Redis) is connected: 1 or 0; absent without Redis',
    registers: [registry],
    collect() {
      const connection = redis();
      if (connection) this.set(connection.up ? 1 : 0);
    },
  });
  new Counter({
    name: 'hefty_redis_reconnects_total',
    help: 'Connections to Redis re-established after a loss',
    registers: [registry],
    collect() {
      const connection = redis();
      if (!connection) return;
      this.reset();
      this.inc(connection.reconnects);
    },
  });
  return {
    operations: new Counter({
      name: 'hefty_store_operations_total',
      help: 'Key-store (store="keysets") and upload-cache (store="ciphertexts") calls by op and outcome',
      labelNames: ['store', 'kind', 'op', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'hefty_store_operation_duration_seconds',
      help: 'Key-store and upload-cache call duration by op',
      labelNames: ['store', 'kind', 'op'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    keySetBytes: new Counter({
      name: 'hefty_store_keyset_bytes_total',
      help: 'Key-set bytes written to and read from the key store',
      labelNames: ['kind', 'direction'],
      registers: [registry],
    }),
  };
}

async function timed<T>(
  metrics: StoreMetrics,
  labels: { store: string; kind: string; op: string },
  work: () => Promise<T>,
): Promise<T> {
  const stop = metrics.duration.startTimer(labels);
  try {
    const result = await work();
    metrics.operations.inc({ ...labels, outcome: 'ok' });
    return result;
  } catch (error) {
    metrics.operations.inc({ ...labels, outcome: error instanceof HeftyError ? error.code : 'error' });
    throw error;
  } finally {
    stop();
  }
}

export class InstrumentedKeySetStore implements KeySetStore {
  private readonly inner: KeySetStore;
  private readonly metrics: StoreMetrics;

  constructor(inner: KeySetStore, metrics: StoreMetrics) {
    this.inner = inner;
    this.metrics = metrics;
  }

  get kind(): 'local' | 'redis' {
    return this.inner.kind;
  }

  get available(): boolean {
    return this.inner.available;
  }

  private timed<T>(op: string, work: () => Promise<T>): Promise<T> {
    return timed(this.metrics, { store: 'keysets', kind: this.inner.kind, op }, work);
  }

  reserve(tenant: string, bytes: Uint8Array): Promise<Reservation> {
    return this.timed('reserve', () => this.inner.reserve(tenant, bytes));
  }

  async put(tenant: string, bytes: Uint8Array, meta?: PutMeta): Promise<KeySetRecord> {
    const record = await this.timed('put', () => this.inner.put(tenant, bytes, meta));
    this.metrics.keySetBytes.inc({ kind: this.inner.kind, direction: 'written' }, bytes.length);
    return record;
  }

  get(tenant: string, id: string): Promise<KeySetRecord> {
    return this.timed('get', () => this.inner.get(tenant, id));
  }

  list(tenant: string): Promise<KeySetRecord[]> {
    return this.timed('list', () => this.inner.list(tenant));
  }

  async read(tenant: string, id: string): Promise<Uint8Array> {
    const bytes = await this.timed('read', () => this.inner.read(tenant, id));
    this.metrics.keySetBytes.inc({ kind: this.inner.kind, direction: 'read' }, bytes.length);
    return bytes;
  }

  usedBytes(tenant: string): Promise<number> {
    return this.timed('usedBytes', () => this.inner.usedBytes(tenant));
  }

  delete(tenant: string, id: string): Promise<void> {
    return this.timed('delete', () => this.inner.delete(tenant, id));
  }

  sweep(): Promise<void> {
    return this.timed('sweep', () => this.inner.sweep());
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export class InstrumentedUploadCache implements UploadCache {
  private readonly inner: UploadCache;
  private readonly metrics: StoreMetrics;

  constructor(inner: UploadCache, metrics: StoreMetrics) {
    this.inner = inner;
    this.metrics = metrics;
  }

  get kind(): 'local' | 'redis' {
    return this.inner.kind;
  }

  private timed<T>(op: string, work: () => Promise<T>): Promise<T> {
    return timed(this.metrics, { store: 'ciphertexts', kind: this.inner.kind, op }, work);
  }

  put(bytes: Uint8Array, options: { id?: string; scope: string; chunks?: number }): Promise<string> {
    return this.timed('put', () => this.inner.put(bytes, options));
  }

  get(id: string, scope: string): Promise<CacheEntry | undefined> {
    return this.timed('get', () => this.inner.get(id, scope));
  }

  get locate(): UploadCache['locate'] {
    const inner = this.inner;
    if (!inner.locate) return undefined;
    return (id, scope) => this.timed('locate', () => inner.locate!(id, scope));
  }

  dropScope(scope: string): Promise<void> {
    return this.timed('dropScope', () => this.inner.dropScope(scope));
  }

  stats(): CacheStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
