/** The in-process executor's queue: one job at a time, E_OVERLOADED past maxQueue, E_TIMEOUT for stale waits. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import { HeftyError } from '../../src/errors.ts';
import { InProcessExecutor, type KeySetRef } from '../../src/server/executor.ts';
import { decryptFirst, dotProgram, smallClient } from './fixtures.ts';

let ctx: HeftyContext;
let keySet: Uint8Array;
let x: Uint8Array;

beforeAll(async () => {
  ({ ctx, keySet } = await smallClient());
  const v = ctx.encrypt([1, 2, 3]);
  x = v.serialize();
  v.dispose();
});
afterAll(() => ctx?.dispose());

/** A key set whose first load takes `delayMs`, to hold the execution slot. */
const slowRef = (key: string, delayMs: number): KeySetRef => ({
  key,
  tenant: 't',
  id: key,
  read: async () => {
    await sleep(delayMs);
    return keySet;
  },
});

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (e) {
    return e instanceof HeftyError ? e.code : String(e);
  }
}

describe('in-process executor', () => {
  it('queues, sheds past maxQueue, times out stale waits, and drains on close', async () => {
    const executor = new InProcessExecutor({ backend: 'auto', maxLoadedKeySets: 2, maxQueue: 2, jobTimeoutMs: 150 });
    const inputs = { x, w: [1, 1, 1] };
    const first = executor.run(slowRef('a', 400), dotProgram, inputs, 'hefty');
    const waiting = [1, 2].map(() => codeOf(executor.run(slowRef('a', 400), dotProgram, inputs, 'hefty')));
    expect(await codeOf(executor.run(slowRef('a', 400), dotProgram, inputs, 'hefty'))).toBe('E_OVERLOADED');
    expect(executor.stats()).toMatchObject({ queued: 2, active: 1 });
    expect(await Promise.all(waiting)).toEqual(['E_TIMEOUT', 'E_TIMEOUT']);
    const { z } = await first;
    expect(decryptFirst(ctx, z, 1)[0]).toBeCloseTo(6, 2);
    // A queued job still finishes when close() is called; new work is refused afterwards.
    const last = executor.run(slowRef('b', 100), dotProgram, inputs, 'hefty');
    const queued = executor.run(slowRef('b', 100), dotProgram, inputs, 'hefty');
    await executor.close();
    expect(await codeOf(last)).toBe('ok');
    expect(await codeOf(queued)).toBe('ok');
    expect(await codeOf(executor.run(slowRef('b', 0), dotProgram, inputs, 'hefty'))).toBe('E_OVERLOADED');
  });
});
