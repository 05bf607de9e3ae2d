/**
 * Runs one key-store suite against both KeySetStore implementations: the local directory (KeyStore) and Redis
 * (RedisKeyStore, on a private redis-server per test file). A harness owns one storage place (a directory, or a
 * key prefix on the server); every store it opens sees what the earlier ones wrote, as a restarted node would.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { KeyStore } from '../../src/server/keystore.ts';
import type { KeySetStore, KeySetStoreLimits } from '../../src/server/keyset-store.ts';
import { RedisConnection } from '../../src/server/redis-connection.ts';
import { RedisKeyStore } from '../../src/server/redis-keystore.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { tempDir } from './fixtures.ts';

export interface StoreHarness {
  readonly kind: 'local' | 'redis';
  /** Arguments for test/server/open-store.ts, so a child process opens the same storage. */
  readonly location: string[];
  open(limits: KeySetStoreLimits): Promise<KeySetStore>;
  /** Blobs stored (complete or not). */
  blobCount(): Promise<number>;
  /** Overwrites a blob's bytes in place (same length), as a disk or memory fault would. */
  corruptBlob(digest: string, bytes: Uint8Array): Promise<void>;
  /** Evidence of an upload under way: temp files, or live upload pins. */
  writesInFlight(): Promise<number>;
  /** Stored bytes no live record accounts for: temp files, or chunks of missing or unreferenced blobs. */
  leftovers(): Promise<number>;
  /** Parts of complete blobs that are still set to expire (Redis chunks with a TTL; files never expire). */
  expiringParts(): Promise<number>;
  dispose(): Promise<void>;
}

function localHarness(): StoreHarness {
  const dir = tempDir();
  return {
    kind: 'local',
    location: ['local', dir.path],
    open: (limits) => KeyStore.open({ dataDir: dir.path, ...limits }),
    blobCount: async () => readdirSync(join(dir.path, 'blobs')).length,
    corruptBlob: async (digest, bytes) => writeFileSync(join(dir.path, 'blobs', digest), bytes),
    writesInFlight: async () => readdirSync(join(dir.path, 'tmp')).length,
    leftovers: async () => readdirSync(join(dir.path, 'tmp')).length,
    expiringParts: async () => 0,
    dispose: async () => dir.remove(),
  };
}

let prefixes = 0;

async function redisHarness(server: RedisServer): Promise<StoreHarness> {
  const prefix = `t${process.pid}-${prefixes++}:`;
  const admin = await RedisConnection.open(server.url);
  const redis = admin.client;
  const keys = (pattern: string): Promise<string[]> => redis.keys(`${prefix}${pattern}`);
  const metas = async (): Promise<string[]> => (await keys('blob:*')).filter((k) => /blob:[0-9a-f]{64}$/.test(k));
  return {
    kind: 'redis',
    location: ['redis', server.url, prefix],
    open: async (limits) =>
      RedisKeyStore.open({
        connection: await RedisConnection.open(server.url),
        ownsConnection: true,
        prefix,
        chunkBytes: 64 << 10,
        ...limits,
      }),
    blobCount: async () => (await metas()).length,
    corruptBlob: async (digest, bytes) => {
      const meta = `${prefix}blob:${digest}`;
      const chunkBytes = Number(await redis.hget(meta, 'chunkBytes'));
      for (let i = 0; i * chunkBytes < bytes.length; i++) {
        await redis.set(`${meta}:${i}`, Buffer.from(bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes)));
      }
    },
    writesInFlight: async () => {
      let pins = 0;
      for (const key of await keys('blob:*:pins')) pins += await redis.zcard(key);
      return pins;
    },
    leftovers: async () => {
      let stray = 0;
      for (const key of await keys('blob:*:*')) {
        const match = /^(.*blob:[0-9a-f]{64}):\d+$/.exec(key);
        if (!match) continue;
        const refs = await redis.hget(match[1], 'refs');
        if (refs === null || Number(refs) <= 0) stray++;
      }
      return stray;
    },
    expiringParts: async () => {
      let expiring = 0;
      for (const meta of await metas()) {
        if ((await redis.hget(meta, 'complete')) !== '1') continue;
        const chunks = Number(await redis.hget(meta, 'chunks'));
        for (let i = 0; i < chunks; i++) if ((await redis.pttl(`${meta}:${i}`)) !== -1) expiring++;
      }
      return expiring;
    },
    dispose: async () => {
      const all = await keys('*');
      if (all.length > 0) await redis.del(...all);
      await admin.close();
    },
  };
}

/** Registers `body` once per store kind; `harness()` gives a fresh storage place (dispose it). */
export function describeEachStore(
  name: string,
  body: (harness: () => Promise<StoreHarness>, kind: 'local' | 'redis') => void,
): void {
  describe(`${name} [local]`, () => body(async () => localHarness(), 'local'));
  describeWithRedis(`${name} [redis]`, (binary) => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      server = await startRedis(binary);
    });
    afterAll(async () => {
      await server?.stop();
    });
    body(() => {
      if (!server) throw new Error('redis-server did not start');
      return redisHarness(server);
    }, 'redis');
  });
}
