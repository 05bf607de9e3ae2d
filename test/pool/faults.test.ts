/**
 * Backpressure and failures: overload is refused at once, cancel settles queued items, a deadline stops a
 * stalled worker, and a worker killed mid-job fails only its item and is replaced. Stalls and crashes come from
 * test hooks that only pools created with `testHooks: true` honour.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../src/index.ts';
import { createPool, type KeySetHandle, type Pool } from '../../src/pool/pool.ts';
import { expectHeftyErrorAsync } from '../helpers.ts';
import { client, codeOf, decrypt, dotProgram, encryptBytes, outputsOf, type Client } from './fixtures.ts';

let c: Client;
let x: Uint8Array;
const w = [1, 1, 1];
const items = (n: number) => Array.from({ length: n }, () => ({ x, w }));

beforeAll(async () => {
  c = await client(4096);
  x = encryptBytes(c.ctx, [1, 2, 3]);
});
afterAll(() => c?.ctx.dispose());

async function testPool(workers: number, maxQueue = 16): Promise<{ pool: Pool; keySet: KeySetHandle }> {
  const pool = await createPool({ workers, maxQueue, testHooks: true });
  return { pool, keySet: await pool.addKeySet(c.keySet) };
}

async function workersBackTo(pool: Pool, n: number): Promise<void> {
  // A replacement worker's start has no event of its own; the test's timeout bounds the wait, not a guess.
  while (pool.stats().workers !== n) await sleep(20);
}

describe('pool backpressure and failures', () => {
  it('refuses batches past maxQueue at once with E_OVERLOADED', async () => {
    const { pool, keySet } = await testPool(1, 1);
    try {
      const running = pool.runBatch(keySet, dotProgram, items(1), { testHook: () => ({ stallMs: 400 }) });
      const waiting = pool.runBatch(keySet, dotProgram, items(3));
      expect(pool.stats()).toMatchObject({ queuedBatches: 1, running: 1 });
      let runningDone = false;
      void running.then(() => (runningDone = true));
      await expectHeftyErrorAsync(pool.runBatch(keySet, dotProgram, items(1)), 'E_OVERLOADED');
      expect(runningDone).toBe(false); // refused at once, not after waiting for a slot
      expect((await running).map(codeOf)).toEqual(['ok']);
      expect((await waiting).map(codeOf)).toEqual(['ok', 'ok', 'ok']);
    } finally {
      await pool.close();
    }
  });

  it('cancels queued items with E_CANCELLED and keeps finished ones', async () => {
    const { pool, keySet } = await testPool(1);
    try {
      const controller = new AbortController();
      const results = await pool.runBatch(keySet, dotProgram, items(40), {
        signal: controller.signal,
        testHook: () => ({ stallMs: 10 }),
        onProgress: (done) => done === 3 && controller.abort(),
      });
      expect(results).toHaveLength(40);
      const codes = results.map(codeOf);
      expect(codes.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
      expect(codes.filter((code) => code === 'E_CANCELLED').length).toBeGreaterThanOrEqual(35);
      expect(codes.every((code) => code === 'ok' || code === 'E_CANCELLED')).toBe(true);
      expect(decrypt(c.ctx, outputsOf(results[0]).outputs.z)[0]).toBeCloseTo(6, 2);
      await expectHeftyErrorAsync(
        pool.runBatch(keySet, dotProgram, items(1), { signal: controller.signal }),
        'E_CANCELLED',
      );
      expect((await pool.runBatch(keySet, dotProgram, items(2))).map(codeOf)).toEqual(['ok', 'ok']);
    } finally {
      await pool.close();
    }
  });

  it('times out: unfinished items fail with E_TIMEOUT, the stalled worker is stopped and replaced', async () => {
    const { pool, keySet } = await testPool(1);
    try {
      const started = performance.now();
      const results = await pool.runBatch(keySet, dotProgram, items(5), {
        timeoutMs: 300,
        testHook: (i) => (i === 0 ? { stallMs: 5000 } : undefined),
      });
      expect(performance.now() - started).toBeLessThan(2500);
      expect(results.map(codeOf)).toEqual(Array(5).fill('E_TIMEOUT'));
      await workersBackTo(pool, 1);
      expect((await pool.runBatch(keySet, dotProgram, items(2))).map(codeOf)).toEqual(['ok', 'ok']);
    } finally {
      await pool.close();
    }
  });

  it('a deadline that stops a worker inside engine code neither crashes the process nor the pool', async () => {
    const { pool, keySet } = await testPool(1);
    // 256 rotations back to back: the worker is almost always inside a native call when it is stopped.
    const long: Program = {
      inputs: { x: 'vector' },
      steps: Array.from({ length: 256 }, (_, i) => ({
        out: `r${i}`,
        op: 'rotate' as const,
        args: [i === 0 ? 'x' : `r${i - 1}`] as const,
        steps: 1,
      })),
      outputs: ['r255'],
    };
    try {
      for (let round = 0; round < 3; round++) {
        const results = await pool.runBatch(keySet, long, [{ x }], { timeoutMs: 30 + 20 * round });
        expect(results.map(codeOf)).toEqual(['E_TIMEOUT']);
        await workersBackTo(pool, 1);
      }
      expect((await pool.runBatch(keySet, dotProgram, items(2))).map(codeOf)).toEqual(['ok', 'ok']);
    } finally {
      await pool.close();
    }
  });

  it('a worker killed mid-job fails only its item with E_WORKER_LOST and is replaced', async () => {
    const { pool, keySet } = await testPool(2);
    try {
      const results = await pool.runBatch(keySet, dotProgram, items(20), {
        testHook: (i) => (i === 5 ? { exit: 1 } : undefined),
      });
      const codes = results.map(codeOf);
      expect(codes[5]).toBe('E_WORKER_LOST');
      expect(codes.filter((code) => code === 'ok')).toHaveLength(19);
      for (const [i, r] of results.entries())
        if (i !== 5) expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(6, 2);
      await workersBackTo(pool, 2);
      expect((await pool.metrics.workersLost.get()).values[0].value).toBe(1);
      expect((await pool.runBatch(keySet, dotProgram, items(4))).map(codeOf)).toEqual(Array(4).fill('ok'));
    } finally {
      await pool.close();
    }
  });

  it('items that moved to a lost worker (transferInputs) fail with it; the rest of its run is retried', async () => {
    const { pool, keySet } = await testPool(1);
    try {
      const own = Array.from({ length: 24 }, () => ({ x: x.slice(), w }));
      const results = await pool.runBatch(keySet, dotProgram, own, {
        transferInputs: true,
        testHook: (i) => (i === 6 ? { exit: 1 } : undefined),
      });
      const codes = results.map(codeOf);
      expect(codes[6]).toBe('E_WORKER_LOST');
      // Items 0 and 1 ran alone (no item time known yet); item 6 then ran inside a run of several items.
      const lost = codes.filter((code) => code === 'E_WORKER_LOST').length;
      expect(lost).toBeGreaterThan(1);
      expect(lost).toBeLessThanOrEqual(8);
      expect(codes.every((code) => code === 'ok' || code === 'E_WORKER_LOST')).toBe(true);
      for (const r of results)
        if (codeOf(r) === 'ok') expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(6, 2);
      // Without transferInputs the same loss costs only the running item.
      const again = await pool.runBatch(keySet, dotProgram, items(24), {
        testHook: (i) => (i === 6 ? { exit: 1 } : undefined),
      });
      expect(again.map(codeOf).filter((code) => code !== 'ok')).toEqual(['E_WORKER_LOST']);
      expect(codeOf(again[6])).toBe('E_WORKER_LOST');
    } finally {
      await pool.close();
    }
  });

  it('fails jobs with E_WORKER_LOST, never hangs, when no replacement worker can start', async () => {
    const { pool, keySet } = await testPool(1);
    try {
      const results = await pool.runBatch(keySet, dotProgram, items(3), {
        testHook: (i) => (i === 0 ? { breakStartup: true, exit: 1 } : undefined),
      });
      expect(results.map(codeOf)).toEqual(['E_WORKER_LOST', 'E_WORKER_LOST', 'E_WORKER_LOST']);
      expect(pool.stats().workers).toBe(0);
      expect((await pool.runBatch(keySet, dotProgram, items(2))).map(codeOf)).toEqual([
        'E_WORKER_LOST',
        'E_WORKER_LOST',
      ]);
    } finally {
      await pool.close();
    }
  });

  it('ignores test hooks unless the pool was created for tests', async () => {
    const pool = await createPool({ workers: 1 });
    try {
      const keySet = await pool.addKeySet(c.keySet);
      const results = await pool.runBatch(keySet, dotProgram, items(2), { testHook: () => ({ exit: 1 }) });
      expect(results.map(codeOf)).toEqual(['ok', 'ok']);
    } finally {
      await pool.close();
    }
  });

  it('close() finishes accepted batches and refuses new ones', async () => {
    const { pool, keySet } = await testPool(1);
    const accepted = pool.runBatch(keySet, dotProgram, items(3), { testHook: () => ({ stallMs: 30 }) });
    const closing = pool.close();
    await expectHeftyErrorAsync(pool.runBatch(keySet, dotProgram, items(1)), 'E_OVERLOADED');
    expect((await accepted).map(codeOf)).toEqual(['ok', 'ok', 'ok']);
    await closing;
  });
});
