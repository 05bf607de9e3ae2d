/**
 * Where uploaded ciphertexts wait for the evaluations that name them, per tenant and key set (scopes are
 * cacheScope(tenant, keySetId)). Two implementations: TenantCaches (tenant-cache.ts, in this process: the
 * embedded default) and RedisUploadCache (redis-upload-cache.ts, shared by every node). Both bound each tenant
 * to `tenantMaxBytes` (its uploads past that evict its own least recently used entries), all tenants together to
 * `maxBytes` (the tenant holding the most gives way), and every entry to `ttlMs` from its upload.
 */
import type { CacheEntry, CacheStats } from '../pool/cache.ts';

export interface UploadCacheOptions {
  maxBytes: number;
  tenantMaxBytes: number;
  ttlMs: number;
}

export interface UploadCache {
  readonly kind: 'local' | 'redis';
  /** Caches bytes for the scope's tenant; resolves to the id (the content id unless given). */
  put(bytes: Uint8Array, options: { id?: string; scope: string }): Promise<string>;
  /** The entry, or undefined (never cached, evicted, expired, or another scope's). */
  get(id: string, scope: string): Promise<CacheEntry | undefined>;
  /** Drops every entry of a scope (a deleted key set). */
  dropScope(scope: string): Promise<void>;
  /** Hits, misses and evictions seen by this process; bytes and entries held (shared: as last seen). */
  stats(): CacheStats;
  close(): Promise<void>;
}

/** The tenant a scope belongs to. */
export function tenantOf(scope: string): string {
  const slash = scope.indexOf('/');
  return slash < 0 ? scope : scope.slice(0, slash);
}
