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

/**
 * Where a shared cache holds an upload, without its bytes: in the distributed mode an evaluation names it this way,
 * and the compute node that runs the evaluation reads the bytes there itself (the API node never moves them).
 */
export interface StoredUpload {
  /** The Redis key of the entry: a hash whose field `b` holds the bytes. */
  readonly location: string;
  /** SHA-256 of the bytes (hex): compute nodes keep the operand loaded under it. */
  readonly hash: string;
  readonly size: number;
  /** Ciphertext chunks of the upload, as counted when it was checked at upload. */
  readonly chunks: number;
}

export interface UploadCache {
  readonly kind: 'local' | 'redis';
  /**
   * Caches bytes for the scope's tenant; resolves to the id (the content id unless given). `chunks` (the
   * ciphertext chunks the caller counted) is kept for locate().
   */
  put(bytes: Uint8Array, options: { id?: string; scope: string; chunks?: number }): Promise<string>;
  /** The entry, or undefined (never cached, evicted, expired, or another scope's). */
  get(id: string, scope: string): Promise<CacheEntry | undefined>;
  /**
   * Shared caches only: where the entry is (renewing its recency as get() does), or undefined when it is not
   * there or was stored without a chunk count; callers then get() it, which counts the miss.
   */
  locate?(id: string, scope: string): Promise<StoredUpload | undefined>;
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
