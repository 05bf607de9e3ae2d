/**
 * Run sizing of the pool's dispatcher, on a clock the test controls: each run "takes" its items' cost in
 * milliseconds, so the sizes follow the policy whatever the machine's load (the pool suites check the rest).
 */
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/pool/dispatcher.ts';

/** Submits `size` items costing `itemMs` each; returns the run lengths in dispatch order. */
async function runLengths(size: number, itemMs: number, concurrency = 2): Promise<number[]> {
  let clock = 0;
  const dispatcher = new Dispatcher({ concurrency, maxQueue: 4, now: () => clock });
  const runs: number[] = [];
  const results = await dispatcher.submit({
    size,
    runItems: async (indices) => {
      runs.push(indices.length);
      await Promise.resolve();
      clock += indices.length * itemMs;
      return indices.map((i) => i * 10);
    },
  });
  expect(results).toEqual(Array.from({ length: size }, (_, i) => i * 10));
  return runs;
}

describe('dispatcher runs', () => {
  it('send fast items in runs of up to 4: far fewer jobs than items', async () => {
    const runs = await runLengths(200, 2);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(200);
    expect(runs[0]).toBe(1); // the item time is unknown until a run comes back
    expect(Math.max(...runs)).toBe(4);
    expect(runs.length).toBeLessThan(100);
  });

  it('send slow items one by one', async () => {
    const runs = await runLengths(20, 50);
    expect(runs).toEqual(Array<number>(20).fill(1));
  });

  it('shrink runs towards the end of a batch so the workers finish together', async () => {
    const runs = await runLengths(40, 1);
    expect(runs.slice(-3).every((n) => n <= 2)).toBe(true);
  });
});
