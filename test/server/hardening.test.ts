/**
 * Findings of the adversarial review (issue 14) that need the whole service: input names that shadow Object
 * prototype members, malformed multipart, streaming part limits, per-item batch errors.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import {
  ALICE,
  auth,
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
let keySetId: string;

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path, { workers: 1, maxEvalBodyBytes: 1 << 20 });
  const client = await smallClient();
  ctx = client.ctx;
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/keysets',
    headers: { ...auth(), ...octet },
    payload: Buffer.from(client.keySet),
  });
  expect(upload.statusCode).toBe(201);
  keySetId = upload.json().id;
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

const evalJson = (body: unknown) =>
  app.inject({ method: 'POST', url: `/v1/keysets/${keySetId}/eval`, headers: auth(), payload: body as object });

async function workersLost(): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('hefty_pool_workers_lost_total'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('input names that are Object.prototype members', () => {
  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty'])(
    '"%s": missing → 400 E_BAD_PROGRAM, given → the right result; never a lost worker',
    async (name) => {
      const lostBefore = await workersLost();
      const x = randomVector(8, 7);
      const program = {
        inputs: { x: 'vector', [name]: 'scalar' },
        steps: [{ out: 'y', op: 'mul', args: ['x', name] }],
        outputs: ['y'],
      };
      const missing = await evalJson({ program, inputs: { x: { bytes: encrypted(x) } } });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().code).toBe('E_BAD_PROGRAM');
      const given = await evalJson({ program, inputs: { x: { bytes: encrypted(x) }, [name]: 3 } });
      expect(given.statusCode).toBe(200);
      const y = decryptFirst(ctx, Buffer.from(given.json().outputs.y, 'base64'), 8);
      y.forEach((v, i) => expect(v).toBeCloseTo(3 * x[i], 3));
      expect(await workersLost()).toBe(lostBefore);
    },
  );

  it('an operand object that is neither { ciphertext } nor { bytes } → 400, not 500 (found by the HTTP fuzzer)', async () => {
    for (const x of [{ constructor: 1 }, { toString: 'x' }, {}]) {
      const response = await evalJson({ program: dotProgram, inputs: { x, w: [1, 2] } });
      expect(response.statusCode).toBe(400);
    }
  });

  it('a program output or op that is an object with a non-callable toString → 400 (found by the HTTP fuzzer)', async () => {
    const bad = [
      { ...dotProgram, outputs: [{ toString: 'x' }] },
      { ...dotProgram, steps: [{ out: 'z', op: { toString: 1 }, args: ['x', 'w'] }] },
    ];
    for (const program of bad) {
      const response = await evalJson({ program, inputs: { x: { bytes: encrypted([1]) }, w: [1] } });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('E_BAD_PROGRAM');
    }
  });

  it('refuses "__proto__" as a name', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: `{"program":{"inputs":{"x":"vector","__proto__":"scalar"},"steps":[],"outputs":["x"]},"inputs":{}}`,
    });
    expect(response.statusCode).toBe(400);
  });
});

describe('malformed multipart', () => {
  const multipart = (contentType: string, body: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/keysets/${keySetId}/eval`,
      headers: { ...auth(), 'content-type': contentType },
      payload: body,
    });

  it('no boundary → 400', async () => {
    const response = await multipart(
      'multipart/form-data',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('E_INVALID_ARGUMENT');
  });

  it('truncated part → 400', async () => {
    const response = await multipart(
      'multipart/form-data; boundary=XYZ',
      '--XYZ\r\nContent-Disposition: form-data; name="x"; filename="x"\r\nContent-Type: application/octet-stream\r\n\r\nabc',
    );
    expect(response.statusCode).toBe(400);
  });

  it('truncated key-set upload → 400', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/keysets',
      headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=XYZ' },
      payload: '--XYZ\r\nContent-Disposition: form-data; name="params"; filename="p"\r\n\r\nabc',
    });
    expect(response.statusCode).toBe(400);
  });

  it('garbage headers in a part → 400', async () => {
    const response = await multipart(
      'multipart/form-data; boundary=XYZ',
      '--XYZ\r\n\u0000\u0001garbage\r\n\r\n--XYZ--',
    );
    expect(response.statusCode).toBeLessThan(500);
  });
});

describe('multipart part limits while streaming', () => {
  it('a 16 MiB part on a 1 MiB eval route is refused after about 1 MiB is read, not after all of it', async () => {
    const chunk = Buffer.alloc(64 << 10, 7);
    const chunks = 256; // 16 MiB
    const body = Readable.from(
      (function* () {
        yield Buffer.from('--B\r\nContent-Disposition: form-data; name="x"; filename="x"\r\n\r\n');
        for (let i = 0; i < chunks; i++) yield chunk;
        yield Buffer.from('\r\n--B--\r\n');
      })(),
    );
    // Over a real socket, with backpressure. What the server had read when it answered is its socket's bytesRead
    // then (what the client pushed also fills the kernel's socket buffers, which grow under load).
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    let readWhenAnswered = -1;
    app.server.once('request', (incoming: IncomingMessage, response: ServerResponse) =>
      response.once('finish', () => (readWhenAnswered = incoming.socket.bytesRead)),
    );
    const { status, code } = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/keysets/${keySetId}/eval`,
          headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=B' },
        },
        (response) => {
          body.unpipe(outgoing);
          let text = '';
          response.on('data', (c: Buffer) => (text += c.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, code: JSON.parse(text).code }));
        },
      );
      outgoing.on('error', reject);
      body.pipe(outgoing);
    });
    expect(status).toBe(413);
    expect(code).toBe('E_BODY_TOO_LARGE');
    expect(readWhenAnswered).toBeGreaterThan(1 << 20);
    expect(readWhenAnswered).toBeLessThan(4 << 20);
  });
});

describe('failed authentications', () => {
  it('are rate-limited per client address: 429 with Retry-After, other addresses unaffected', async () => {
    const attempt = (key: string, remoteAddress: string) =>
      app.inject({ url: '/v1/keysets', headers: { authorization: `Bearer ${key}` }, remoteAddress });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await attempt(`wrong-key-${i}-0123456789`, '10.0.0.9')).statusCode);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const blocked = await attempt('wrong-key-x-0123456789', '10.0.0.9');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('E_RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(1);
    // Once blocked, the address cannot try keys at all, right or wrong, until its window ends...
    expect((await attempt(ALICE, '10.0.0.9')).statusCode).toBe(429);
    // ...while another address is served.
    expect((await attempt(ALICE, '10.0.0.10')).statusCode).toBe(200);
  });
});

describe('dot product still correct after the hostile requests', () => {
  it('evaluates', async () => {
    const x = randomVector(16, 1);
    const w = randomVector(16, 2);
    const response = await evalJson({ program: dotProgram, inputs: { x: { bytes: encrypted(x) }, w } });
    expect(response.statusCode).toBe(200);
    const [z] = decryptFirst(ctx, Buffer.from(response.json().outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
  });
});
