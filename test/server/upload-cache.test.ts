/**
 * The uploaded-ciphertext cache, in-process (TenantCaches) and in Redis (RedisUploadCache) alike: scoping by
 * tenant and key set, per-tenant bounds that evict only the tenant's own least recently used entries, the total
 * bound where the largest tenant gives way, dropping a key set's entries. On Redis the writers are separate
 * connections (separate API nodes) racing, and the TTL is checked with a moved clock.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { contentId, sha256 } from '../../src/pool/cache.ts';
import { RedisConnection } from '../../src/server/redis-connection.ts';
import { RedisUploadCache } from '../../src/server/redis-upload-cache.ts';
import { TenantCaches } from '../../src/server/tenant-cache.ts';
import type { UploadCache, UploadCacheOptions } from '../../src/server/upload-cache.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';

const KB = 1024;
const options: UploadCacheOptions = { maxBytes: 8 * KB, tenantMaxBytes: 5 * KB, ttlMs: 3600_000 };

/** Opens `count` views of one cache: the same object in-process, separate connections on Redis. */
type OpenCaches = (count: number, now?: () => number) => Promise<{ caches: UploadCache[]; close(): Promise<void> }>;

function cacheSuite(open: OpenCaches): void {
  it('keeps entries per tenant and key set; another scope never sees them', async () => {
    const { caches, close } = await open(2);
    try {
      const [a, b] = caches;
      const bytes = randomBytes(KB);
      const id = await a.put(bytes, { scope: 'alice/ks_1' });
      expect(id).toBe(contentId(sha256(bytes)));
      const entry = await b.get(id, 'alice/ks_1');
      expect(Buffer.from(entry!.bytes).equals(bytes)).toBe(true);
      expect(entry!.hash).toBe(sha256(bytes));
      expect(entry!.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(await b.get(id, 'bob/ks_1')).toBeUndefined();
      expect(await b.get(id, 'alice/ks_2')).toBeUndefined();
      expect(await a.put(bytes, { id: 'named', scope: 'alice/ks_1' })).toBe('named');
      await expect(a.put(randomBytes(6 * KB), { scope: 'alice/ks_1' })).rejects.toSatisfy(
        (e) => e instanceof HeftyError && e.code === 'E_QUOTA_EXCEEDED',
      );
    } finally {
      await close();
    }
  });

  it("a tenant past its share loses its own least recently used entries, never another tenant's", async () => {
    const { caches, close } = await open(2);
    try {
      const [a, b] = caches;
      const bob = await b.put(randomBytes(2 * KB), { scope: 'bob/ks' });
      const alice: string[] = [];
      for (let i = 0; i < 5; i++) alice.push(await a.put(randomBytes(KB), { scope: 'alice/ks' }));
      expect(await b.get(alice[0], 'alice/ks')).toBeDefined(); // used: now the most recent
      alice.push(await a.put(randomBytes(KB), { scope: 'alice/ks' })); // 6 KB > 5 KB: one goes
      expect(await a.get(alice[1], 'alice/ks')).toBeUndefined();
      for (const id of [alice[0], ...alice.slice(2)]) expect(await a.get(id, 'alice/ks')).toBeDefined();
      expect(await a.get(bob, 'bob/ks')).toBeDefined();
      // 5 + 2 KB held; 2 KB more for bob passes 8 KB in all: alice, holding the most, gives way.
      await b.put(randomBytes(2 * KB), { scope: 'bob/ks' });
      expect(await a.get(bob, 'bob/ks')).toBeDefined();
      const left = await Promise.all(alice.map((id) => a.get(id, 'alice/ks')));
      expect(left.filter(Boolean)).toHaveLength(4);
      expect(a.stats().evictions + b.stats().evictions).toBeGreaterThanOrEqual(2);
    } finally {
      await close();
    }
  });

  it('dropping a key set removes its entries and only them', async () => {
    const { caches, close } = await open(1);
    try {
      const [cache] = caches;
      const gone = await cache.put(randomBytes(KB), { scope: 'alice/ks_1' });
      const kept = await cache.put(randomBytes(KB), { scope: 'alice/ks_2' });
      await cache.dropScope('alice/ks_1');
      expect(await cache.get(gone, 'alice/ks_1')).toBeUndefined();
      expect(await cache.get(kept, 'alice/ks_2')).toBeDefined();
    } finally {
      await close();
    }
  });

  it('concurrent uploads from every writer never pass the tenant bound', async () => {
    const { caches, close } = await open(3);
    try {
      const ids = await Promise.all(
        Array.from({ length: 24 }, (_, i) => caches[i % caches.length].put(randomBytes(KB), { scope: 'alice/ks' })),
      );
      const present = await Promise.all(ids.map((id) => caches[0].get(id, 'alice/ks')));
      expect(present.filter(Boolean)).toHaveLength(5);
    } finally {
      await close();
    }
  });
}

describe('upload cache [local]', () => {
  cacheSuite(async (count) => {
    const cache = new TenantCaches(options);
    return { caches: Array.from({ length: count }, () => cache), close: () => cache.close() };
  });
});

describeWithRedis('upload cache [redis]', (binary) => {
  let server: RedisServer | undefined;
  let prefixes = 0;
  beforeAll(async () => {
    server = await startRedis(binary);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const open: OpenCaches = async (count, now) => {
    const prefix = `c${prefixes++}:`;
    const caches: RedisUploadCache[] = [];
    for (let i = 0; i < count; i++) {
      const connection = await RedisConnection.open(server!.url);
      caches.push(new RedisUploadCache({ connection, ownsConnection: true, prefix, now, ...options }));
    }
    return { caches, close: async () => void (await Promise.all(caches.map((c) => c.close()))) };
  };
  cacheSuite(open);

  it('entries expire after the TTL from their upload (use does not extend it), and Redis expires them too', async () => {
    let clock = 1_000_000;
    const { caches, close } = await open(1, () => clock);
    const admin = await RedisConnection.open(server!.url);
    try {
      const [cache] = caches;
      const id = await cache.put(randomBytes(KB), { scope: 'alice/ks' });
      const [key] = await admin.client.keys(`c${prefixes - 1}:ct:*`);
      const pttl = await admin.client.pttl(key);
      expect(pttl).toBeGreaterThan(3500_000);
      expect(pttl).toBeLessThanOrEqual(3600_000);
      clock += 3599_999;
      expect(await cache.get(id, 'alice/ks')).toBeDefined();
      clock += 1;
      expect(await cache.get(id, 'alice/ks')).toBeUndefined();
      expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
      // Its bytes no longer count: a full tenant share fits again without evicting anything.
      for (let i = 0; i < 5; i++) await cache.put(randomBytes(KB), { scope: 'alice/ks' });
      expect(cache.stats()).toMatchObject({ evictions: 0, bytes: 5 * KB, entries: 5 });
    } finally {
      await admin.close();
      await close();
    }
  });
});
