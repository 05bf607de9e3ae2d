/** What the route plugins share: options, the key store, the executor, the ciphertext cache and metrics. */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerOptions } from './config.ts';
import type { Executor } from './executor.ts';
import type { KeySetStore } from './keyset-store.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { ServerMetrics } from './metrics.ts';
import type { UploadCache } from './upload-cache.ts';
import type { FairGate } from './tenant-limits.ts';

export interface Services {
  readonly options: ServerOptions;
  readonly store: KeySetStore;
  readonly executor: Executor;
  readonly cache: UploadCache;
  readonly metrics: ServerMetrics;
  /** Fair admission of evaluations (per-tenant limits, round-robin slots). */
  readonly gate: FairGate;
  /** The shared-state connection when the service runs with Redis (options.redisUrl). */
  readonly redis?: RedisConnection;
}

export type ServicePlugin = FastifyPluginAsync<{ services: Services }>;

/** Uploaded ciphertexts are cached per tenant and key set: another tenant's or key set's id is not found. */
export function cacheScope(tenant: string, keySetId: string): string {
  return `${tenant}/${keySetId}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin; every key set and ciphertext lookup is scoped by it. */
    tenant: string;
  }
}

/** Marks a plugin as not encapsulated, so its hooks apply to every route (what fastify-plugin does). */
export function appWide<T>(plugin: T): T {
  (plugin as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
  return plugin;
}
