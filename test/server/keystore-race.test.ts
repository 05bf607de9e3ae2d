/**
 * Blobs are shared by content across tenants: deletes, expiry sweeps and uploads of the same bytes race on one
 * blob. Every acknowledged upload must stay readable, in memory and after a SIGKILL and a reopen — on the local
 * store and on Redis, where the racing sides are separate connections (as separate API nodes would be).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, encodeKeySet } from '../../src/index.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import type { KeySetStore } from '../../src/server/keyset-store.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { ALICE, auth, BOB, decryptFirst, octet, tempDir, testApp } from './fixtures.ts';
import { describeEachStore, type StoreHarness } from './keyset-stores.ts';

const limits = (now?: () => number) => ({
  tenantQuotaBytes: 1 << 30,
  rotationGraceMs: 1000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
  now,
});

/** Two views of one storage: the same store locally (one process), two connections on Redis (two nodes). */
async function twoSides(harness: StoreHarness, now?: () => number): Promise<[KeySetStore, KeySetStore]> {
  const first = await harness.open(limits(now));
  return [first, harness.kind === 'local' ? first : await harness.open(limits(now))];
}

async function closeAll(stores: KeySetStore[]): Promise<void> {
  for (const store of new Set(stores)) await store.close();
}

describeEachStore('key store races on shared blobs', (makeHarness) => {
  it('a delete racing an upload of the same bytes by another tenant never loses the upload', async () => {
    const harness = await makeHarness();
    const [deleter, uploader] = await twoSides(harness);
    try {
      const lost: number[] = [];
      for (let round = 0; round < 40; round++) {
        const bytes = randomBytes(4096);
        const a = await deleter.put('a', bytes);
        // Vary which side starts first and by how many turns of the event loop.
        const delay = round % 4;
        const turns = async (): Promise<void> => {
          for (let i = 0; i < delay; i++) await new Promise((resolve) => setImmediate(resolve));
        };
        const deleting = round % 2 === 0 ? deleter.delete('a', a.id) : turns().then(() => deleter.delete('a', a.id));
        const uploading = round % 2 === 0 ? turns().then(() => uploader.put('b', bytes)) : uploader.put('b', bytes);
        const [, b] = await Promise.all([deleting, uploading]);
        const read = await deleter.read('b', b.id).then(
          (r) => Buffer.from(r).equals(bytes),
          () => false,
        );
        if (!read) lost.push(round);
      }
      expect(lost).toEqual([]);
    } finally {
      await closeAll([deleter, uploader]);
      await harness.dispose();
    }
  });

  it('an expiry sweep racing an upload of the same bytes never loses the upload', async () => {
    const harness = await makeHarness();
    let clock = 1_000_000;
    const [sweeper, uploader] = await twoSides(harness, () => clock);
    try {
      const lost: number[] = [];
      for (let round = 0; round < 30; round++) {
        const bytes = randomBytes(4096);
        await sweeper.put('a', bytes, { ttlMs: 10 });
        clock += 20;
        const [, b] = await Promise.all([sweeper.sweep(), uploader.put('b', bytes)]);
        const ok = await sweeper.read('b', b.id).then(
          () => true,
          () => false,
        );
        if (!ok) lost.push(round);
      }
      expect(lost).toEqual([]);
    } finally {
      await closeAll([sweeper, uploader]);
      await harness.dispose();
    }
  });

  it('a rotation racing deletes and sweeps never loses the new key set or resurrects a removed one', async () => {
    const harness = await makeHarness();
    let clock = 1_000_000;
    const [rotator, remover] = await twoSides(harness, () => clock);
    try {
      for (let round = 0; round < 20; round++) {
        const name = `n${round}`;
        const old = await remover.put('a', randomBytes(2048), { name, ttlMs: 10 });
        const fresh = randomBytes(2048);
        clock += round % 2 === 0 ? 0 : 20; // odd rounds: the old one has expired, the sweep may take it
        const [, , rotated] = await Promise.all([
          remover.delete('a', old.id).catch(() => undefined),
          remover.sweep(),
          rotator.put('a', fresh, { name }),
        ]);
        expect(Buffer.from(await remover.read('a', rotated.id)).equals(fresh)).toBe(true);
        await expect(remover.get('a', old.id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
        expect((await remover.list('a')).map((r) => r.id)).toContain(rotated.id);
      }
      expect((await rotator.list('a')).every((r) => r.replacedBy === undefined)).toBe(true);
    } finally {
      await closeAll([rotator, remover]);
      await harness.dispose();
    }
  });

  it('several writers uploading the same new bytes at once leave one complete blob, nothing of it expiring', async () => {
    const harness = await makeHarness();
    const writers: KeySetStore[] = [];
    try {
      for (let i = 0; i < 3; i++)
        writers.push(harness.kind === 'local' && i > 0 ? writers[0] : await harness.open(limits()));
      for (let round = 0; round < 10; round++) {
        // Several chunks (the Redis harness writes 64 KiB per key), so the writers interleave.
        const bytes = randomBytes(400 << 10);
        const records = await Promise.all(
          ['a', 'b', 'c', 'a', 'b', 'c'].map((tenant, i) => writers[i % writers.length].put(tenant, bytes)),
        );
        for (const record of records)
          expect(Buffer.from(await writers[0].read(record.tenant, record.id)).equals(bytes)).toBe(true);
      }
      expect(await harness.blobCount()).toBe(10);
      expect(await harness.expiringParts()).toBe(0);
    } finally {
      await closeAll(writers);
      await harness.dispose();
    }
  });

  it('after SIGKILL mid-race and a reopen, every acknowledged upload is complete', async () => {
    const harness = await makeHarness();
    try {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'keystore-racer.ts'), ...harness.location], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const acknowledged: string[] = [];
      let seen = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const lines = seen.split('\n');
          seen = lines.pop() ?? '';
          for (const line of lines) if (line.startsWith('acked ')) acknowledged.push(line.slice(6));
          if (acknowledged.length >= 40) resolve();
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const store = await harness.open(limits(() => Date.now() + 700_000));
      await store.sweep();
      const missing: string[] = [];
      for (const id of acknowledged) {
        const ok = await store.read('b', id).then(
          () => true,
          () => false,
        );
        if (!ok) missing.push(id);
      }
      expect(missing).toEqual([]);
      await store.close();
    } finally {
      await harness.dispose();
    }
  });
});

