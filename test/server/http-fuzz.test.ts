/**
 * HTTP mutation fuzzer: valid requests for every route (key sets, ciphertexts, eval as JSON and multipart,
 * batch), mutated at the JSON-structure, byte, header and path level. No answer may be a 5xx, and the service
 * must still evaluate correctly afterwards. Short in CI; HEFTY_HTTP_FUZZ_ITERATIONS=100000 for a campaign
 * (HEFTY_HTTP_FUZZ_SEED picks the sequence; a failure prints the request that caused it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import { auth, decryptFirst, dotProgram, dotReference, octet, smallClient, tempDir, testApp } from './fixtures.ts';

const ITERATIONS = Number(process.env.HEFTY_HTTP_FUZZ_ITERATIONS ?? 300);
const SEED = Number(process.env.HEFTY_HTTP_FUZZ_SEED ?? 0x5eed);

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let ctx: HeftyContext;
let keySet: Uint8Array;
let keySetId: string;
let ciphertextId: string;
let encrypted: Uint8Array;

/** xorshift32: a reproducible stream for a given seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path, {
    workers: 1,
    tenantCostPerMinute: 1e12,
    maxRequestCost: 1e9,
    rateLimitPerMinute: 1e9,
  });
  const client = await smallClient();
  ctx = client.ctx;
  keySet = client.keySet;
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/keysets',
    headers: { ...auth(), ...octet },
    payload: Buffer.from(keySet),
  });
  keySetId = upload.json().id;
  const v = ctx.encrypt(randomVector(16, 1));
  encrypted = v.serialize();
  v.dispose();
  const ct = await app.inject({
    method: 'POST',
    url: `/v1/keysets/${keySetId}/ciphertexts`,
    headers: { ...auth(), ...octet },
    payload: Buffer.from(encrypted),
  });
  ciphertextId = ct.json().id;
});

afterAll(async () => {
  await app.close();
  ctx.dispose();
  dir.remove();
});

interface Seed {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

function seeds(): Seed[] {
  const b64 = Buffer.from(encrypted).toString('base64');
  const evalBody = { program: dotProgram, inputs: { x: { bytes: b64 }, w: randomVector(16, 2) } };
  return [
    { method: 'POST', url: `/v1/keysets/${keySetId}/eval`, headers: auth(), body: evalBody },
    {
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: auth(),
      body: { ...evalBody, inputs: { x: { ciphertext: ciphertextId }, w: [1, 2] } },
    },
    {
      method: 'POST',
      url: `/v1/keysets/${keySetId}/batch`,
      headers: auth(),
      body: { program: dotProgram, items: [evalBody.inputs, evalBody.inputs] },
    },
    { method: 'POST', url: `/v1/keysets/${keySetId}/ciphertexts`, headers: { ...auth(), ...octet }, body: encrypted },
    { method: 'POST', url: '/v1/keysets?name=fuzz', headers: { ...auth(), ...octet }, body: keySet },
    { method: 'GET', url: `/v1/keysets/${keySetId}`, headers: auth() },
    { method: 'GET', url: '/v1/keysets', headers: auth() },
    {
      method: 'GET',
      url: `/v1/keysets?limit=1&cursor=${Buffer.from(`1.${keySetId}`).toString('base64url')}`,
      headers: auth(),
    },
    { method: 'DELETE', url: `/v1/keysets/ks_${'0'.repeat(32)}`, headers: auth() },
  ];
}

const NASTY: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  '',
  'x',
  'A'.repeat(5000),
  [],
  {},
  [[[[[[]]]]]],
  { constructor: 1 },
  { toString: 'x' },
  { valueOf: [] },
  ['constructor'],
  { __proto__: { polluted: 1 } },
  { ciphertext: 'ct_' + 'f'.repeat(40) },
  { bytes: '!!!' },
  { bytes: 'AAAA' },
  'constructor',
  '__proto__',
];

function mutateJson(value: unknown, random: () => number, depth = 0): unknown {
  if (depth > 6 || random() < 0.25) return NASTY[Math.floor(random() * NASTY.length)];
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.1) return [...value, NASTY[Math.floor(random() * NASTY.length)]];
    const copy = [...value];
    const i = Math.floor(random() * copy.length);
    copy[i] = mutateJson(copy[i], random, depth + 1);
    return random() < 0.1 ? copy.reverse() : copy;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = random();
    if (keys.length === 0 || r < 0.1)
      copy[['constructor', 'toString', 'x', 'valueOf', 'hasOwnProperty'][Math.floor(random() * 5)]] =
        NASTY[Math.floor(random() * NASTY.length)];
    else if (r < 0.2) delete copy[keys[Math.floor(random() * keys.length)]];
    else {
      const k = keys[Math.floor(random() * keys.length)];
      copy[k] = mutateJson(copy[k], random, depth + 1);
    }
    return copy;
  }
  return NASTY[Math.floor(random() * NASTY.length)];
}

function mutateBytes(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const r = random();
  if (r < 0.3) return out.subarray(0, Math.floor(random() * out.length));
  const flips = 1 + Math.floor(random() * 16);
  for (let i = 0; i < flips; i++) {
    // Headers are where the structure is: bias towards the first bytes.
    const at = random() < 0.6 ? Math.floor(random() * Math.min(out.length, 256)) : Math.floor(random() * out.length);
    out[at] = random() < 0.5 ? out[at] ^ (1 << Math.floor(random() * 8)) : Math.floor(random() * 256);
  }
  return out;
}

function multipartOf(
  json: string,
  parts: Record<string, Uint8Array>,
  random: () => number,
): { body: Buffer; type: string } {
  const boundary = 'fuzz' + Math.floor(random() * 1e9);
  const chunks: Buffer[] = [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n${json}\r\n`),
  ];
  for (const [name, bytes] of Object.entries(parts)) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.from(bytes), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(chunks);
  const cut = random() < 0.3 ? body.subarray(0, Math.floor(random() * body.length)) : body;
  const type = random() < 0.15 ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`;
  return { body: cut, type };
}

describe('HTTP mutation fuzzing', () => {
  it(
    `${ITERATIONS} mutated requests: never a 5xx`,
    async () => {
      const random = prng(SEED);
      const base = seeds();
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      for (let i = 0; i < ITERATIONS && failures.length < 5; i++) {
        const seed = base[Math.floor(random() * base.length)];
        const headers: Record<string, string> = { ...seed.headers };
        let payload: string | Buffer | undefined;
        let url = seed.url;
        const kind = random();
        if (seed.body instanceof Uint8Array) payload = Buffer.from(mutateBytes(seed.body, random));
        else if (seed.body !== undefined && kind < 0.2) {
          const { body, type } = multipartOf(
            JSON.stringify(mutateJson(seed.body, random)),
            { x: mutateBytes(encrypted, random) },
            random,
          );
          payload = body;
          headers['content-type'] = type;
        } else if (seed.body !== undefined && kind < 0.3) {
          const text = JSON.stringify(seed.body);
          payload = text.slice(0, Math.floor(random() * text.length));
          headers['content-type'] = 'application/json';
        } else if (seed.body !== undefined) {
          payload = JSON.stringify(mutateJson(seed.body, random));
          headers['content-type'] = 'application/json';
        }
        if (random() < 0.1)
          headers['content-type'] = [
            'text/plain',
            'application/json; charset=utf-16',
            'multipart/mixed',
            '',
            'application/octet-stream',
          ][Math.floor(random() * 5)];
        if (random() < 0.05) headers['x-request-id'] = 'Z'.repeat(Math.floor(random() * 9000));
        if (random() < 0.05)
          url = url.replace(
            keySetId,
            ['ks_', '..', '%00', 'ks_' + 'z'.repeat(32), 'constructor'][Math.floor(random() * 5)],
          );
        if (random() < 0.05)
          url += [
            '?ttlSeconds=-1',
            '?name=' + 'n'.repeat(500),
            '?ttlSeconds=1e99',
            '?__proto__=1',
            '?limit=1e9',
            '?cursor=%FF%FE',
            '?cursor=' + 'A'.repeat(129),
            '?limit=0&cursor=',
          ][Math.floor(random() * 8)];
        const response = await app.inject({
          method: seed.method,
          url,
          headers,
          ...(payload === undefined ? {} : { payload }),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (response.statusCode >= 500) {
          failures.push(
            `#${i} ${seed.method} ${url} ${headers['content-type'] ?? ''} → ${response.statusCode} ${response.body.slice(0, 200)}\n  body: ${String(payload).slice(0, 300)}`,
          );
        }
      }
      expect(failures).toEqual([]);
      // The corpus reaches past validation: some mutated requests are still served.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    },
    Math.max(120_000, ITERATIONS * 100),
  );

  it('still evaluates correctly afterwards', async () => {
    const x = randomVector(16, 3);
    const w = randomVector(16, 4);
    const v = ctx.encrypt(x);
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: auth(),
      payload: { program: dotProgram, inputs: { x: { bytes: Buffer.from(v.serialize()).toString('base64') }, w } },
    });
    v.dispose();
    expect(response.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(response.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
  });
});
