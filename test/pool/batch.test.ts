/**
 * Batches on the worker pool, checked by decrypting: 200-item dot-product and matvec batches against the
 * float64 reference, per-item error isolation, reusable results and cached operands, key-set registration,
 * metrics, and the WASM engine inside workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/pool/cache.ts';
import { createPool, type Pool } from '../../src/pool/pool.ts';
import { encodeKeySet, type Program } from '../../src/index.ts';
import { expectHeftyErrorAsync, randomVector } from '../helpers.ts';
import {
  MATRIX,
  client,
  codeOf,
  decrypt,
  dot,
  dotProgram,
  encryptBytes,
  matvec,
  matvecProgram,
  outputsOf,
  type Client,
} from './fixtures.ts';

let c: Client;
let pool: Pool;

beforeAll(async () => {
  c = await client();
  pool = await createPool({ workers: 2 });
});
afterAll(async () => {
  await pool?.close();
  c?.ctx.dispose();
});

/** Jobs the pool has sent to its workers so far (each a run of batch items). */
async function jobsSent(): Promise<number> {
  const { values } = await pool.metrics.jobDuration.get();
  return values
    .filter((v) => v.metricName === 'hefty_pool_job_duration_seconds_count')
    .reduce((s, v) => s + v.value, 0);
}

