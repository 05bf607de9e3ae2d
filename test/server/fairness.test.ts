/**
 * Two tenants on one service: an abusive tenant's excess is refused (429) while the other tenant's requests
 * are served, and served ahead of the abusive tenant's backlog; output limits and the cost budget refuse
 * before anything is queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import type { Program } from '../../src/api/program.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import { auth, BOB, decryptFirst, dotProgram, dotReference, octet, smallClient, tempDir, testApp } from './fixtures.ts';

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let ctx: HeftyContext;
let keySet: Uint8Array;
const ids: Record<string, string> = {};

/** Several rotations: long enough that requests overlap. */
const heavyProgram: Program = {
  inputs: { x: 'vector' },
  steps: ['a', 'b', 'c', 'd', 'e', 'f'].map((out) => ({ out, op: 'sum', args: ['x'] }) as const),
  outputs: ['a', 'f'],
};

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path, {
    workers: 1,
    tenantMaxInFlight: 3,
    maxQueue: 32,
    tenantCostPerMinute: 2000,
    cacheBytes: 4 << 20,
    tenantCacheBytes: 2 << 20,
  });
  const client = await smallClient();
  ctx = client.ctx;
  keySet = client.keySet;
  for (const key of [undefined, BOB]) {
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/keysets',
      headers: { ...auth(key), ...octet },
      payload: Buffer.from(keySet),
    });
    expect(upload.statusCode).toBe(201);
    ids[key ?? 'alice'] = upload.json().id;
  }
});

afterAll(async () => {
  await app.close();
  ctx.dispose();
  dir.remove();
});

function encrypted(values: number[]): string {
  const v = ctx.encrypt(values);
  try {
    return Buffer.from(v.serialize()).toString('base64');
  } finally {
    v.dispose();
  }
}

