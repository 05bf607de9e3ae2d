/**
 * An input structured clone refuses (a function, a symbol) never reaches a worker: the item fails with
 * E_INVALID_ARGUMENT, and no worker is counted as lost (that metric is a crash alarm).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/pool/pool.ts';
import { client, dotProgram, encryptBytes, type Client } from './fixtures.ts';

let c: Client;
beforeAll(async () => {
  c = await client(4096);
});
afterAll(() => c?.ctx.dispose());

const scaled = {
  inputs: { x: 'vector', k: 'scalar' },
  steps: [{ out: 'y', op: 'mul', args: ['x', 'k'] }],
  outputs: ['y'],
} as const;

describe('uncloneable inputs', () => {
  it('fail as E_INVALID_ARGUMENT, not as a lost worker', async () => {
    const pool = await createPool({ workers: 1 });
    try {
      const keySet = await pool.addKeySet(c.keySet);
      const x = encryptBytes(c.ctx, [1, 2, 3]);
      for (const k of [() => 2, Symbol('k')]) {
        await expect(pool.run(keySet, scaled, { x, k } as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      }
      const lost =
        (await pool.metrics.registry.getSingleMetric('hefty_pool_workers_lost_total')?.get())?.values[0]?.value ?? 0;
      expect(lost).toBe(0);
      // The pool still serves.
      const done = await pool.run(keySet, dotProgram, { x, w: [1, 1, 1] });
      expect(Object.keys(done.outputs)).toEqual(['z']);
    } finally {
      await pool.close();
    }
  });
});
