/**
 * Uploaded ciphertexts, cached per tenant: each tenant has its own LRU of at most `tenantMaxBytes`, so a
 * tenant's uploads past its share evict only its own entries. The caches together stay within `maxBytes`:
 * when a new entry would pass it, entries are evicted from whichever tenant holds the most, so a tenant
 * within its fair share never loses entries to another's uploads. Scopes are cacheScope(tenant, keySetId).
 */
import { HeftyError } from '../errors.ts';
import { CiphertextCache, type CacheEntry, type CacheStats } from '../pool/cache.ts';
import { tenantOf, type UploadCache, type UploadCacheOptions } from './upload-cache.ts';

export type TenantCacheOptions = UploadCacheOptions;

export class TenantCaches implements UploadCache {
  readonly kind = 'local';
  private readonly options: TenantCacheOptions;
  private readonly caches = new Map<string, CiphertextCache>();

  constructor(options: TenantCacheOptions) {
    if (options.tenantMaxBytes > options.maxBytes)
      throw new HeftyError('E_INVALID_ARGUMENT', 'a tenant cache cannot be larger than the whole cache');
    this.options = options;
  }

  private cacheOf(tenant: string): CiphertextCache {
    let cache = this.caches.get(tenant);
    if (!cache) {
      cache = new CiphertextCache({ maxBytes: this.options.tenantMaxBytes, ttlMs: this.options.ttlMs });
      this.caches.set(tenant, cache);
    }
    return cache;
  }

  /** Makes room for `bytes` more within maxBytes, evicting from the largest tenant first. */
  private makeRoom(bytes: number): void {
    for (;;) {
      let total = 0;
      let largest: CiphertextCache | undefined;
      let largestBytes = 0;
      for (const cache of this.caches.values()) {
        const held = cache.stats().bytes;
        total += held;
        if (held > largestBytes) [largest, largestBytes] = [cache, held];
      }
      if (total + bytes <= this.options.maxBytes || !largest?.evictOldest()) return;
    }
  }

  /** Caches bytes for the scope's tenant; returns the id (content id unless given). */
  async put(bytes: Uint8Array, options: { id?: string; scope: string }): Promise<string> {
    if (bytes.byteLength > this.options.tenantMaxBytes) {
      throw new HeftyError(
        'E_QUOTA_EXCEEDED',
        `${bytes.byteLength} bytes exceed the per-tenant ciphertext cache of ${this.options.tenantMaxBytes} bytes`,
      );
    }
    this.makeRoom(bytes.byteLength);
    return this.cacheOf(tenantOf(options.scope)).put(bytes, options);
  }

  async get(id: string, scope: string): Promise<CacheEntry | undefined> {
    return this.cacheOf(tenantOf(scope)).get(id, scope);
  }

  async dropScope(scope: string): Promise<void> {
    this.caches.get(tenantOf(scope))?.dropScope(scope);
  }

  async close(): Promise<void> {
    for (const cache of this.caches.values()) cache.clear();
  }

  stats(): CacheStats {
    const total: CacheStats = { hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0 };
    for (const cache of this.caches.values()) {
      const s = cache.stats();
      for (const key of Object.keys(total) as (keyof CacheStats)[]) total[key] += s[key];
    }
    return total;
  }
}
