/**
 * The service with HEFTY_REDIS_URL: two nodes share key sets and uploaded ciphertexts through a real
 * redis-server; a deleted key set is unloaded by the compute node that held it, and a rotated one's new keys are
 * loaded by their first job; /readyz and /metrics report Redis; while Redis is down, requests that need it answer
 * 503 E_UNAVAILABLE (and /readyz 503), and once it is back the same nodes serve again without a restart.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { resolveOptions } from '../../src/server/config.ts';
import { RedisConnection } from '../../src/server/redis-connection.ts';
import { RedisKeyStore } from '../../src/server/redis-keystore.ts';
import type { HeftyContext } from '../../src/api/context.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { auth, BOB, decryptFirst, dotProgram, dotReference, octet, smallClient, tempDir, testApp } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** Resolves on the event; unlike events.once, an 'error' meanwhile (refused reconnects) does not reject. */
function next(emitter: EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

describeWithRedis('service nodes sharing Redis', (binary) => {
  let server: RedisServer;
  let dir: ReturnType<typeof tempDir>;
  let nodeA: HeftyApp;
  let nodeB: HeftyApp;
  let ctx: HeftyContext;
  let keySet: Uint8Array;

  beforeAll(async () => {
    // AOF, so what was stored before the outage is still there after the restart.
    server = await startRedis(binary, { appendOnly: true });
    dir = tempDir();
    // With Redis, evaluations are queued; workers: 1 makes each node a compute node as well (serve --workers 1).
    const options = { workers: 1, redisUrl: server.url, redisPrefix: 'mode:' };
    nodeA = await testApp(`${dir.path}/a`, options);
    nodeB = await testApp(`${dir.path}/b`, options);
    ({ ctx, keySet } = await smallClient());
  });

  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    ctx?.dispose();
    dir?.remove();
    await server?.stop();
  });

  function encrypted(values: number[], client: HeftyContext = ctx): Buffer {
    const v = client.encrypt(values);
    try {
      return Buffer.from(v.serialize());
    } finally {
      v.dispose();
    }
  }

  /** Key sets the two nodes' compute roles hold loaded (their /metrics). */
  async function loadedKeySets(): Promise<number> {
    let count = 0;
    for (const node of [nodeA, nodeB]) {
      const metrics = (await node.inject({ method: 'GET', url: '/metrics' })).body;
      count += Number(/^hefty_worker_loaded_keysets\{what="count"\} (\d+)$/m.exec(metrics)?.[1]);
    }
    return count;
  }

  /** Pub/sub reaches the workers a moment after a DELETE's 204; nothing else happens to wait on. */
  async function untilLoaded(count: number): Promise<void> {
    const giveUp = Date.now() + 10_000;
    while ((await loadedKeySets()) !== count) {
      if (Date.now() > giveUp) throw new Error(`the workers hold ${await loadedKeySets()} key sets, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function uploadKeySet(node: HeftyApp, bytes: Uint8Array, name: string) {
    return node.inject({
      method: 'POST',
      url: `/v1/keysets?name=${name}`,
      headers: { ...auth(), ...octet },
      payload: Buffer.from(bytes),
    });
  }

  async function evalDot(node: HeftyApp, keySetId: string, ciphertextId: string, w: number[]) {
    return node.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: auth(),
      payload: { program: dotProgram, inputs: { x: { ciphertext: ciphertextId }, w } },
    });
  }

  it('a key set and a ciphertext uploaded through one node evaluate through the other; deletes are seen by both', async () => {
    expect(nodeA.services.store.kind).toBe('redis');
    const upload = await uploadKeySet(nodeA, keySet, 'main');
    expect(upload.statusCode).toBe(201);
    const keySetId = upload.json().id;
    const x = randomVector(32, 3);
    const w = randomVector(32, 4);
    const ct = await nodeA.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/ciphertexts`,
      headers: { ...auth(), ...octet },
      payload: encrypted(x),
    });
    expect(ct.statusCode).toBe(201);
    const answer = await evalDot(nodeB, keySetId, ct.json().id, w);
    expect(answer.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(answer.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
    // Another tenant sees nothing, through either node.
    const bobs = await nodeB.inject({ method: 'GET', url: `/v1/keysets/${keySetId}`, headers: auth(BOB) });
    expect(bobs.statusCode).toBe(404);
    const listed = await nodeB.inject({ method: 'GET', url: '/v1/keysets', headers: auth() });
    expect(listed.json().keysets.map((k: { id: string }) => k.id)).toContain(keySetId);

    // The compute node that ran the evaluation keeps the key set loaded, until the delete tells every worker.
    expect(await loadedKeySets()).toBe(1);
    const deleted = await nodeB.inject({ method: 'DELETE', url: `/v1/keysets/${keySetId}`, headers: auth() });
    expect(deleted.statusCode).toBe(204);
    await untilLoaded(0);
    expect((await nodeA.inject({ method: 'GET', url: `/v1/keysets/${keySetId}`, headers: auth() })).statusCode).toBe(
      404,
    );
    // The deleted key set's cached ciphertexts went with it.
    const reupload = await uploadKeySet(nodeA, keySet, 'main');
    expect(reupload.json().id).toBe(keySetId);
    expect((await evalDot(nodeA, keySetId, ct.json().id, w)).statusCode).toBe(404);
  });

  it('rotation: the new keys are loaded by their first job; deleting the old ones unloads them', async () => {
    const clients = await Promise.all([smallClient(), smallClient()]);
    try {
      const ids: string[] = [];
      for (const { keySet: bytes } of clients) {
        const upload = await uploadKeySet(nodeA, bytes, 'rotating');
        expect(upload.statusCode).toBe(201);
        ids.push(upload.json().id);
      }
      const old = await nodeB.inject({ method: 'GET', url: `/v1/keysets/${ids[0]}`, headers: auth() });
      expect(old.json().replacedBy).toBe(ids[1]);
      const before = await loadedKeySets();
      const w = randomVector(32, 5);
      for (const [k, { ctx: client }] of clients.entries()) {
        const x = randomVector(32, 6 + k);
        const bytes = encrypted(x, client);
        const answer = await nodeB.inject({
          method: 'POST',
          url: `/v1/keysets/${ids[k]}/eval`,
          headers: auth(),
          payload: { program: dotProgram, inputs: { x: { bytes: bytes.toString('base64') }, w } },
        });
        expect(answer.statusCode).toBe(200);
        const [z] = decryptFirst(client, Buffer.from(answer.json().outputs.z, 'base64'), 1);
        expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
      }
      // The replaced key set stays usable (grace period) and loaded; the new one was loaded beside it.
      expect(await loadedKeySets()).toBe(before + 2);
      expect((await nodeA.inject({ method: 'DELETE', url: `/v1/keysets/${ids[0]}`, headers: auth() })).statusCode).toBe(
        204,
      );
      await untilLoaded(before + 1);
      expect((await nodeA.inject({ method: 'DELETE', url: `/v1/keysets/${ids[1]}`, headers: auth() })).statusCode).toBe(
        204,
      );
      await untilLoaded(before);
    } finally {
      for (const { ctx: client } of clients) client.dispose();
    }
  });

  it('/readyz and /metrics report Redis', async () => {
    const ready = await nodeA.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', redis: 'up' });
    const metrics = (await nodeA.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^hefty_redis_up 1$/m);
    expect(metrics).toMatch(
      /^hefty_store_operations_total\{store="keysets",kind="redis",op="put",outcome="ok"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^hefty_store_keyset_bytes_total\{kind="redis",direction="written"\} [1-9]/m);
  });

  it('Redis down: 503 E_UNAVAILABLE on requests that need it and on /readyz; back up: served again', async () => {
    const upload = await nodeA.inject({
      method: 'POST',
      url: '/v1/keysets',
      headers: { ...auth(), ...octet },
      payload: Buffer.from(keySet),
    });
    const keySetId = upload.json().id;
    const x = randomVector(32, 5);
    const w = randomVector(32, 6);
    const ctId = (
      await nodeA.inject({
        method: 'POST',
        url: `/v1/keysets/${keySetId}/ciphertexts`,
        headers: { ...auth(), ...octet },
        payload: encrypted(x),
      })
    ).json().id;

    const lost = [nodeA, nodeB].map((node) => next(node.services.redis!.client, 'close'));
    await server.halt();
    await Promise.all(lost);
    for (const node of [nodeA, nodeB]) {
      const ready = await node.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'unavailable', redis: 'down' });
      const refused = [
        await node.inject({ method: 'GET', url: '/v1/keysets', headers: auth() }),
        await evalDot(node, keySetId, ctId, w),
        await node.inject({
          method: 'POST',
          url: '/v1/keysets',
          headers: { ...auth(), ...octet },
          payload: Buffer.from(keySet),
        }),
      ];
      for (const answer of refused) {
        expect(answer.statusCode).toBe(503);
        expect(answer.json().code).toBe('E_UNAVAILABLE');
        expect(answer.headers['retry-after']).toBe('1');
      }
      // Liveness does not depend on Redis.
      expect((await node.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    }

    const back = [nodeA, nodeB].map((node) => next(node.services.redis!.client, 'ready'));
    await server.start();
    await Promise.all(back);
    expect((await nodeB.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const answer = await evalDot(nodeB, keySetId, ctId, w);
    expect(answer.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(answer.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
    const metrics = (await nodeB.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^hefty_redis_reconnects_total [1-9]/m);
    expect(metrics).toMatch(/^hefty_store_operations_total\{.*outcome="E_UNAVAILABLE"\} [1-9]/m);
  });

  it('hefty serve --redis logs the (password-free) Redis URL as its store', async () => {
    const data = `${dir.path}/serve`;
    const url = server.url.replace('redis://', 'redis://:pw@');
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--data-dir', data, '--executor', 'inline', '--redis', url],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HEFTY_REDIS_URL: 'redis://overridden-by-the-flag:1' },
      },
    );
    try {
      let startup: Record<string, unknown> | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.includes('"url"')) {
          startup = JSON.parse(line);
          break;
        }
      }
      expect(startup).toMatchObject({ store: server.url.replace('redis://', 'redis://:***@') });
      const ready = await fetch(`${startup!.url as string}/readyz`);
      expect(await ready.json()).toMatchObject({ redis: 'up' });
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });
});

describe('Redis configuration', () => {
  it('HEFTY_REDIS_URL selects Redis; unset (the default) keeps the embedded store; bad URLs are refused', () => {
    expect(resolveOptions({}, {})).toMatchObject({ redisUrl: '', redisPrefix: 'hefty:' });
    expect(resolveOptions({}, { HEFTY_REDIS_URL: 'redis://cache:6379/2', HEFTY_REDIS_PREFIX: 'prod:' })).toMatchObject({
      redisUrl: 'redis://cache:6379/2',
      redisPrefix: 'prod:',
    });
    expect(() => resolveOptions({ redisUrl: 'http://cache:6379' }, {})).toThrow(HeftyError);
    expect(() => resolveOptions({ redisPrefix: 'a b' }, {})).toThrow(/redisPrefix/);
  });

  it('hefty serve --redis with nothing listening there: one line, E_UNAVAILABLE, exit status 1', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    probe.close();
    await once(probe, 'close');
    const dir = tempDir();
    try {
      const run = spawnSync(
        process.execPath,
        [CLI, 'serve', '--port', '0', '--data-dir', dir.path, '--redis', `redis://:secret@127.0.0.1:${port}`],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(/^hefty: E_UNAVAILABLE: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ cannot be reached/),
      ]);
    } finally {
      dir.remove();
    }
  });
});

