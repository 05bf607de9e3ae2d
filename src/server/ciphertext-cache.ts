/**
 * Uploaded ciphertexts, tenant- and key-set-scoped, in an LRU bounded by bytes with a TTL. The id is derived
 * from the bytes (SHA-256), so re-uploading the same operand is free and ids cannot be guessed across tenants
 * (lookups include the tenant and key set anyway).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { HeftyError } from '../errors.ts';

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

export class CiphertextCache {
  private readonly lru: LRUCache<string, Uint8Array>;
  private readonly counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: { maxBytes: number; ttlMs: number }) {
    this.lru = new LRUCache({
      maxSize: options.maxBytes,
      sizeCalculation: (bytes) => Math.max(1, bytes.byteLength),
      ttl: options.ttlMs,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict' || reason === 'expire') this.counters.evictions++;
      },
    });
  }

  private static key(tenant: string, keySetId: string, id: string): string {
    return `${tenant}/${keySetId}/${id}`;
  }

  put(tenant: string, keySetId: string, bytes: Uint8Array): string {
    const id = `ct_${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}`;
    this.lru.set(CiphertextCache.key(tenant, keySetId, id), bytes);
    return id;
  }

  /** The bytes, or E_NOT_FOUND (never uploaded, evicted, expired, or another tenant's). */
  get(tenant: string, keySetId: string, id: string): Uint8Array {
    const bytes = this.lru.get(CiphertextCache.key(tenant, keySetId, id));
    if (!bytes) {
      this.counters.misses++;
      throw new HeftyError('E_NOT_FOUND', `no ciphertext ${id} for this key set (expired or never uploaded)`);
    }
    this.counters.hits++;
    return bytes;
  }

  dropKeySet(tenant: string, keySetId: string): void {
    const prefix = `${tenant}/${keySetId}/`;
    for (const key of [...this.lru.keys()]) if (key.startsWith(prefix)) this.lru.delete(key);
  }

  stats(): CacheStats {
    return { ...this.counters, bytes: this.lru.calculatedSize, entries: this.lru.size };
  }
}