/** The service nodes the clients talk to: Alice to the first, Bob to the second (the same node locally). */
type Nodes = () => Promise<{ alice: HeftyApp; bob: HeftyApp; close(): Promise<void> }>;

function httpRace(nodes: Nodes): void {
  it("tenant A's deletes never take tenant B's acknowledged upload of the same bytes", async () => {
    const { alice, bob, close } = await nodes();
    const scaleProgram = {
      inputs: { x: 'vector', w: 'plain' },
      steps: [{ out: 'y', op: 'mul', args: ['x', 'w'] }],
      outputs: ['y'],
    };
    try {
      const lost: number[] = [];
      for (let round = 0; round < 8; round++) {
        const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
        try {
          ctx.keygen();
          const keySet = Buffer.from(encodeKeySet(ctx.exportKeySet()));
          const upload = (key: string) =>
            (key === ALICE ? alice : bob).inject({
              method: 'POST',
              url: '/v1/keysets',
              headers: { ...auth(key), ...octet },
              payload: keySet,
            });
          const a = (await upload(ALICE)).json().id;
          const [, b] = await Promise.all([
            alice.inject({ method: 'DELETE', url: `/v1/keysets/${a}`, headers: auth(ALICE) }),
            upload(BOB),
          ]);
          expect(b.statusCode).toBe(201);
          const v = ctx.encrypt([1, 2, 3]);
          const evaluated = await bob.inject({
            method: 'POST',
            url: `/v1/keysets/${b.json().id}/eval`,
            headers: auth(BOB),
            payload: {
              program: scaleProgram,
              inputs: { x: { bytes: Buffer.from(v.serialize()).toString('base64') }, w: [2, 2, 2] },
            },
          });
          v.dispose();
          if (evaluated.statusCode !== 200) lost.push(round);
          else
            expect(decryptFirst(ctx, Buffer.from(evaluated.json().outputs.y, 'base64'), 3).map(Math.round)).toEqual([
              2, 4, 6,
            ]);
        } finally {
          ctx.dispose();
        }
      }
      expect(lost).toEqual([]);
    } finally {
      await close();
    }
  });
}

describe('racing HTTP clients on one shared key set [local]', () => {
  httpRace(async () => {
    const dir = tempDir();
    const app = await testApp(dir.path, { executor: 'inline' });
    return {
      alice: app,
      bob: app,
      close: async () => {
        await app.close();
        dir.remove();
      },
    };
  });
});

describeWithRedis('racing HTTP clients on one shared key set [redis, two nodes]', (binary) => {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis(binary);
  });
  afterAll(async () => {
    await server?.stop();
  });
  httpRace(async () => {
    const dir = tempDir();
    // With Redis evaluations are queued; workers: 1 makes each node compute its share too.
    const node = () => testApp(dir.path, { workers: 1, redisUrl: server!.url });
    const [alice, bob] = [await node(), await node()];
    return {
      alice,
      bob,
      close: async () => {
        await alice.close();
        await bob.close();
        dir.remove();
      },
    };
  });
});
