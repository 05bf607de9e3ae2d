/**
 * The service on the worker pool (executor: 'pool'): eval and batch through HTTP run on worker threads,
 * decrypt to the reference, and the pool's metrics appear in /metrics. The in-process executor stays selectable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { InProcessExecutor } from '../../src/server/executor.ts';
import { PoolExecutor } from '../../src/server/pool-executor.ts';
import { randomVector } from '../helpers.ts';
import { auth, decryptFirst, dotProgram, dotReference, octet, smallClient, tempDir, testApp } from './fixtures.ts';

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let ctx: HeftyContext;
let keySetId: string;

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path, { executor: 'pool', workers: 2 });
  let keySet: Uint8Array;
  ({ ctx, keySet } = await smallClient());
  const response = await app.inject({
    method: 'POST',
    url: '/v1/keysets',
    headers: { ...auth(), ...octet },
    payload: Buffer.from(keySet),
  });
  expect(response.statusCode).toBe(201);
  keySetId = response.json().id;
});

afterAll(async () => {
  await app?.close();
  ctx?.dispose();
  dir?.remove();
});

const encrypted = (x: number[]): string => {
  const v = ctx.encrypt(x);
  try {
    return Buffer.from(v.serialize()).toString('base64');
  } finally {
    v.dispose();
  }
};

describe('service on the worker pool', () => {
  it('uses the pool executor', () => {
    expect(app.services.executor).toBeInstanceOf(PoolExecutor);
    expect(app.services.executor.metricsRegistry).toBeDefined();
  });

  it('evaluates uploaded and inline operands on workers', async () => {
    const x = randomVector(16, 21);
    const w = randomVector(16, 22);
    const upload = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/ciphertexts`,
      headers: { ...auth(), ...octet },
      payload: Buffer.from(encrypted(x), 'base64'),
    });
    expect(upload.statusCode).toBe(201);
    const byId = { ciphertext: upload.json().id };
    for (const input of [byId, byId, byId, byId, { bytes: encrypted(x) }]) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/keysets/${keySetId}/eval`,
        headers: auth(),
        payload: { program: dotProgram, inputs: { x: input, w } },
      });
      expect(response.statusCode).toBe(200);
      const [z] = decryptFirst(ctx, Buffer.from(response.json().outputs.z, 'base64'), 1);
      expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
    }
    // The uploaded operand is deserialized at most once per worker; later evaluations find it loaded.
    const text = (await app.inject({ url: '/metrics' })).body;
    const count = (source: string): number =>
      [...text.matchAll(new RegExp(`hefty_pool_input_load_seconds_count\\{source="${source}"[^}]*\\} (\\d+)`, 'g'))]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    expect(count('cache-hit')).toBeGreaterThanOrEqual(2);
    expect(count('deserialized')).toBeLessThanOrEqual(3);
  });

  it('runs a batch on workers with per-item errors isolated', async () => {
    const xs = Array.from({ length: 12 }, (_, i) => randomVector(16, 100 + i));
    const w = randomVector(16, 7);
    const items: unknown[] = xs.map((x) => ({ x: { bytes: encrypted(x) }, w }));
    items[3] = { x: (items[0] as { x: unknown }).x, w: [1, 2] };
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/batch`,
      headers: auth(),
      payload: { program: dotProgram, items },
    });
    expect(response.statusCode).toBe(200);
    const { results } = response.json();
    expect(results).toHaveLength(12);
    expect(results[3].error.code).toBe('E_LENGTH_MISMATCH');
    results.forEach((r: { outputs?: { z: string } }, i: number) => {
      if (i === 3) return;
      const [z] = decryptFirst(ctx, Buffer.from(r.outputs!.z, 'base64'), 1);
      expect(Math.abs(z - dotReference(xs[i], w))).toBeLessThan(1e-2);
    });
  });

  it('merges the pool metrics into /metrics, with one op-duration metric for both executors', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/hefty_pool_workers 2/);
    expect(text).not.toContain('hefty_pool_op_duration_seconds');
    expect(text).toMatch(/hefty_pool_job_duration_seconds_count\{backend="(native|wasm)",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/hefty_op_duration_seconds_count\{op="dot",backend="(native|wasm)"\} [1-9]/);
    expect(text).toMatch(/hefty_executor_loaded_keysets 1/);
  });

  it('unloads a deleted key set', async () => {
    const deleted = await app.inject({ method: 'DELETE', url: `/v1/keysets/${keySetId}`, headers: auth() });
    expect(deleted.statusCode).toBeLessThan(300);
    expect(app.services.executor.stats().loadedKeySets).toBe(0);
  });
});

it("keeps the in-process executor selectable with executor: 'inline'", async () => {
  const inline = tempDir();
  const other = await testApp(inline.path, { executor: 'inline' });
  const { ctx: client, keySet } = await smallClient();
  try {
    expect(other.services.executor).toBeInstanceOf(InProcessExecutor);
    const id = (
      await other.inject({
        method: 'POST',
        url: '/v1/keysets',
        headers: { ...auth(), ...octet },
        payload: Buffer.from(keySet),
      })
    ).json().id;
    const x = randomVector(8, 31);
    const v = client.encrypt(x);
    const upload = await other.inject({
      method: 'POST',
      url: `/v1/keysets/${id}/ciphertexts`,
      headers: { ...auth(), ...octet },
      payload: Buffer.from(v.serialize()),
    });
    v.dispose();
    const response = await other.inject({
      method: 'POST',
      url: `/v1/keysets/${id}/eval`,
      headers: auth(),
      payload: { program: dotProgram, inputs: { x: { ciphertext: upload.json().id }, w: x } },
    });
    expect(response.statusCode).toBe(200);
    const [z] = decryptFirst(client, Buffer.from(response.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, x))).toBeLessThan(1e-2);
  } finally {
    client.dispose();
    await other.close();
    inline.remove();
  }
});
