/**
 * Batch engine (src/pool), from one run:
 *  1. throughput: the same dot-product batch (N=8192) on a 1-worker and a 2-worker pool (one intra-op thread per
 *     worker), alternated over rounds so machine load affects both alike; median items/s and the ratio
 *     (target: 2 workers ≥ 1.8× one). Beside it, in the same rounds, the engine alone in 1 and 2 plain threads
 *     (engine-workers.ts): on a shared machine its ratio bounds what any pool can show. Items are distinct
 *     ciphertext buffers handed over with transferInputs; the main thread's CPU time per item is the pool's
 *     own dispatching cost.
 *  2. repeated operand: one ciphertext sent as one-off bytes (transferred and deserialized by every job) vs as a
 *     cached operand (deserialized once per worker, then found loaded): mean time to get the input ready on
 *     the worker (target: cache hit ≥ 10× faster than the cold load), and end-to-end items/s of both.
 * Usage: `node bench/batch.ts [--full]`. Results: bench/results/<date>-batch.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createContext, encodeKeySet, programGaloisSteps, type Program } from '../src/index.ts';
import { createPool, type KeySetHandle, type Pool, type PoolInput } from '../src/pool/pool.ts';
import { HeftyError } from '../src/errors.ts';
import { engineRate } from './engine-workers.ts';

const full = process.argv.includes('--full');
const ITEMS = full ? 800 : 400;
const ROUNDS = full ? 7 : 5;

const program: Program = {
  inputs: { x: 'vector', w: 'plain' },
  steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
  outputs: ['z'],
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(
  pool: Pool,
  keySet: KeySetHandle,
  items: Record<string, PoolInput>[],
  transferInputs = false,
): Promise<number> {
  const started = performance.now();
  const results = await pool.runBatch(keySet, program, items, { transferInputs });
  const seconds = (performance.now() - started) / 1000;
  const failed = results.find((r) => r instanceof HeftyError);
  if (failed) throw failed;
  return items.length / seconds;
}

/** Sum and count of the pool's input-load histogram for one source. */
async function inputLoads(pool: Pool, source: string): Promise<{ sum: number; count: number }> {
  const { values } = await pool.metrics.inputLoad.get();
  const read = (name: string): number =>
    values.filter((v) => v.metricName === name && v.labels.source === source).reduce((s, v) => s + v.value, 0);
  return { sum: read('hefty_pool_input_load_seconds_sum'), count: read('hefty_pool_input_load_seconds_count') };
}

async function meanLoadUs(pool: Pool, source: string, run: () => Promise<unknown>): Promise<number> {
  const before = await inputLoads(pool, source);
  await run();
  const after = await inputLoads(pool, source);
  return ((after.sum - before.sum) / (after.count - before.count)) * 1e6;
}

const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
ctx.keygen({ galois: programGaloisSteps(program, ctx.slotCount) });
const keySetBytes = encodeKeySet(ctx.exportKeySet());
const x = ctx.encrypt(Array.from({ length: 64 }, (_, i) => Math.sin(i))).serialize();
const w = Array.from({ length: 64 }, (_, i) => Math.cos(i));
const items = Array.from({ length: ITEMS }, () => ({ x, w }));

// 1. throughput, 1 vs 2 workers
const pools = await Promise.all([1, 2].map((workers) => createPool({ workers, threadsPerWorker: 1 })));
const keySets = await Promise.all(pools.map((p) => p.addKeySet(keySetBytes)));
for (const [i, pool] of pools.entries()) await timed(pool, keySets[i], items.slice(0, 8)); // keys loaded everywhere
const rates: number[][] = [[], []];
const engine: number[][] = [[], []];
const mainCpuUs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, pool] of pools.entries()) {
    // Distinct ciphertext buffers handed to the pool, as a batch of real inputs would be.
    const own = items.map((item) => ({ ...item, x: item.x.slice() }));
    const before = process.threadCpuUsage();
    rates[i].push(await timed(pool, keySets[i], own, true));
    const cpu = process.threadCpuUsage(before);
    if (i === 1) mainCpuUs.push((cpu.user + cpu.system) / own.length);
  }
  for (const [i, threads] of [1, 2].entries())
    engine[i].push(await engineRate(threads, { keySet: keySetBytes, x, w, program, ms: 1000 }));
}
const [one, two] = rates.map(median);
const engineScaling = median(engine[1]) / median(engine[0]);
await Promise.all(pools.map((p) => p.close()));

// 2. repeated operand: one-off bytes vs cached
const pool = await createPool({ workers: 1, threadsPerWorker: 1 });
const keySet = await pool.addKeySet(keySetBytes);
const id = pool.cache.put(x);
const cachedItems = Array.from({ length: ITEMS }, () => ({ x: { cached: id }, w }));
await timed(pool, keySet, cachedItems.slice(0, 4)); // the worker holds the operand loaded from here on
let coldRate = 0;
let hitRate = 0;
const coldUs = await meanLoadUs(pool, 'deserialized', async () => (coldRate = await timed(pool, keySet, items)));
const hitUs = await meanLoadUs(pool, 'cache-hit', async () => (hitRate = await timed(pool, keySet, cachedItems)));
const backend = keySet.info.backend;
await pool.close();
ctx.dispose();

const rows = [
  ['throughput, 1 worker', `${one.toFixed(0)} items/s`, ''],
  ['throughput, 2 workers', `${two.toFixed(0)} items/s`, `${(two / one).toFixed(2)}× (target ≥ 1.8×)`],
  ['engine alone (no pool): 1 thread', `${median(engine[0]).toFixed(0)} items/s`, ''],
  [
    'engine alone (no pool): 2 threads',
    `${median(engine[1]).toFixed(0)} items/s`,
    `${engineScaling.toFixed(2)}× (what the machine allows now)`,
  ],
  ['main-thread CPU per item (pool overhead)', `${median(mainCpuUs).toFixed(0)} µs`, ''],
  ['input ready: cold load (deserialize)', `${coldUs.toFixed(1)} µs`, ''],
  ['input ready: cache hit', `${hitUs.toFixed(2)} µs`, `${(coldUs / hitUs).toFixed(0)}× faster (target ≥ 10×)`],
  ['end to end: one-off bytes', `${coldRate.toFixed(0)} items/s`, ''],
  ['end to end: cached operand', `${hitRate.toFixed(0)} items/s`, `${(hitRate / coldRate).toFixed(2)}×`],
];
const table = [
  `batch engine: dot product over 64 of 4096 slots, N=8192, ${ITEMS}-item batches, ${backend} backend, median of ${ROUNDS} rounds`,
  '',
  '| measure | value | ratio |',
  '| --- | --- | --- |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
console.log(table);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
writeFileSync(
  new URL(`./results/${date}-batch.json`, import.meta.url),
  JSON.stringify(
    {
      backend,
      items: ITEMS,
      rounds: ROUNDS,
      itemsPerSecond: { oneWorker: rates[0], twoWorkers: rates[1] },
      workerSpeedup: two / one,
      engineAloneItemsPerSecond: { oneThread: engine[0], twoThreads: engine[1] },
      engineScaling: engineScaling,
      mainThreadCpuUsPerItem: median(mainCpuUs),
      inputReadyUs: { coldLoad: coldUs, cacheHit: hitUs },
      cacheSpeedup: coldUs / hitUs,
      endToEndItemsPerSecond: { oneOffBytes: coldRate, cachedOperand: hitRate },
    },
    null,
    2,
  ),
);
writeFileSync(new URL(`./results/${date}-batch.md`, import.meta.url), table + '\n');
