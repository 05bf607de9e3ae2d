/** The ciphertext cache: LRU by bytes, TTL, content and caller ids, scopes, and its stats. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CiphertextCache, contentId, sha256 } from '../../src/pool/cache.ts';
import { expectHeftyError } from '../helpers.ts';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('ciphertext cache', () => {
  it('evicts least recently used entries once the byte bound is reached', () => {
    const cache = new CiphertextCache({ maxBytes: 1000, ttlMs: 60_000 });
    const a = cache.put(bytes(400, 1));
    const b = cache.put(bytes(400, 2));
    expect(cache.stats()).toMatchObject({ bytes: 800, entries: 2, evictions: 0 });
    expect(cache.get(a)).toBeDefined(); // a is now more recent than b
    const c = cache.put(bytes(400, 3));
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)?.bytes[0]).toBe(1);
    expect(cache.get(c)?.bytes[0]).toBe(3);
    expect(cache.stats()).toEqual({ hits: 3, misses: 1, evictions: 1, bytes: 800, entries: 2 });
    expectHeftyError(() => cache.put(bytes(1001, 4)), 'E_INVALID_ARGUMENT');
  });

  it('expires entries after the TTL and counts them as evictions', async () => {
    const cache = new CiphertextCache({ maxBytes: 1 << 20, ttlMs: 60 });
    const id = cache.put(bytes(100, 1));
    expect(cache.get(id)).toBeDefined();
    await sleep(120);
    expect(cache.get(id)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ evictions: 1, bytes: 0, entries: 0 });
  });

  it('keys by content hash or by caller id, within scopes, and keeps one copy per content', () => {
    const cache = new CiphertextCache({ maxBytes: 1 << 20, ttlMs: 60_000 });
    const data = bytes(64, 9);
    const id = cache.put(data);
    expect(id).toBe(contentId(sha256(data)));
    const entry = cache.get(id)!;
    expect(entry.hash).toBe(sha256(data));
    expect(entry.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    data[0] = 0; // the cache holds its own copy
    expect(entry.bytes[0]).toBe(9);
    expect(cache.put(bytes(64, 9))).toBe(id);
    expect(cache.get(id)).toBe(entry);
    expect(cache.stats().entries).toBe(1);

    expect(cache.put(bytes(8, 1), { id: 'mine', scope: 'tenant-a' })).toBe('mine');
    expect(cache.get('mine')).toBeUndefined();
    expect(cache.get('mine', 'tenant-b')).toBeUndefined();
    expect(cache.get('mine', 'tenant-a')?.bytes[0]).toBe(1);
    cache.put(bytes(8, 2), { id: 'mine', scope: 'tenant-a' });
    expect(cache.get('mine', 'tenant-a')?.bytes[0]).toBe(2);
    cache.dropScope('tenant-a');
    expect(cache.get('mine', 'tenant-a')).toBeUndefined();
    expect(cache.get(id)).toBeDefined();
    expectHeftyError(() => cache.put(new Uint8Array(0)), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => cache.put(bytes(1, 1), { id: '' }), 'E_INVALID_ARGUMENT');
  });
});
