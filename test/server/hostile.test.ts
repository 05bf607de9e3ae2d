/**
 * Hostile input over real loopback HTTP: every bad request gets its 4xx code, and the process keeps serving
 * correct results afterwards.
 */
import { connect } from 'node:net';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, encodeKeySet } from '../../src/index.ts';
import type { HeftyContext } from '../../src/api/context.ts';
import type { CKKSVector } from '../../src/api/ckks-vector.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import {
  ALICE,
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

const MAX_KEYSET = 8 << 20;
const MAX_CIPHERTEXT = 1 << 20;

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let base: string;
let port: number;
let ctx: HeftyContext;
let keySet: Uint8Array;
let keySetId: string;

async function post(path: string, body: RequestInit['body'], headers: Record<string, string> = {}, key = ALICE) {
  const response = await fetch(`${base}${path}`, { method: 'POST', body, headers: { ...auth(key), ...headers } });
  const text = await response.text();
  let json: { code?: string } = {};
  try {
    json = JSON.parse(text);
  } catch {
    // some error bodies are checked by status only
  }
  return { status: response.status, code: json.code, json, headers: response.headers };
}

const postBytes = (path: string, bytes: Uint8Array, key = ALICE) =>
  post(path, bytes as Uint8Array<ArrayBuffer>, octet, key);

const evalJson = (body: unknown, id = keySetId, key = ALICE) =>
  post(`/v1/keysets/${id}/eval`, JSON.stringify(body), { 'content-type': 'application/json' }, key);

function encryptedB64(values: number[], context: HeftyContext = ctx, format: 'hefty' | 'seal' = 'hefty'): string {
  const v = context.encrypt(values) as CKKSVector;
  try {
    return Buffer.from(v.serialize(format)).toString('base64');
  } finally {
    v.dispose();
  }
}

/** Sends raw HTTP and returns the status line's code (or 'closed' when the server hung up first). */
function rawRequest(head: string, body: Buffer, destroyAfterWrite = false): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on('error', () => resolve('closed'));
    socket.on('close', () => resolve('closed'));
    socket.write(head);
    socket.write(body, () => {
      if (destroyAfterWrite) {
        socket.destroy();
        resolve('closed');
      }
    });
  });
}

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path, {
    maxKeySetBytes: MAX_KEYSET,
    maxCiphertextBytes: MAX_CIPHERTEXT,
    maxEvalBodyBytes: MAX_CIPHERTEXT,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(base).port);
  ({ ctx, keySet } = await smallClient());
  expect(keySet.length).toBeLessThan(MAX_KEYSET);
  const upload = await postBytes('/v1/keysets', keySet);
  expect(upload.status).toBe(201);
  keySetId = (upload.json as { id: string }).id;
});

afterAll(async () => {
  await app?.close();
  ctx?.dispose();
  dir?.remove();
});

