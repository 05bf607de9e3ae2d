/**
 * Pre-encoded matrix diagonals, cached per session so a served model is encoded once: entries are keyed by the
 * matrix's content hash plus everything the encoding depends on (the level, whose last prime is the plaintext
 * scale, and the layout), and the cache is bounded by the plaintexts' bytes. Evicted entries free their
 * plaintexts, but only once no evaluation that acquired them is still running (async evaluations interleave on
 * one session).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Plaintext } from '../../backend/types.ts';

/** Default bound: the largest layer of an MLP 784→128 at N=16384 (~120 MB) fits with room to spare. */
export const DEFAULT_DIAGONAL_CACHE_BYTES = 256 * 1024 * 1024;

export interface DiagonalCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
}

/** Encoded diagonals; null stands for an all-zero diagonal (nothing to multiply by). */
export type Diagonals = readonly (Plaintext | null)[];

interface Entry {
  readonly plaintexts: Diagonals;
  readonly bytes: number;
  users: number;
  /** Left the cache while in use: disposed when the last user releases it. */
  orphaned: boolean;
}

/** Plaintexts lent to one evaluation; release() when done with them. */
export interface DiagonalLease {
  readonly plaintexts: Diagonals;
  release(): void;
}

function disposeEntry(entry: Entry): void {
  for (const p of entry.plaintexts) p?.dispose();
}

/** SHA-256 of a matrix's shape and float64 contents. */
export function matrixHash(rows: readonly Float64Array[]): string {
  const hash = createHash('sha256');
  hash.update(`${rows.length}x${rows[0]?.length ?? 0};`);
  for (const row of rows) hash.update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
  return hash.digest('hex');
}

export class DiagonalCache {
  readonly maxBytes: number;
  readonly #cache: LRUCache<string, Entry>;
  readonly #stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(maxBytes = DEFAULT_DIAGONAL_CACHE_BYTES) {
    this.maxBytes = maxBytes;
    this.#cache = new LRUCache<string, Entry>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      dispose: (entry, _key, reason) => {
        if (reason === 'evict') this.#stats.evictions++;
        this.#drop(entry);
      },
    });
  }

  get stats(): DiagonalCacheStats {
    return { ...this.#stats, entries: this.#cache.size, bytes: this.#cache.calculatedSize };
  }

  /**
   * The plaintexts cached under `key`, or those `encode` makes (cached when their `bytes` fit the bound;
   * otherwise they live only as long as the lease).
   */
  acquire(key: string, encode: () => { plaintexts: Diagonals; bytes: number }): DiagonalLease {
    let entry = this.#cache.get(key);
    if (entry) this.#stats.hits++;
    else {
      this.#stats.misses++;
      const { plaintexts, bytes } = encode();
      entry = { plaintexts, bytes, users: 0, orphaned: false };
      if (bytes <= this.maxBytes) this.#cache.set(key, entry);
      else entry.orphaned = true;
    }
    const leased = entry;
    leased.users++;
    let released = false;
    return {
      plaintexts: leased.plaintexts,
      release: () => {
        if (released) return;
        released = true;
        leased.users--;
        if (leased.users === 0 && leased.orphaned) disposeEntry(leased);
      },
    };
  }

  /** Frees every entry not in use now (those in use go when released). */
  clear(): void {
    this.#cache.clear();
  }

  #drop(entry: Entry): void {
    if (entry.users > 0) entry.orphaned = true;
    else disposeEntry(entry);
  }
}
