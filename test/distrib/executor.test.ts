/**
 * The distributed executor against a real redis-server, with API side and compute nodes in this process:
 * evaluations and batches decrypt correctly, idempotent retries never run a job twice, key sets stay where
 * their jobs go (affinity), and Redis going away is 503 E_UNAVAILABLE until it is back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { HeftyContext } from '../../src/api/context.ts';
import { PROGRAM_LIMITS, type Program } from '../../src/api/program.ts';
import { distributedOptions, type DistributedOptions } from '../../src/distrib/options.ts';
import { itemsPerJob, MAX_ITEMS_PER_JOB } from '../../src/distrib/protocol.ts';
import { QueueExecutor } from '../../src/distrib/queue-executor.ts';
import { WorkerNode } from '../../src/distrib/worker-node.ts';
import { HeftyError } from '../../src/errors.ts';
import { sha256 } from '../../src/pool/cache.ts';
import type { KeySetRef } from '../../src/server/executor.ts';
import { RedisConnection } from '../../src/server/redis-connection.ts';
import { RedisUploadCache } from '../../src/server/redis-upload-cache.ts';
import { randomVector } from '../helpers.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { decryptFirst, dotProgram, dotReference, smallClient } from '../server/fixtures.ts';

/**
 * A slow item: a chain of rotations about as long as a program may be, so that each pool run is one item. An even
 * number of half turns (1024 of N=4096's 2048 slots, a step the dot product's galois keys cover): its output is
 * -x. The last step's op (negate) marks an item done in onStep.
 */
const halfTurns = 2 * Math.floor((PROGRAM_LIMITS.maxSteps - 1) / 2);
const slowProgram: Program = {
  inputs: { x: 'vector' },
  steps: [
    ...Array.from({ length: halfTurns }, (_, i) => ({
      out: `r${i}`,
      op: 'rotate' as const,
      args: [i ? `r${i - 1}` : 'x'] as const,
      steps: 1024,
    })),
    { out: 'z', op: 'negate', args: [`r${halfTurns - 1}`] as const },
  ],
  outputs: ['z'],
};