describe('per-tenant ciphertext cache quotas', () => {
  it("one tenant's junk uploads evict only its own ciphertexts, never another tenant's", async () => {
    const x = randomVector(16, 8);
    const w = randomVector(16, 9);
    const v = ctx.encrypt(x);
    const real = v.serialize();
    v.dispose();
    const bobUpload = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids[BOB]}/ciphertexts`,
      headers: { ...auth(BOB), ...octet },
      payload: Buffer.from(real),
    });
    expect(bobUpload.statusCode).toBe(201);
    // Alice floods the cache with structurally valid junk: 4× the whole cache.
    const flood = Math.ceil((4 * (4 << 20)) / real.length);
    let first = '';
    for (let i = 0; i < flood; i++) {
      const junk = Buffer.from(real);
      junk.writeUInt32LE(i + 1, junk.length - 4);
      const r = await app.inject({
        method: 'POST',
        url: `/v1/keysets/${ids.alice}/ciphertexts`,
        headers: { ...auth(), ...octet },
        payload: junk,
      });
      expect(r.statusCode).toBe(201);
      first ||= r.json().id;
    }
    const stats = app.services.cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4 << 20);
    const bobEval = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids[BOB]}/eval`,
      headers: auth(BOB),
      payload: { program: dotProgram, inputs: { x: { ciphertext: bobUpload.json().id }, w } },
    });
    expect(bobEval.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(bobEval.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
    // Alice's own oldest entries went.
    const aliceFirst = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids.alice}/eval`,
      headers: auth(),
      payload: { program: dotProgram, inputs: { x: { ciphertext: first }, w } },
    });
    expect(aliceFirst.statusCode).toBe(404);
  });
});

describe('fair service between tenants', () => {
  it("refuses the abusive tenant's excess alone and serves the other tenant ahead of its backlog", async () => {
    const x = encrypted(randomVector(16, 3));
    const done: string[] = [];
    const alice = Array.from({ length: 10 }, (_, i) =>
      app
        .inject({
          method: 'POST',
          url: `/v1/keysets/${ids.alice}/eval`,
          headers: auth(),
          payload: { program: heavyProgram, inputs: { x: { bytes: x } } },
        })
        .then((r) => {
          done.push(`alice${i}`);
          return r;
        }),
    );
    // Alice's excess is refused before its body is read: wait for those 7 refusals, then Bob asks.
    const refusals = alice.slice(3);
    const refused = await Promise.all(refusals);
    for (const r of refused) {
      expect(r.statusCode).toBe(429);
      expect(r.json().code).toBe('E_RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const xs = randomVector(16, 4);
    const w = randomVector(16, 5);
    const bob = await app
      .inject({
        method: 'POST',
        url: `/v1/keysets/${ids[BOB]}/eval`,
        headers: auth(BOB),
        payload: { program: dotProgram, inputs: { x: { bytes: encrypted(xs) }, w } },
      })
      .then((r) => {
        done.push('bob');
        return r;
      });
    expect(bob.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(bob.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(xs, w))).toBeLessThan(1e-2);
    const served = await Promise.all(alice.slice(0, 3));
    for (const r of served) expect(r.statusCode).toBe(200);
    // Round-robin: Bob's one request is never last behind all of Alice's queued ones.
    expect(done.indexOf('bob')).toBeLessThan(done.indexOf('alice2'));
  });

  it('refuses programs with too many outputs before running them', async () => {
    const names = Array.from({ length: 256 }, (_, i) => `o${i}`);
    const program = {
      inputs: { x: 'vector' },
      steps: names.map((out) => ({ out, op: 'negate', args: ['x'] })),
      outputs: names,
    };
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids.alice}/eval`,
      headers: auth(),
      payload: { program, inputs: { x: { bytes: encrypted([1]) } } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/outputs/);
  });

  it('charges estimated cost against a per-tenant budget (429 with Retry-After), other tenants unaffected', async () => {
    // A request larger than the whole budget per minute could never run: refused outright.
    const matrix = Array.from({ length: 64 }, (_, i) => Array.from({ length: 2048 }, (_, j) => ((i + j) % 7) / 10));
    const program = {
      inputs: { x: 'vector' },
      steps: [{ out: 'y', op: 'matvec', args: ['x'], matrix }],
      outputs: ['y'],
    };
    const tooBig = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids.alice}/eval`,
      headers: auth(),
      payload: { program, inputs: { x: { bytes: encrypted([1]) } } },
    });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().message).toMatch(/budget/);
    // Batches of 40 dot products (about 1000 units each at N=4096): the first fits, the next must wait.
    const item = { x: { bytes: encrypted(randomVector(16, 8)) }, w: randomVector(16, 9) };
    const batch = () =>
      app.inject({
        method: 'POST',
        url: `/v1/keysets/${ids.alice}/batch`,
        headers: auth(),
        payload: { program: dotProgram, items: Array.from({ length: 40 }, () => item) },
      });
    expect((await batch()).statusCode).toBe(200);
    const response = await batch();
    expect(response.statusCode).toBe(429);
    expect(response.json().code).toBe('E_RATE_LIMITED');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(1);
    const x = randomVector(16, 6);
    const w = randomVector(16, 7);
    const bob = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${ids[BOB]}/eval`,
      headers: auth(BOB),
      payload: { program: dotProgram, inputs: { x: { bytes: encrypted(x) }, w } },
    });
    expect(bob.statusCode).toBe(200);
  });
});

describe('readiness follows the fair gate', () => {
  it('/readyz answers 503 while the admission backlog is full, 200 once it drains', async () => {
    const busyDir = tempDir();
    const busy = await testApp(busyDir.path, { workers: 1, maxQueue: 1, tenantMaxInFlight: 10 });
    try {
      expect((await busy.inject({ url: '/readyz' })).statusCode).toBe(200);
      // One slot plus a backlog of one, held as evaluations would hold them.
      const held = [busy.services.gate.admit('alice'), busy.services.gate.admit('bob')];
      const during = await busy.inject({ url: '/readyz' });
      expect(during.statusCode).toBe(503);
      expect(during.json().admissionBacklog).toBe(1);
      for (const admission of held) admission.release();
      expect((await busy.inject({ url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await busy.close();
      busyDir.remove();
    }
  });
});