describeWithRedis('Redis eviction policy', (binary) => {
  it('a Redis that may evict any key (allkeys-*) is refused; noeviction and volatile-* are accepted', async () => {
    const limits = { tenantQuotaBytes: 1 << 20, rotationGraceMs: 1000, defaultTtlMs: 60_000, maxTtlMs: 60_000 };
    for (const [policy, accepted] of [
      ['allkeys-lru', false],
      ['volatile-lru', true],
      ['noeviction', true],
    ] as const) {
      const server = await startRedis(binary, { config: { 'maxmemory-policy': policy } });
      const connection = await RedisConnection.open(server.url);
      try {
        const opening = RedisKeyStore.open({ connection, ...limits, sweepIntervalMs: 0 });
        if (accepted) await (await opening).close();
        else {
          await expect(opening).rejects.toThrow(/allkeys-lru, which may evict stored key sets/);
          // The service refuses to start, in one line, and exits (no connection left holding it open).
          const dir = tempDir();
          const run = spawnSync(
            process.execPath,
            [CLI, 'serve', '--port', '0', '--data-dir', dir.path, '--redis', server.url],
            {
              encoding: 'utf8',
              timeout: 60_000,
            },
          );
          dir.remove();
          expect(run.status).toBe(1);
          expect(run.stderr.trim().split('\n')).toEqual([
            expect.stringMatching(/^hefty: E_INVALID_ARGUMENT: Redis maxmemory-policy is allkeys-lru/),
          ]);
        }
      } finally {
        await connection.close();
        await server.stop();
      }
    }
  });
});