describeWithRedis('distributed executor', (binary) => {
  let redis: RedisServer;
  let ctx: HeftyContext;
  const keySets = new Map<string, Uint8Array>();
  const started: { close: () => Promise<void> }[] = [];
  let options: DistributedOptions;

  const ref = (id: string): KeySetRef => ({
    key: `t/${id}`,
    tenant: 't',
    id,
    read: async () => keySets.get(id)!,
  });
  const readKeySet = async (_tenant: string, id: string): Promise<Uint8Array> => {
    const bytes = keySets.get(id);
    if (!bytes) throw new HeftyError('E_NOT_FOUND', `no key set ${id}`);
    return bytes;
  };
  const worker = async (
    extra: Partial<DistributedOptions> = {},
    onStep?: (op: string) => void,
  ): Promise<WorkerNode> => {
    const node = await WorkerNode.start({
      ...options,
      ...extra,
      onStep,
      redisUrl: redis.url,
      prefix: 'hefty:',
      readKeySet,
      slots: 1,
      threadsPerSlot: 1,
      backend: 'auto',
    });
    started.push({ close: () => node.drain() });
    return node;
  };
  /** Compute nodes for one test, drained at its end so the next test starts with its own. */
  const withWorkers = async <T>(
    count: number,
    work: (nodes: WorkerNode[]) => Promise<T>,
    extra: Partial<DistributedOptions> = {},
  ): Promise<T> => {
    const nodes = await Promise.all(Array.from({ length: count }, () => worker(extra)));
    try {
      return await work(nodes);
    } finally {
      await Promise.all(nodes.map((n) => n.drain()));
    }
  };
  const executor = async (): Promise<QueueExecutor> => {
    const e = await QueueExecutor.create({
      redisUrl: redis.url,
      prefix: 'hefty:',
      shards: options.shards,
      jobTimeoutMs: 60_000,
      resultTtlMs: options.resultTtlMs,
      backend: 'auto',
    });
    started.push(e);
    return e;
  };
  const encrypt = (x: number[]): Uint8Array => {
    const v = ctx.encrypt(x);
    try {
      return v.serialize();
    } finally {
      v.dispose();
    }
  };

  async function redisInputBytes(probe: Redis): Promise<number> {
    return Number(/^total_net_input_bytes:(\d+)/m.exec(await probe.info('stats'))?.[1]);
  }

  /** Polls a condition on a short timer (state in Redis and metrics changes without an event we could await). */
  async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function counter(node: WorkerNode, name: string, labels: Record<string, string>): Promise<number> {
    const metric = await node.registry.getSingleMetric(name)!.get();
    const value = metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return value?.value ?? 0;
  }

  async function affinity(nodes: WorkerNode[]): Promise<{ hit: number; miss: number }> {
    let hit = 0;
    let miss = 0;
    for (const node of nodes) {
      hit += await counter(node, 'hefty_worker_keyset_affinity_total', { result: 'hit' });
      miss += await counter(node, 'hefty_worker_keyset_affinity_total', { result: 'miss' });
    }
    return { hit, miss };
  }

  beforeAll(async () => {
    redis = await startRedis(binary);
    options = distributedOptions({ shards: 8, stealAfterMs: 250, heartbeatMs: 200 }, {});
    let keySet: Uint8Array;
    ({ ctx, keySet } = await smallClient());
    keySets.set('ks1', keySet);
  }, 120_000);

  afterAll(async () => {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    await redis?.stop();
    ctx?.dispose();
  }, 60_000);

  it('runs evaluations and batches on compute nodes; outputs decrypt to the reference', async () => {
    await withWorkers(1, async () => {
      const api = await executor();
      const x = randomVector(16, 1);
      const w = randomVector(16, 2);
      const outputs = await api.run(ref('ks1'), dotProgram, { x: encrypt(x), w }, 'hefty');
      expect(decryptFirst(ctx, outputs.z, 1)[0]).toBeCloseTo(dotReference(x, w), 2);

      const items = Array.from({ length: 12 }, (_, i) => ({ x: randomVector(16, 10 + i), w }));
      const results = await api.runBatch(
        ref('ks1'),
        dotProgram,
        items.map((item) => ({ x: encrypt(item.x), w: item.w })),
        'hefty',
      );
      results.forEach((r, i) => {
        if (!('outputs' in r)) throw new Error(JSON.stringify(r));
        expect(decryptFirst(ctx, r.outputs.z, 1)[0]).toBeCloseTo(dotReference(items[i].x, w), 2);
      });
    });
  }, 120_000);

  it('uploads in the shared cache go by reference: the API node moves none of their bytes', async () => {
    const connection = await RedisConnection.open(redis.url);
    const uploads = new RedisUploadCache({ connection, maxBytes: 64 << 20, tenantMaxBytes: 32 << 20, ttlMs: 60_000 });
    const probe = new Redis(redis.url);
    try {
      await withWorkers(1, async () => {
        const api = await executor();
        const x = randomVector(16, 3);
        const w = randomVector(16, 4);
        const bytes = encrypt(x);
        const id = await uploads.put(bytes, { scope: 't/ks1', chunks: 1 });
        const stored = await uploads.locate(id, 't/ks1');
        expect(stored).toMatchObject({ size: bytes.byteLength, chunks: 1, hash: sha256(bytes) });
        const trafficBefore = await redisInputBytes(probe);
        const outputs = await api.run(ref('ks1'), dotProgram, { x: stored!, w }, 'hefty');
        expect(decryptFirst(ctx, outputs.z, 1)[0]).toBeCloseTo(dotReference(x, w), 2);
        // Nothing stored the operand again (the old path wrote it under payload:<hash>), and what reached Redis
        // while it ran (the job, the output, BullMQ's bookkeeping) is less than the operand alone.
        expect(await probe.exists(`hefty:payload:${stored!.hash}`)).toBe(0);
        expect((await redisInputBytes(probe)) - trafficBefore).toBeLessThan(bytes.byteLength + outputs.z.byteLength);

        // An upload evicted after the request named it: that item fails with E_NOT_FOUND, nothing else breaks.
        const gone = await uploads.put(encrypt(randomVector(16, 5)), { scope: 't/ks1', chunks: 1 });
        const located = await uploads.locate(gone, 't/ks1');
        await uploads.dropScope('t/ks1');
        const [evicted, fine] = await api.runBatch(
          ref('ks1'),
          dotProgram,
          [
            { x: located!, w },
            { x: encrypt(x), w },
          ],
          'hefty',
        );
        expect(evicted).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
        if (!('outputs' in fine)) throw new Error(JSON.stringify(fine));
        expect(decryptFirst(ctx, fine.outputs.z, 1)[0]).toBeCloseTo(dotReference(x, w), 2);
      });
    } finally {
      probe.disconnect();
      await connection.close();
    }
  }, 120_000);

  it('a batch rides in jobs of several items; each item answers for itself, a bad one fails alone', async () => {
    await withWorkers(1, async ([node]) => {
      const api = await executor();
      const w = randomVector(16, 12);
      const xs = Array.from({ length: 70 }, (_, i) => randomVector(16, 300 + i));
      const items: Record<string, Uint8Array | number[]>[] = xs.map((x) => ({ x: encrypt(x), w }));
      items[31] = { x: new Uint8Array(64).fill(7), w }; // not a ciphertext: that item's error, not its job's
      const size = itemsPerJob(items.length);
      expect(size).toBeGreaterThan(1);
      const before = await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' });
      const results = await api.runBatch(ref('ks1'), dotProgram, items, 'hefty');
      expect(results).toHaveLength(70);
      results.forEach((r, i) => {
        if (i === 31) {
          expect('error' in r && r.error.code).toMatch(/^E_/);
          expect('error' in r && r.error.code).not.toBe('E_INTERNAL');
          return;
        }
        if (!('outputs' in r)) throw new Error(`item ${i}: ${JSON.stringify(r)}`);
        expect(decryptFirst(ctx, r.outputs.z, 1)[0]).toBeCloseTo(dotReference(xs[i], w), 2);
      });
      const jobs = (await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })) - before;
      expect(jobs).toBe(Math.ceil(70 / size));
    });
  }, 120_000);

  it('an idempotent retry through another API node joins the finished job instead of running it again', async () => {
    await withWorkers(1, async ([node]) => {
      const [first, second] = [await executor(), await executor()];
      const x = randomVector(16, 3);
      const w = randomVector(16, 4);
      const inputs = { x: encrypt(x), w };
      const once = await first.run(ref('ks1'), dotProgram, inputs, 'hefty', { idempotencyKey: 'req-1' });
      const ran = await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' });
      expect(ran).toBe(1);
      const again = await second.run(ref('ks1'), dotProgram, inputs, 'hefty', { idempotencyKey: 'req-1' });
      expect(Buffer.from(again.z).equals(Buffer.from(once.z))).toBe(true);
      expect(await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })).toBe(ran);
      // The same key for another request is refused, not answered with the first one's result.
      const other = { x: encrypt(randomVector(16, 5)), w };
      await expect(
        second.run(ref('ks1'), dotProgram, other, 'hefty', { idempotencyKey: 'req-1' }),
      ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      // A batch retried with its key answers every item once.
      const items = Array.from({ length: 6 }, (_, i) => ({ x: encrypt(randomVector(16, 50 + i)), w }));
      const a = await first.runBatch(ref('ks1'), dotProgram, items, 'hefty', { idempotencyKey: 'batch-1' });
      const b = await second.runBatch(ref('ks1'), dotProgram, items, 'hefty', { idempotencyKey: 'batch-1' });
      expect(await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })).toBe(ran + 6);
      b.forEach((r, i) => {
        const [ra, rb] = [a[i], r];
        if (!('outputs' in ra) || !('outputs' in rb)) throw new Error('item failed');
        expect(Buffer.from(rb.outputs.z).equals(Buffer.from(ra.outputs.z))).toBe(true);
      });
    });
  }, 120_000);

  it('requests with the same Idempotency-Key through one API node at once are all answered by one run', async () => {
    await withWorkers(1, async ([node]) => {
      const api = await executor();
      const w = randomVector(16, 16);
      const xs = Array.from({ length: 4 }, (_, i) => randomVector(16, 70 + i));
      const items = xs.map((x) => ({ x: encrypt(x), w }));
      const key = { idempotencyKey: 'twice-at-once' };
      const answers = await Promise.all([1, 2, 3].map(() => api.runBatch(ref('ks1'), dotProgram, items, 'hefty', key)));
      for (const results of answers) {
        results.forEach((r, i) => {
          if (!('outputs' in r)) throw new Error(`item ${i}: ${JSON.stringify(r)}`);
          expect(decryptFirst(ctx, r.outputs.z, 1)[0]).toBeCloseTo(dotReference(xs[i], w), 2);
        });
      }
      expect(await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })).toBe(items.length);
    });
  }, 120_000);

  it('a client going away removes its jobs that have not started', async () => {
    await withWorkers(1, async ([node]) => {
      const api = await executor();
      const w = randomVector(16, 6);
      const items = Array.from({ length: 40 }, (_, i) => ({ x: encrypt(randomVector(16, 60 + i)), w }));
      const controller = new AbortController();
      const batch = api.runBatch(ref('ks1'), dotProgram, items, 'hefty', { signal: controller.signal });
      // Abort once the first item is done: the rest are still queued behind the single slot.
      await until(async () => (await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })) >= 1);
      controller.abort();
      const results = await batch;
      const cancelled = results.filter((r) => 'error' in r && r.error.code === 'E_CANCELLED').length;
      expect(cancelled).toBeGreaterThan(20);
      await until(async () => (await counter(node, 'hefty_worker_running_jobs', { what: 'running' })) === 0);
      const ran = await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' });
      expect(ran).toBeLessThanOrEqual(40 - cancelled + 1);
    });
  }, 120_000);

  it('a client going away stops its running job between items: no further items run, no outputs are written', async () => {
    const count = 256;
    expect(itemsPerJob(count)).toBe(MAX_ITEMS_PER_JOB);
    const controller = new AbortController();
    let itemsRun = 0;
    // Counted as each item's last step comes back; the first one finished is when the client goes away.
    const node = await worker({}, (op) => {
      if (op === 'negate' && ++itemsRun === 1) controller.abort();
    });
    const watcher = new Redis(redis.url);
    try {
      const api = await executor();
      const outputsBefore = await watcher.keys('hefty:out:*');
      const x = encrypt(randomVector(16, 13));
      const items = Array.from({ length: count }, () => ({ x }));
      const results = await api.runBatch(ref('ks1'), slowProgram, items, 'hefty', { signal: controller.signal });
      expect(results.every((r) => 'error' in r && r.error.code === 'E_CANCELLED')).toBe(true);
      // The running job ends as cancelled (not completed) once its item in flight is back.
      await until(async () => (await counter(node, 'hefty_worker_jobs_total', { outcome: 'cancelled' })) >= 1);
      await until(async () => (await counter(node, 'hefty_worker_running_jobs', { what: 'running' })) === 0);
      expect(await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })).toBe(0);
      // The first item and those the pool started before the cancel message came (one, when Redis answers
      // within an item's time): not the job's 8.
      expect(itemsRun).toBeLessThanOrEqual(4);
      const outputsAfter = await watcher.keys('hefty:out:*');
      expect(outputsAfter.filter((key) => !outputsBefore.includes(key))).toEqual([]);
    } finally {
      watcher.disconnect();
      await node.drain();
    }
  }, 120_000);

  it('a worker reads its next job while its slot runs it (prefetch), and with prefetch 0 only after', async () => {
    const x = Array.from({ length: 3 }, (_, i) => encrypt(randomVector(16, 90 + i)));
    expect(itemsPerJob(x.length)).toBe(1);
    for (const workerPrefetch of [1, 0]) {
      let firstDone = false;
      const node = await worker({ workerPrefetch }, (op) => {
        if (op === 'negate') firstDone = true;
      });
      // Operand bytes the worker read from Redis (one request-scoped operand per job), sampled on a short timer
      // until the first item is done (a slow item: hundreds of rotations).
      const readBeforeFirstDone = (async () => {
        let read = 0;
        while (!firstDone) {
          read = await counter(node, 'hefty_worker_redis_bytes_total', { direction: 'read', what: 'operand' });
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return Math.round(read / x[0].byteLength);
      })();
      try {
        const api = await executor();
        const results = await api.runBatch(ref('ks1'), slowProgram, x.map((bytes) => ({ x: bytes })), 'hefty');
        expect(results.every((r) => 'outputs' in r)).toBe(true);
        // With prefetch the second job's operand is in hand while the first runs; without, only once it is done.
        expect(await readBeforeFirstDone).toBe(workerPrefetch ? 2 : 1);
      } finally {
        await node.drain();
      }
    }
  }, 120_000);

  it('an idempotent retry after the client went away runs the cancelled jobs again, and no job twice', async () => {
    const controller = new AbortController();
    const node = await worker({}, (op) => {
      if (op === 'negate') controller.abort();
    });
    try {
      const [first, second] = [await executor(), await executor()];
      const values = randomVector(16, 15);
      const x = encrypt(values);
      // One item per job: the first job runs, the second may have started, the rest wait.
      const items = Array.from({ length: 8 }, () => ({ x }));
      expect(itemsPerJob(items.length)).toBe(1);
      const key = { idempotencyKey: 'gone-then-back' };
      const gone = await first.runBatch(ref('ks1'), slowProgram, items, 'hefty', { ...key, signal: controller.signal });
      expect(gone.every((r) => 'error' in r && r.error.code === 'E_CANCELLED')).toBe(true);
      await until(async () => (await counter(node, 'hefty_worker_running_jobs', { what: 'running' })) === 0);
      const back = await second.runBatch(ref('ks1'), slowProgram, items, 'hefty', key);
      for (const [i, r] of back.entries()) {
        if (!('outputs' in r)) throw new Error(`item ${i}: ${JSON.stringify(r)}`);
        // 254 key switches at N=4096 leave noise of a few hundredths.
        decryptFirst(ctx, r.outputs.z, values.length).forEach((v, k) =>
          expect(Math.abs(v + values[k])).toBeLessThan(0.1),
        );
      }
      // Each of the 8 jobs completed once: those the first request finished were joined, not run again.
      expect(await counter(node, 'hefty_worker_jobs_total', { outcome: 'completed' })).toBe(8);
    } finally {
      await node.drain();
    }
  }, 120_000);

  it('forget(): a worker unloads a deleted key set (LRU and pool); its replacement (a new id) loads on first use', async () => {
    const [old, rotated] = await Promise.all([smallClient(), smallClient()]);
    keySets.set('rot-old', old.keySet);
    keySets.set('rot-new', rotated.keySet);
    try {
      await withWorkers(1, async ([node]) => {
        const api = await executor();
        const w = randomVector(16, 14);
        const evaluate = async (client: typeof old, id: string, seed: number): Promise<void> => {
          const x = randomVector(16, seed);
          const v = client.ctx.encrypt(x);
          const bytes = v.serialize();
          v.dispose();
          const out = await api.run(ref(id), dotProgram, { x: bytes, w }, 'hefty');
          expect(decryptFirst(client.ctx, out.z, 1)[0]).toBeCloseTo(dotReference(x, w), 2);
        };
        const loaded = (): Promise<number> => counter(node, 'hefty_worker_loaded_keysets', { what: 'count' });
        await evaluate(old, 'rot-old', 20);
        expect(await loaded()).toBe(1);
        // Rotation: the new key set (a new id) is loaded by its first job, beside the old one.
        await evaluate(rotated, 'rot-new', 21);
        expect(await loaded()).toBe(2);
        expect((await affinity([node])).miss).toBe(2);
        // The old one deleted: the API node's forget reaches the worker, which unloads it.
        keySets.delete('rot-old');
        const bytesBefore = await counter(node, 'hefty_worker_loaded_keysets', { what: 'bytes' });
        api.forget(ref('rot-old').key);
        await until(async () => (await loaded()) === 1, 10_000);
        expect(await counter(node, 'hefty_worker_loaded_keysets', { what: 'bytes' })).toBe(
          bytesBefore - old.keySet.byteLength,
        );
        // The new one is still loaded (a hit); the old one's next job finds it gone from the store.
        await evaluate(rotated, 'rot-new', 22);
        expect(await affinity([node])).toEqual({ hit: 1, miss: 2 });
        await expect(evaluate(old, 'rot-old', 23)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      });
    } finally {
      old.ctx.dispose();
      rotated.ctx.dispose();
    }
  }, 120_000);

  it('after warm-up, at least 90% of jobs run where their key set is loaded (2 workers, 6 key sets)', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => smallClient()));
    clients.forEach((c, i) => keySets.set(`aff${i}`, c.keySet));
    try {
      await withWorkers(2, async (nodes) => {
        const api = await executor();
        const w = randomVector(16, 7);
        const job = async (k: number, seed: number): Promise<void> => {
          const x = randomVector(16, seed);
          const v = clients[k].ctx.encrypt(x);
          const bytes = v.serialize();
          v.dispose();
          const out = await api.run(ref(`aff${k}`), dotProgram, { x: bytes, w }, 'hefty');
          expect(decryptFirst(clients[k].ctx, out.z, 1)[0]).toBeCloseTo(dotReference(x, w), 2);
        };
        for (let k = 0; k < 6; k++) await job(k, 100 + k); // warm-up: each key set once
        const hitsBefore = await affinity(nodes);
        // 6 jobs per key set in shuffled order, two clients at a time.
        const order = Array.from({ length: 36 }, (_, i) => i % 6);
        const shuffle = randomVector(36, 11);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(((shuffle[i] + 1) / 2) * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        let next = 0;
        const client = async (): Promise<void> => {
          while (next < order.length) {
            const i = next++;
            await job(order[i], 200 + i);
          }
        };
        await Promise.all([client(), client()]);
        const after = await affinity(nodes);
        const hits = after.hit - hitsBefore.hit;
        const misses = after.miss - hitsBefore.miss;
        expect(hits + misses).toBe(36);
        expect(hits / 36).toBeGreaterThanOrEqual(0.9);
      });
    } finally {
      for (const c of clients) c.ctx.dispose();
    }
  }, 240_000);

  it('Redis down: 503 E_UNAVAILABLE at once; back up: workers reconnect and evaluations run again', async () => {
    await withWorkers(1, async () => {
      const api = await executor();
      const x = randomVector(16, 8);
      const w = randomVector(16, 9);
      await redis.halt();
      await expect(api.run(ref('ks1'), dotProgram, { x: encrypt(x), w }, 'hefty')).rejects.toMatchObject({
        code: 'E_UNAVAILABLE',
      });
      await redis.start();
      await until(async () => {
        try {
          const out = await api.run(ref('ks1'), dotProgram, { x: encrypt(x), w }, 'hefty');
          return Math.abs(decryptFirst(ctx, out.z, 1)[0] - dotReference(x, w)) < 0.01;
        } catch (e) {
          if (e instanceof HeftyError && e.code === 'E_UNAVAILABLE') return false;
          throw e;
        }
      });
    });
  }, 120_000);
});