describe('pool batches', () => {
  it('runs 200 dot products and 200 matvecs that decrypt to the float64 reference, in input order', async () => {
    const keySet = await pool.addKeySet(c.keySet);
    const xs = Array.from({ length: 200 }, (_, i) => randomVector(4, i + 1, 2));
    const ws = Array.from({ length: 200 }, (_, i) => randomVector(4, 1000 + i));
    const encrypted = xs.map((x) => encryptBytes(c.ctx, x));
    const progress: number[] = [];

    const jobsBefore = await jobsSent();
    const dots = await pool.runBatch(
      keySet,
      dotProgram,
      encrypted.map((x, i) => ({ x, w: ws[i] })),
      { onProgress: (done, total) => progress.push(done / total) },
    );
    expect(dots).toHaveLength(200);
    dots.forEach((r, i) => expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(dot(xs[i], ws[i]), 4));
    expect(progress).toHaveLength(200);
    expect(progress.at(-1)).toBe(1);
    // Items travel in runs (how long depends on the measured item time: test/pool/dispatcher.test.ts).
    const jobs = (await jobsSent()) - jobsBefore;
    expect(jobs).toBeGreaterThan(0);
    expect(jobs).toBeLessThanOrEqual(200);

    const products = await pool.runBatch(
      keySet,
      matvecProgram,
      encrypted.map((x) => ({ x })),
    );
    products.forEach((r, i) => {
      const got = decrypt(c.ctx, outputsOf(r).outputs.y).slice(0, MATRIX.length);
      matvec(MATRIX, xs[i]).forEach((want, row) => expect(got[row]).toBeCloseTo(want, 4));
    });
    // The caller's bytes are copied for transfer, never detached.
    expect(encrypted[0].byteLength).toBeGreaterThan(0);
  });

  it('moves input buffers to the workers with transferInputs, copying what cannot move', async () => {
    const keySet = await pool.addKeySet(c.keySet);
    const x = [1, 2, 3];
    const own = [encryptBytes(c.ctx, x), encryptBytes(c.ctx, x)];
    const twice = encryptBytes(c.ctx, x);
    const inner = encryptBytes(c.ctx, x);
    const view = new Uint8Array(inner.length + 8);
    view.set(inner, 8);
    const items = [...own, twice, twice, view.subarray(8)].map((bytes) => ({ x: bytes, w: [1, 1, 1] }));
    const results = await pool.runBatch(keySet, dotProgram, items, { transferInputs: true });
    for (const r of results) expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(6, 4);
    expect(own.map((b) => b.byteLength)).toEqual([0, 0]); // moved, not copied
    expect(twice.byteLength).toBe(inner.length); // used twice: copied
    expect(view.byteLength).toBe(inner.length + 8); // a view into a larger buffer: copied
  });

  it("a cache entry's own (unshared) bytes go to the workers as copies: the entry keeps them", async () => {
    const keySet = await pool.addKeySet(c.keySet);
    const x = [1, 2, 3];
    const bytes = encryptBytes(c.ctx, x);
    const entry = { bytes, hash: sha256(bytes) };
    const items = Array.from({ length: 6 }, () => ({ x: entry, w: [1, 1, 1] }));
    const results = await pool.runBatch(keySet, dotProgram, items, { transferInputs: true });
    for (const r of results) expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(6, 4);
    expect(entry.bytes.byteLength).toBe(bytes.byteLength); // not moved away from the cache that holds it
    expect(entry.bytes.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('isolates item errors: bad items fail with their own code, the others succeed', async () => {
    const keySet = await pool.addKeySet(c.keySet);
    const other = await client(4096);
    const x = [1, 2, 3, 4];
    const good = encryptBytes(c.ctx, x);
    const garbage = new Uint8Array(good.length).fill(7);
    const items = Array.from({ length: 10 }, () => ({ x: good, w: [1, 1, 1, 1] }) as Record<string, unknown>);
    items[2] = { x: garbage, w: [1, 1, 1, 1] };
    items[4] = { x: good };
    items[6] = { x: good, w: [1, Number.NaN, 1, 1] };
    items[8] = { x: encryptBytes(other.ctx, x), w: [1, 1, 1, 1] };
    items[9] = { x: [1, 2], w: [1, 1, 1, 1] };
    other.ctx.dispose();

    const results = await pool.runBatch(keySet, dotProgram, items as never);
    expect(results.map(codeOf)).toEqual([
      'ok',
      'ok',
      'E_BAD_SERIALIZATION',
      'ok',
      'E_BAD_PROGRAM',
      'ok',
      'E_NOT_FINITE',
      'ok',
      expect.stringMatching(/^E_(PARAMS_MISMATCH|BAD_SERIALIZATION)$/),
      'E_BAD_PROGRAM',
    ]);
    for (const i of [0, 1, 3, 5, 7]) expect(decrypt(c.ctx, outputsOf(results[i]).outputs.z)[0]).toBeCloseTo(10, 4);
  });

  it('caches reusable step results and uploaded operands, and reuses them loaded in the workers', async () => {
    const keySet = await pool.addKeySet(c.keySet);
    const doubled: Program = {
      inputs: { x: 'vector', w: 'plain' },
      steps: [
        { out: 'twice', op: 'mul', args: ['x', { const: 2 }], reusable: true },
        { out: 'z', op: 'dot', args: ['twice', 'w'] },
      ],
      outputs: ['z'],
    };
    const x = [1, -2, 3, 0.5];
    const w = [0.5, 0.5, 1, 2];
    const [first] = await pool.runBatch(keySet, doubled, [{ x: encryptBytes(c.ctx, x), w }]);
    const { outputs, cached } = outputsOf(first);
    expect(Object.keys(outputs)).toEqual(['z']);
    expect(decrypt(c.ctx, outputs.z)[0]).toBeCloseTo(2 * dot(x, w), 4);
    expect(cached.twice).toMatch(/^ct_[0-9a-f]{40}$/);
    // The cached step result is an operand like any other: its bytes decrypt to 2x.
    const entry = pool.cache.get(cached.twice);
    expect(
      decrypt(c.ctx, new Uint8Array(entry!.bytes))
        .slice(0, 4)
        .map((v) => Math.round(v * 1e4) / 1e4),
    ).toEqual(x.map((v) => 2 * v));

    // Reusable values are cached as hefty envelopes even when outputs are asked for as bare SEAL bytes.
    const [asSeal] = await pool.runBatch(keySet, doubled, [{ x: encryptBytes(c.ctx, x), w }], { format: 'seal' });
    expect(outputsOf(asSeal).outputs.z[0]).toBe(0x5e);
    expect(pool.cache.get(outputsOf(asSeal).cached.twice)?.bytes.subarray(0, 4)).toEqual(
      new Uint8Array([0x48, 0x46, 0x56, 0x31]), // "HFV1"
    );

    const uploaded = pool.cache.put(encryptBytes(c.ctx, x), { id: 'my-operand' });
    expect(uploaded).toBe('my-operand');
    const before = await operandLoads();
    const reuse = await pool.runBatch(keySet, dotProgram, [
      ...Array.from({ length: 20 }, () => ({ x: { cached: cached.twice }, w })),
      ...Array.from({ length: 20 }, () => ({ x: { cached: 'my-operand' }, w })),
      { x: { cached: 'never-cached' }, w },
    ]);
    reuse.slice(0, 20).forEach((r) => expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(2 * dot(x, w), 4));
    reuse.slice(20, 40).forEach((r) => expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(dot(x, w), 4));
    expect(codeOf(reuse[40])).toBe('E_NOT_FOUND');
    const after = await operandLoads();
    // Each worker deserializes an operand at most once; the rest are hits on the loaded copy.
    expect(after.miss - before.miss).toBeLessThanOrEqual(2 * pool.workers);
    expect(after.hit - before.hit).toBeGreaterThanOrEqual(40 - 2 * pool.workers);
  });

  it('bounds the operands a worker keeps loaded; an operand evicted mid-job stays valid until the job ends', async () => {
    const x = [1, 2, 3];
    const y = [10, 20, 30];
    const [bx, by] = [encryptBytes(c.ctx, x), encryptBytes(c.ctx, y)];
    const small = await createPool({ workers: 1, workerCacheBytes: bx.byteLength + 1 });
    try {
      const keySet = await small.addKeySet(c.keySet);
      const [ix, iy] = [small.cache.put(bx), small.cache.put(by)];
      const sum: Program = {
        inputs: { x: 'vector', y: 'vector' },
        steps: [{ out: 'z', op: 'add', args: ['x', 'y'] }],
        outputs: ['z'],
      };
      const results = await small.runBatch(
        keySet,
        sum,
        Array.from({ length: 6 }, () => ({ x: { cached: ix }, y: { cached: iy } })),
      );
      for (const r of results) {
        expect(
          decrypt(c.ctx, outputsOf(r).outputs.z)
            .slice(0, 3)
            .map((v) => Math.round(v * 1e3) / 1e3),
        ).toEqual([11, 22, 33]);
      }
      // Only one of the two fits: each item loads x (evicting y) then y (evicting x).
      const metric = await small.metrics.inputLoad.get();
      const hits = metric.values.find(
        (v) => v.metricName === 'hefty_pool_input_load_seconds_count' && v.labels.source === 'cache-hit',
      );
      expect(hits?.value ?? 0).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('registers key sets by content, refuses bad ones, and checks key-set ids', async () => {
    const a = await pool.addKeySet(c.keySet);
    const b = await pool.addKeySet(new Uint8Array(c.keySet));
    expect(a.id).toBe(b.id);
    expect(a.info).toMatchObject({ scheme: 'ckks', polyModulusDegree: 8192, slotCount: 4096, hasRelinKeys: true });
    await expectHeftyErrorAsync(pool.addKeySet(new Uint8Array([0x48, 0x46, 0x4b, 0x53, 1, 0])), 'E_BAD_SERIALIZATION');
    const withSecret = { ...c.ctx.exportKeySet(), secretKey: c.ctx.exportSecretKey() };
    await expectHeftyErrorAsync(pool.addKeySet(withSecret), 'E_SECRET_KEY_REFUSED');
    await expectHeftyErrorAsync(pool.runBatch('ks_unknown', dotProgram, []), 'E_NOT_FOUND');
    await expectHeftyErrorAsync(pool.runBatch(a, { inputs: {}, steps: [], outputs: [] }, []), 'E_BAD_PROGRAM');
    // A bundle with the evaluation keys beside it is the same key set as its envelope.
    const { params, publicKey, relinKeys, galoisKeys } = c.ctx.exportKeySet();
    const split = await pool.addKeySet({ params, publicKey }, { relin: relinKeys, galois: galoisKeys });
    expect(split.id).toBe(a.id);
    const extended = await pool.addKeySet(encodeKeySet({ params, publicKey, relinKeys }), { galois: galoisKeys });
    expect(extended.id).toBe(a.id);
    for (const bad of [{ workers: 0 }, { maxQueue: -1 }, { cacheBytes: 1.5 }, { workers: Infinity }]) {
      await expectHeftyErrorAsync(createPool(bad), 'E_INVALID_ARGUMENT');
    }
  });

  it('counts key-set references: a removed id stops resolving, a handle keeps working', async () => {
    const { params, publicKey, galoisKeys } = c.ctx.exportKeySet();
    const bytes = encodeKeySet({ params, publicKey, galoisKeys }); // no relin keys: a key set of its own
    const first = await pool.addKeySet(bytes);
    const second = await pool.addKeySet(bytes);
    const registered = pool.stats().keySets;
    const item = { x: encryptBytes(c.ctx, [1, 2]), w: [3, 4] };
    pool.removeKeySet(first);
    expect(codeOf((await pool.runBatch(first.id, dotProgram, [item]))[0])).toBe('ok');
    pool.removeKeySet(second);
    expect(pool.stats().keySets).toBe(registered - 1);
    await expectHeftyErrorAsync(pool.runBatch(first.id, dotProgram, [item]), 'E_NOT_FOUND');
    const [late] = await pool.runBatch(second, dotProgram, [item]);
    expect(decrypt(c.ctx, outputsOf(late).outputs.z)[0]).toBeCloseTo(11, 4);
  });

  it('exposes queue, worker, job, per-op and cache metrics', async () => {
    const text = await pool.metrics.registry.metrics();
    for (const name of [
      'hefty_pool_queue_depth 0',
      'hefty_pool_active_workers 0',
      'hefty_pool_workers 2',
      'hefty_pool_op_duration_seconds_count{op="dot",backend=',
      'hefty_pool_op_duration_seconds_count{op="matvec",backend=',
      'hefty_pool_job_duration_seconds_count{backend=',
      'hefty_pool_worker_heap_bytes{worker=',
      'hefty_pool_cache_hits_total ',
      'hefty_pool_cache_bytes ',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('runs on the WASM engine inside workers too', async () => {
    const wasm = await createPool({ workers: 1, backend: 'wasm' });
    try {
      const keySet = await wasm.addKeySet(c.keySet);
      expect(keySet.info.backend).toBe('wasm');
      const x = [0.25, 1, -1, 2];
      const results = await wasm.runBatch(
        keySet,
        dotProgram,
        Array.from({ length: 4 }, () => ({ x: encryptBytes(c.ctx, x), w: [1, 2, 3, 4] })),
      );
      for (const r of results) expect(decrypt(c.ctx, outputsOf(r).outputs.z)[0]).toBeCloseTo(dot(x, [1, 2, 3, 4]), 4);
      expect(await wasm.metrics.registry.metrics()).toContain('backend="wasm"');
    } finally {
      await wasm.close();
    }
  });
});

async function operandLoads(): Promise<{ hit: number; miss: number }> {
  const metric = await pool.metrics.inputLoad.get();
  const count = (source: string): number =>
    metric.values
      .filter((v) => v.metricName === 'hefty_pool_input_load_seconds_count' && v.labels.source === source)
      .reduce((sum, v) => sum + v.value, 0);
  return { hit: count('cache-hit'), miss: count('deserialized') };
}