describe('hostile key-set uploads', () => {
  it('refuses malformed and truncated envelopes', async () => {
    const garbage = Uint8Array.from(randomVector(4096, 11), (v) => Math.floor((v + 1) * 127));
    expect((await postBytes('/v1/keysets', garbage)).code).toBe('E_BAD_SERIALIZATION');
    const truncated = await postBytes('/v1/keysets', keySet.subarray(0, keySet.length - 1000));
    expect([truncated.status, truncated.code]).toEqual([400, 'E_BAD_SERIALIZATION']);
    // A valid envelope whose SEAL sections are corrupted inside.
    const corrupted = keySet.slice();
    corrupted.fill(0xff, 200, 400);
    const inner = await postBytes('/v1/keysets', corrupted);
    expect(inner.status).toBe(400);
    expect(['E_BAD_SERIALIZATION', 'E_INVALID_PARAMS']).toContain(inner.code);
    expect((await postBytes('/v1/keysets', new Uint8Array(0))).status).toBe(400);
  });

  it('refuses bodies over the limit before reading them', async () => {
    const status = await rawRequest(
      `POST /v1/keysets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${MAX_KEYSET + 1}\r\n\r\n`,
      Buffer.alloc(0),
    );
    expect(status).toBe(413);
    // Chunked, with no length announced: cut off once the limit is crossed while streaming.
    const chunk = Buffer.alloc(256 << 10);
    const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`);
    const chunked = await rawRequest(
      `POST /v1/keysets/${keySetId}/ciphertexts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`,
      Buffer.from(chunks.join('') + '0\r\n\r\n', 'latin1'),
    );
    expect(chunked).toBe(413);
    const big = await postBytes(`/v1/keysets/${keySetId}/ciphertexts`, new Uint8Array(MAX_CIPHERTEXT + 1));
    expect([big.status, big.code]).toEqual([413, 'E_BODY_TOO_LARGE']);
  });

  it('refuses parameters below 128-bit security', async () => {
    const weak = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulusBits: [60, 60, 60],
      security: 'none',
      allowInsecure: true,
    });
    weak.keygen({});
    const response = await postBytes('/v1/keysets', encodeKeySet(weak.exportKeySet()));
    weak.dispose();
    expect([response.status, response.code]).toEqual([400, 'E_INSECURE_PARAMS']);
  });

  it('refuses secret keys, in the envelope and as a multipart part', async () => {
    const bundle = ctx.exportKeySet();
    const withSecret = encodeKeySet({ ...bundle, secretKey: ctx.exportSecretKey() });
    expect(await postBytes('/v1/keysets', withSecret).then((r) => [r.status, r.code])).toEqual([
      403,
      'E_SECRET_KEY_REFUSED',
    ]);
    const form = new FormData();
    form.append('params', new Blob([bundle.params as Uint8Array<ArrayBuffer>]));
    form.append('secretKey', new Blob([ctx.exportSecretKey() as Uint8Array<ArrayBuffer>]));
    expect((await post('/v1/keysets', form)).code).toBe('E_SECRET_KEY_REFUSED');
  });

  it('refuses compressed request bodies (no server-side inflation) and unknown content types', async () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    const gz = await post('/v1/keysets', bomb, { ...octet, 'content-encoding': 'gzip' });
    expect([gz.status, gz.code]).toEqual([415, 'E_UNSUPPORTED_MEDIA_TYPE']);
    // A key set whose galois-key section is a SEAL header over a zstd stream inflating to 64 MiB.
    const bundle = ctx.exportKeySet();
    const header = Buffer.from(bundle.galoisKeys!.subarray(0, 16));
    const sealBomb = Buffer.concat([header, zstdCompressSync(Buffer.alloc(64 << 20))]);
    sealBomb[5] = 2;
    sealBomb.writeBigUInt64LE(BigInt(sealBomb.length), 8);
    const bombed = await postBytes('/v1/keysets', encodeKeySet({ ...bundle, galoisKeys: sealBomb }));
    expect([bombed.status, bombed.code]).toEqual([400, 'E_BAD_SERIALIZATION']);
    const text = await post('/v1/keysets', 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('survives a client that disconnects mid-upload', async () => {
    const result = await rawRequest(
      `POST /v1/keysets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${keySet.length}\r\n\r\n`,
      Buffer.from(keySet.subarray(0, keySet.length >> 1)),
      true,
    );
    expect(result).toBe('closed');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

describe('hostile evaluation requests', () => {
  it('maps a bad program, bad JSON and a wrong tenant to their codes', async () => {
    const x = { bytes: encryptedB64([1, 2]) };
    const badProgram = await evalJson({
      program: { inputs: { x: 'vector' }, steps: [{ op: 'explode' }], outputs: ['x'] },
      inputs: { x },
    });
    expect([badProgram.status, badProgram.code]).toEqual([400, 'E_BAD_PROGRAM']);
    const cyclic = await evalJson({
      program: { inputs: { x: 'vector' }, steps: [{ out: 'y', op: 'add', args: ['y', 'x'] }], outputs: ['y'] },
      inputs: { x },
    });
    expect(cyclic.code).toBe('E_BAD_PROGRAM');
    const syntax = await post(`/v1/keysets/${keySetId}/eval`, '{"program": {', { 'content-type': 'application/json' });
    expect([syntax.status, syntax.code]).toEqual([400, 'E_INVALID_ARGUMENT']);
    const schema = await evalJson({ program: dotProgram, inputs: { x: { ciphertext: '../../etc/passwd' } } });
    expect([schema.status, schema.code]).toEqual([400, 'E_INVALID_ARGUMENT']);
    const missing = await evalJson({ program: dotProgram, inputs: { x } });
    expect(missing.code).toBe('E_BAD_PROGRAM');
    const otherTenant = await evalJson({ program: dotProgram, inputs: { x, w: [1, 1] } }, keySetId, BOB);
    expect([otherTenant.status, otherTenant.code]).toEqual([404, 'E_NOT_FOUND']);
    const noSuchKeySet = await evalJson({ program: dotProgram, inputs: { x, w: [1, 1] } }, 'ks_' + '0'.repeat(32));
    expect(noSuchKeySet.status).toBe(404);
  });

  it('reports a missing galois key', async () => {
    const bare = await smallClient(false);
    try {
      const id = ((await postBytes('/v1/keysets', bare.keySet)).json as { id: string }).id;
      const response = await evalJson(
        { program: dotProgram, inputs: { x: { bytes: encryptedB64([1, 2], bare.ctx) }, w: [1, 1] } },
        id,
      );
      expect([response.status, response.code]).toEqual([400, 'E_MISSING_GALOIS_KEY']);
    } finally {
      bare.ctx.dispose();
    }
  });

  it('refuses garbage, truncated, foreign-parameter and decompression-bomb ciphertexts', async () => {
    const good = Buffer.from(encryptedB64([1, 2, 3]), 'base64');
    const run = (bytes: Uint8Array) =>
      evalJson({ program: dotProgram, inputs: { x: { bytes: Buffer.from(bytes).toString('base64') }, w: [1, 1, 1] } });
    expect((await run(good.subarray(0, good.length - 17))).code).toBe('E_BAD_SERIALIZATION');
    expect((await run(Buffer.from('not a ciphertext at all'))).code).toBe('E_BAD_SERIALIZATION');
    const big = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    big.keygen({});
    const foreign = await run(Buffer.from(encryptedB64([1, 2, 3], big), 'base64'));
    big.dispose();
    expect(foreign.status).toBe(400);
    expect(['E_BAD_SERIALIZATION', 'E_PARAMS_MISMATCH']).toContain(foreign.code);
    // A SEAL header claiming zstd over a payload that inflates to 64 MiB: must be bounded, not inflated.
    const seal = Buffer.from(encryptedB64([1, 2, 3], ctx, 'seal'), 'base64');
    const payload = zstdCompressSync(Buffer.alloc(64 << 20));
    const bomb = Buffer.concat([seal.subarray(0, 16), payload]);
    bomb[5] = 2;
    bomb.writeBigUInt64LE(BigInt(bomb.length), 8);
    const form = new FormData();
    form.append('request', JSON.stringify({ program: dotProgram, inputs: { w: [1, 1, 1] } }));
    form.append('x', new Blob([bomb]));
    const bombed = await post(`/v1/keysets/${keySetId}/eval`, form);
    expect([bombed.status, bombed.code]).toEqual([400, 'E_BAD_SERIALIZATION']);
  });

  it('still serves correct results after all of the above', async () => {
    const x = randomVector(64, 21);
    const w = randomVector(64, 22);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const response = await evalJson({ program: dotProgram, inputs: { x: { bytes: encryptedB64(x) }, w } });
    expect(response.status).toBe(200);
    const outputs = (response.json as unknown as { outputs: { z: string } }).outputs;
    const [z] = decryptFirst(ctx, Buffer.from(outputs.z, 'base64'), 1);
    expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
  });
});
