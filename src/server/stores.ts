/**
 * The service's state, chosen by configuration: with `redisUrl`, the key store and the uploaded-ciphertext cache
 * live in Redis (shared by every node, one connection for both); without, in this process and `dataDir` (the
 * embedded default).
 */
import type { ServerOptions } from './config.ts';
import { KeyStore } from './keystore.ts';
import type { KeySetStore, KeySetStoreLimits } from './keyset-store.ts';
import { RedisConnection } from './redis-connection.ts';
import { RedisKeyStore } from './redis-keystore.ts';
import { RedisUploadCache } from './redis-upload-cache.ts';
import { TenantCaches } from './tenant-cache.ts';
import type { UploadCache, UploadCacheOptions } from './upload-cache.ts';

export interface Stores {
  store: KeySetStore;
  cache: UploadCache;
  /** The shared-state connection, with Redis. */
  redis?: RedisConnection;
  /** Flushes and closes the store and the cache, then the connection. */
  close(): Promise<void>;
}

export function keySetLimits(options: ServerOptions): KeySetStoreLimits {
  return {
    tenantQuotaBytes: options.tenantQuotaBytes,
    tenantMaxKeySets: options.tenantMaxKeySets,
    rotationGraceMs: options.rotationGraceMs,
    defaultTtlMs: options.defaultKeySetTtlMs,
    maxTtlMs: options.maxKeySetTtlMs,
  };
}

export async function openStores(options: ServerOptions): Promise<Stores> {
  const limits = keySetLimits(options);
  const cacheOptions: UploadCacheOptions = {
    maxBytes: options.cacheBytes,
    tenantMaxBytes: options.tenantCacheBytes,
    ttlMs: options.cacheTtlMs,
  };
  if (!options.redisUrl) {
    const store = await KeyStore.open({ dataDir: options.dataDir, ...limits });
    const cache = new TenantCaches(cacheOptions);
    return { store, cache, close: async () => void (await Promise.all([store.close(), cache.close()])) };
  }
  const redis = await RedisConnection.open(options.redisUrl, { name: 'hefty-api' });
  try {
    const prefix = options.redisPrefix;
    const store = await RedisKeyStore.open({ connection: redis, prefix, ...limits });
    const cache = new RedisUploadCache({ connection: redis, prefix, ...cacheOptions });
    return {
      store,
      cache,
      redis,
      close: async () => {
        await Promise.all([store.close(), cache.close()]);
        await redis.close();
      },
    };
  } catch (error) {
    // An open connection would keep the process alive after a refused start.
    await redis.close();
    throw error;
  }
}
