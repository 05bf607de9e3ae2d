/** The per-session cache of encoded diagonals (src/api/he/diagonal-cache.ts). */
import { describe, expect, it } from 'vitest';
import { createContext } from '../../../src/index.ts';
import { DiagonalCache, matrixHash, type Diagonals } from '../../../src/api/he/diagonal-cache.ts';
import type { Plaintext } from '../../../src/backend/types.ts';
import { maxAbsError, randomVector } from '../../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

/** Stand-in plaintexts that only record their disposal. */
function fakes(count: number): Plaintext[] {
  return Array.from({ length: count }, () => {
    const p = {
      disposed: false,
      dispose() {
        p.disposed = true;
      },
    };
    return p as unknown as Plaintext;
  });
}

describe('DiagonalCache', () => {
  it('hits by key, evicts least recently used entries by bytes, and disposes what it evicts', () => {
    const cache = new DiagonalCache(1000);
    const a = fakes(2);
    const b = fakes(2);
    const c = fakes(2);
    let encodes = 0;
    const take = (key: string, plaintexts: Plaintext[], bytes: number) =>
      cache.acquire(key, () => {
        encodes++;
        return { plaintexts, bytes };
      });
    take('a', a, 400).release();
    take('b', b, 400).release();
    const again = take('a', fakes(2), 400); // a hit: the cached plaintexts, not new ones
    expect(again.plaintexts).toBe(a);
    again.release();
    expect(cache.stats).toMatchObject({ hits: 1, misses: 2, entries: 2, bytes: 800, evictions: 0 });
    take('c', c, 400).release(); // 1200 > 1000: b (least recently used) goes
    expect(cache.stats).toMatchObject({ entries: 2, bytes: 800, evictions: 1 });
    expect(b.every((p) => p.disposed)).toBe(true);
    expect(a.some((p) => p.disposed) || c.some((p) => p.disposed)).toBe(false);
    expect(encodes).toBe(3);
    cache.clear();
    expect([...a, ...c].every((p) => p.disposed)).toBe(true);
    expect(cache.stats).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('defers disposal of an entry evicted while leased, and never caches what exceeds the bound', () => {
    const cache = new DiagonalCache(500);
    const a = fakes(1);
    const lease = cache.acquire('a', () => ({ plaintexts: a, bytes: 400 }));
    cache.acquire('b', () => ({ plaintexts: fakes(1), bytes: 400 })).release(); // evicts a, which is in use
    expect(a[0].disposed).toBe(false);
    lease.release();
    expect(a[0].disposed).toBe(true);
    const huge = fakes(1);
    const big = cache.acquire('huge', () => ({ plaintexts: huge, bytes: 600 }));
    expect(cache.stats.entries).toBe(1); // only b
    big.release();
    expect(huge[0].disposed).toBe(true);
  });

  it('hashes matrices by content and shape', () => {
    const m = [Float64Array.of(1, 2), Float64Array.of(3, 4)];
    expect(matrixHash(m)).toBe(matrixHash([Float64Array.of(1, 2), Float64Array.of(3, 4)]));
    expect(matrixHash(m)).not.toBe(matrixHash([Float64Array.of(1, 2, 3, 4)]));
    expect(matrixHash(m)).not.toBe(matrixHash([Float64Array.of(1, 2), Float64Array.of(3, 5)]));
  });
});

describe("a session's diagonal cache", () => {
  it('encodes a matrix once per level, and frees the plaintexts when the context is disposed', async () => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native' });
    ctx.keygen({ galois: 'power-of-two' });
    const x = randomVector(50, 1);
    const matrix = Array.from({ length: 8 }, (_, i) => randomVector(50, 10 + i));
    const want = matrix.map((row) => row.reduce((acc, m, j) => acc + m * x[j], 0));
    const cache = ctx.session.diagonalCache;
    const leased: Diagonals[] = [];
    const acquire = cache.acquire.bind(cache);
    cache.acquire = (key, encode) => {
      const lease = acquire(key, encode);
      leased.push(lease.plaintexts);
      return lease;
    };
    const v = ctx.encrypt(x);
    expect(maxAbsError(v.matvec(matrix).decrypt(RAW), want)).toBeLessThan(1e-5);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 1, entries: 1 });
    expect(maxAbsError(v.matvec(matrix.map((r) => [...r])).decrypt(RAW), want)).toBeLessThan(1e-5);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    expect(leased[1]).toBe(leased[0]);
    // another matrix, and the same matrix one level lower, are other entries
    v.matvec(matrix.map((r) => r.map((t) => -t)));
    v.mul(1).matvec(matrix);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 3, entries: 3 });
    // 8 diagonals each, of 8192 coefficients per prime: 3 primes at the top data level, 2 one level lower
    expect(cache.stats.bytes).toBe(8 * 8192 * 8 * (3 + 3 + 2));
    const all = leased.flat();
    expect(all.length).toBe(32);
    expect(all.some((p) => p === null || p.disposed)).toBe(false);
    ctx.dispose();
    expect(all.every((p) => p?.disposed)).toBe(true);
  });

  it('a context made with diagonalCacheBytes: 0 encodes on every call; bad bounds are refused', async () => {
    const ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 8192,
      backend: 'native',
      diagonalCacheBytes: 0,
    });
    ctx.keygen({ galois: 'power-of-two' });
    const matrix = [randomVector(10, 1), randomVector(10, 2)];
    const v = ctx.encrypt(randomVector(10, 3));
    v.matvec(matrix).dispose();
    v.matvec(matrix).dispose();
    expect(ctx.session.diagonalCache.stats).toMatchObject({ hits: 0, misses: 2, entries: 0, bytes: 0 });
    ctx.dispose();
    await expect(
      createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native', diagonalCacheBytes: -1 }),
    ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });
});
