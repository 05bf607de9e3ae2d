/**
 * A 2,000-item run leaks nothing: after warm-up, the process RSS (main thread and workers share it, native
 * engine memory included) and the main-thread heap return to within 10% of where they started, and the native
 * engine's object handles made by the workers are finalized (they are, only where a worker's event loop turns
 * between jobs). All are measured after full collections in the main thread and in the workers (a test-pool hook).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import { createPool, type KeySetHandle, type Pool } from '../../src/pool/pool.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
import { client, codeOf, dotProgram, encryptBytes, type Client } from './fixtures.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let c: Client;
let pool: Pool;
let keySet: KeySetHandle;
let x: Uint8Array;
const w = [0.5, -1, 2];

beforeAll(async () => {
  c = await client(4096);
  x = encryptBytes(c.ctx, [1, 2, 3]);
  pool = await createPool({ workers: 2, testHooks: true });
  keySet = await pool.addKeySet(c.keySet);
});
afterAll(async () => {
  await pool?.close();
  c?.ctx.dispose();
});

const liveHandles = async (): Promise<number> => (await createNativeBackend()).liveHandles;

async function settled(): Promise<{ rss: number; heap: number }> {
  // One gc item per worker, stalled so that all are busy at once: every worker collects.
  await pool.runBatch(
    keySet,
    dotProgram,
    Array.from({ length: pool.workers }, () => ({ x, w })),
    {
      testHook: () => ({ gc: true, stallMs: 100 }),
    },
  );
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

async function run(items: number): Promise<void> {
  for (let done = 0; done < items; done += 200) {
    const results = await pool.runBatch(
      keySet,
      dotProgram,
      Array.from({ length: 200 }, () => ({ x, w })),
    );
    expect(results.every((r) => codeOf(r) === 'ok')).toBe(true);
  }
}

it('returns to its starting memory after 2,000 items', async () => {
  await run(1000); // warm-up: key sets loaded, worker heaps and engine pools at their working size
  const start = await settled();
  await run(2000);
  const end = await settled();
  expect(end.rss).toBeLessThan(start.rss * 1.1);
  expect(end.heap).toBeLessThan(start.heap * 1.1);
});

it.runIf(await nativeAvailable())('finalizes the engine handles its busy workers made', async () => {
  expect(keySet.info.backend).toBe('native');
  await run(200);
  await settled();
  const before = await liveHandles();
  await run(1000); // a dot product makes about 20 engine objects per item
  await settled();
  expect((await liveHandles()) - before).toBeLessThan(100);
});
