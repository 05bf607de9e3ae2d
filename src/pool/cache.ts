/**
 * The ciphertext cache: an LRU (lru-cache) bounded by bytes, with a TTL. Entries are keyed by a content id
 * (SHA-256 of the bytes) or a caller-given id, optionally within a scope (the service scopes by tenant and key
 * set). Bytes are held in SharedArrayBuffers, so jobs hand them to workers without copying, and a worker that
 * already holds the operand loaded (keyed by its content hash) never reads them at all.
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

export interface CacheEntry {
  /** A view of a SharedArrayBuffer; never modified after it is cached. */
  readonly bytes: Uint8Array;
  /** SHA-256 of the bytes (hex). */
  readonly hash: string;
}

export interface CacheOptions {
  maxBytes: number;
  ttlMs: number;
}

const MAX_ID_LENGTH = 256;

export function isCacheEntry(value: unknown): value is CacheEntry {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as CacheEntry).bytes instanceof Uint8Array &&
    typeof (value as CacheEntry).hash === 'string'
  );
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The id a ciphertext gets when the caller names none: derived from its content, so re-uploads are free. */
export function contentId(hash: string): string {
  return `ct_${hash.slice(0, 40)}`;
}

export function sharedCopy(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

export class CiphertextCache {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: CacheOptions) {
    for (const key of ['maxBytes', 'ttlMs'] as const) {
      if (!Number.isSafeInteger(options[key]) || options[key] <= 0)
        throw new HeftyError('E_INVALID_ARGUMENT', `cache ${key} must be a positive integer`);
    }
    this.lru = new LRUCache({
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes.byteLength),
      ttl: options.ttlMs,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict' || reason === 'expire') this.counters.evictions++;
      },
    });
  }

  private static key(id: string, scope: string | undefined): string {
    return scope === undefined ? id : `${scope}/${id}`;
  }

  /**
   * Caches a copy of `bytes` and returns its id (the content id unless `id` is given). `hash` may be passed when
   * the caller already computed it. Bytes larger than the whole cache are refused.
   */
  put(bytes: Uint8Array, options: { id?: string; scope?: string; hash?: string } = {}): string {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0)
      throw new HeftyError('E_INVALID_ARGUMENT', 'cache entries are non-empty byte arrays');
    if (bytes.byteLength > this.lru.maxSize)
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `${bytes.byteLength} bytes do not fit a ${this.lru.maxSize}-byte cache`,
      );
    if (
      options.id !== undefined &&
      (typeof options.id !== 'string' || !options.id || options.id.length > MAX_ID_LENGTH)
    )
      throw new HeftyError('E_INVALID_ARGUMENT', `cache ids are strings of 1..${MAX_ID_LENGTH} characters`);
    const hash = options.hash ?? sha256(bytes);
    const id = options.id ?? contentId(hash);
    const key = CiphertextCache.key(id, options.scope);
    const existing = this.lru.peek(key);
    // The same content again refreshes recency and TTL and keeps the copy it has.
    this.lru.set(key, existing?.hash === hash ? existing : { bytes: sharedCopy(bytes), hash });
    return id;
  }

  /** The entry, or undefined (never cached, evicted, expired, or another scope's). Counts a hit or a miss. */
  get(id: string, scope?: string): CacheEntry | undefined {
    const entry = this.lru.get(CiphertextCache.key(id, scope));
    if (entry) this.counters.hits++;
    else this.counters.misses++;
    return entry;
  }

  delete(id: string, scope?: string): boolean {
    return this.lru.delete(CiphertextCache.key(id, scope));
  }

  /** Drops every entry of a scope (e.g. a deleted key set). */
  dropScope(scope: string): void {
    const prefix = `${scope}/`;
    for (const key of [...this.lru.keys()]) if (key.startsWith(prefix)) this.lru.delete(key);
  }

  /** Evicts the least recently used entry; false when empty. */
  evictOldest(): boolean {
    return this.lru.pop() !== undefined;
  }

  clear(): void {
    this.lru.clear();
  }

  stats(): CacheStats {
    this.lru.purgeStale();
    return { ...this.counters, bytes: this.lru.calculatedSize, entries: this.lru.size };
  }
}
