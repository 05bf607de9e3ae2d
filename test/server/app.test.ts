/** The HTTP API through app.inject: key sets, ciphertexts, eval, batch, tenants, rotation, quotas, metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { buildApp } from '../../src/server/app.ts';
import { InProcessExecutor } from '../../src/server/executor.ts';
import { randomVector } from '../helpers.ts';
import {
  API_KEYS,
  auth,
  BOB,
  decryptFirst,
  dotProgram,
  dotReference,
  octet,
  smallClient,
  tempDir,
  testApp,
} from './fixtures.ts';

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let ctx: HeftyContext;
let keySet: Uint8Array;
let keySetId: string;

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path);
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

describe('key sets', () => {
  it('describes the uploaded key set and lists it for its tenant only', async () => {
    const record = (await app.inject({ url: `/v1/keysets/${keySetId}`, headers: auth() })).json();
    expect(record).toMatchObject({
      id: keySetId,
      size: keySet.length,
      info: { scheme: 'ckks', polyModulusDegree: 4096 },
    });
    expect(record.info.galoisElements).toBe(11);
    const mine = (await app.inject({ url: '/v1/keysets', headers: auth() })).json();
    expect(mine.keysets.map((k: { id: string }) => k.id)).toContain(keySetId);
    const theirs = (await app.inject({ url: '/v1/keysets', headers: auth(BOB) })).json();
    expect(theirs.keysets).toEqual([]);
  });

  it('hides one tenant’s key sets from another (404, not 403)', async () => {
    const response = await app.inject({ url: `/v1/keysets/${keySetId}`, headers: auth(BOB) });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('E_NOT_FOUND');
    const evalResponse = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: auth(BOB),
      payload: { program: dotProgram, inputs: { x: { bytes: 'AAAA' }, w: [1] } },
    });
    expect(evalResponse.statusCode).toBe(404);
  });

  it('requires an API key', async () => {
    const none = await app.inject({ url: '/v1/keysets' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: 'E_UNAUTHORIZED', message: expect.any(String) });
    const wrong = await app.inject({ url: '/v1/keysets', headers: auth('not-a-valid-key-000000') });
    expect(wrong.statusCode).toBe(401);
  });

  it('rotates: a new key set under the same name replaces the old one, which stays readable', async () => {
    const first = await smallClient();
    const second = await smallClient();
    try {
      const up = (bytes: Uint8Array) =>
        app.inject({
          method: 'POST',
          url: '/v1/keysets?name=rotating',
          headers: { ...auth(BOB), ...octet },
          payload: Buffer.from(bytes),
        });
      const a = (await up(first.keySet)).json();
      const b = (await up(second.keySet)).json();
      expect(a.id).not.toBe(b.id);
      const old = (await app.inject({ url: `/v1/keysets/${a.id}`, headers: auth(BOB) })).json();
      expect(old.replacedBy).toBe(b.id);
      expect(Date.parse(old.expiresAt)).toBeLessThanOrEqual(Date.now() + 24 * 3600_000 + 1000);
      expect((await app.inject({ method: 'DELETE', url: `/v1/keysets/${a.id}`, headers: auth(BOB) })).statusCode).toBe(
        204,
      );
      expect((await app.inject({ url: `/v1/keysets/${a.id}`, headers: auth(BOB) })).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: `/v1/keysets/${b.id}`, headers: auth(BOB) })).statusCode).toBe(
        204,
      );
    } finally {
      first.ctx.dispose();
      second.ctx.dispose();
    }
  });
});

describe('evaluation', () => {
  it('evaluates a dot product over an uploaded ciphertext and over inline bytes', async () => {
    const x = randomVector(100, 1);
    const w = randomVector(100, 2);
    const encrypted = ctx.encrypt(x);
    const bytes = encrypted.serialize();
    encrypted.dispose();
    const upload = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/ciphertexts`,
      headers: { ...auth(), ...octet },
      payload: Buffer.from(bytes),
    });
    expect(upload.statusCode).toBe(201);
    const ciphertextId = upload.json().id;
    for (const operand of [{ ciphertext: ciphertextId }, { bytes: Buffer.from(bytes).toString('base64') }]) {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/keysets/${keySetId}/eval`,
        headers: auth(),
        payload: { program: dotProgram, inputs: { x: operand, w } },
      });
      expect(response.statusCode).toBe(200);
      const [z] = decryptFirst(ctx, Buffer.from(response.json().outputs.z, 'base64'), 1);
      expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
    }
    // Another tenant cannot use the ciphertext id.
    const stolen = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: auth(),
      payload: { program: dotProgram, inputs: { x: { ciphertext: 'ct_' + '0'.repeat(40) }, w } },
    });
    expect(stolen.statusCode).toBe(404);
  });

  it('returns raw bytes for one output when asked for application/octet-stream', async () => {
    const x = [1, 2, 3];
    const encrypted = ctx.encrypt(x);
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: { ...auth(), accept: 'application/octet-stream' },
      payload: {
        program: dotProgram,
        inputs: { x: { bytes: Buffer.from(encrypted.serialize()).toString('base64') }, w: [1, 1, 1] },
      },
    });
    encrypted.dispose();
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['x-hefty-output']).toBe('z');
    expect(decryptFirst(ctx, response.rawPayload, 1)[0]).toBeCloseTo(6, 2);
  });

  it('runs a batch in order with per-item errors isolated', async () => {
    const items = [randomVector(16, 3), randomVector(16, 4)];
    const w = randomVector(16, 5);
    const payloadItems: unknown[] = items.map((x) => {
      const v = ctx.encrypt(x);
      const b64 = Buffer.from(v.serialize()).toString('base64');
      v.dispose();
      return { x: { bytes: b64 }, w };
    });
    payloadItems.splice(1, 0, { x: { bytes: 'AAAAAAAA' }, w });
    // A malformed item (refused before evaluation) fails only its own item...
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/batch`,
      headers: auth(),
      payload: { program: dotProgram, items: [...payloadItems, { x: { ciphertext: `ct_${'0'.repeat(40)}` }, w }] },
    });
    expect(response.statusCode).toBe(200);
    const refused = response.json().results;
    expect(refused).toHaveLength(4);
    expect(refused[1].error.code).toBe('E_BAD_SERIALIZATION');
    expect(refused[3].error.code).toBe('E_NOT_FOUND');
    expect(refused[0].outputs.z).toBeTypeOf('string');
    expect(refused[2].outputs.z).toBeTypeOf('string');
    // ...and so does a per-item evaluation error (wrong length).
    payloadItems[1] = { x: (payloadItems[0] as { x: unknown }).x, w: [1, 2] };
    const ok = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/batch`,
      headers: auth(),
      payload: { program: dotProgram, items: payloadItems },
    });
    expect(ok.statusCode).toBe(200);
    const { results } = ok.json();
    expect(results).toHaveLength(3);
    expect(results[1].error.code).toBe('E_LENGTH_MISMATCH');
    for (const [k, index] of [
      [0, 0],
      [1, 2],
    ] as const) {
      const [z] = decryptFirst(ctx, Buffer.from(results[index].outputs.z, 'base64'), 1);
      expect(Math.abs(z - dotReference(items[k], w))).toBeLessThan(1e-2);
    }
  });
});

describe('operations', () => {
  it('exposes HTTP, op, pool and cache metrics', async () => {
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(
      /hefty_http_requests_total\{method="POST",route="\/v1\/keysets\/:id\/eval",status="200"\} [1-9]/,
    );
    expect(text).toMatch(/hefty_op_duration_seconds_count\{op="dot",backend="(native|wasm)"\} [1-9]/);
    expect(text).toMatch(/hefty_executor_queue_depth 0/);
    expect(text).toMatch(/hefty_upload_cache_hits_total [1-9]/);
    expect(text).toMatch(/hefty_upload_cache_misses_total [1-9]/);
    expect(text).toMatch(/hefty_upload_cache_bytes [1-9]/);
  });

  it('serves health, readiness, an OpenAPI document, request ids and security headers', async () => {
    const health = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['x-request-id']).toBe('trace-123');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const docs = (await app.inject({ url: '/docs/json' })).json();
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/v1/keysets',
        '/v1/keysets/{id}/eval',
        '/v1/keysets/{id}/batch',
        '/v1/keysets/{id}/ciphertexts',
      ]),
    );
  });

  it('enforces the tenant quota', async () => {
    const small = tempDir();
    const limited = await testApp(small.path, { tenantQuotaBytes: keySet.length + 10 });
    try {
      const up = () =>
        limited.inject({
          method: 'POST',
          url: '/v1/keysets',
          headers: { ...auth(), ...octet },
          payload: Buffer.from(keySet),
        });
      expect((await up()).statusCode).toBe(201);
      const other = await smallClient(false);
      const second = await limited.inject({
        method: 'POST',
        url: '/v1/keysets',
        headers: { ...auth(), ...octet },
        payload: Buffer.from(other.keySet),
      });
      other.ctx.dispose();
      expect(second.statusCode).toBe(413);
      expect(second.json().code).toBe('E_QUOTA_EXCEEDED');
    } finally {
      await limited.close();
      small.remove();
    }
  });

  it('sheds load past the queue with 503 E_OVERLOADED and Retry-After', async () => {
    const busyDir = tempDir();
    const executor = new InProcessExecutor({ backend: 'auto', maxLoadedKeySets: 2, maxQueue: 1, jobTimeoutMs: 60_000 });
    const shedding = await buildApp(
      { dataDir: busyDir.path, apiKeys: API_KEYS, logLevel: 'silent', maxQueue: 1 },
      { executor },
    );
    try {
      const id = (
        await shedding.inject({
          method: 'POST',
          url: '/v1/keysets',
          headers: { ...auth(), ...octet },
          payload: Buffer.from(keySet),
        })
      ).json().id;
      const v = ctx.encrypt(randomVector(8, 9));
      const payload = {
        program: dotProgram,
        inputs: { x: { bytes: Buffer.from(v.serialize()).toString('base64') }, w: randomVector(8, 10) },
      };
      v.dispose();
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          shedding.inject({ method: 'POST', url: `/v1/keysets/${id}/eval`, headers: auth(), payload }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode).sort();
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      const shed = responses.filter((r) => r.statusCode === 503);
      expect(shed.length).toBeGreaterThanOrEqual(1);
      // Retry-After comes from the measured drain rate: whole seconds, at least 1.
      expect(Number(shed[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(shed[0].json().code).toBe('E_OVERLOADED');
    } finally {
      await shedding.close();
      busyDir.remove();
    }
  });
});
