/**
 * Slow and stalled clients are cut: a silent upload by the idle timeout, a trickling one by the request
 * timeout, headers that never finish by the headers timeout. Each test waits for the server to close the socket.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyApp } from '../../src/server/app.ts';
import { ALICE, tempDir, testApp } from './fixtures.ts';

let app: HeftyApp;
let port: number;
const dir = tempDir();

beforeAll(async () => {
  app = await testApp(dir.path, {
    executor: 'inline',
    requestTimeoutMs: 1500,
    headersTimeoutMs: 800,
    connectionTimeoutMs: 700,
    keepAliveTimeoutMs: 500,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await app.close();
  dir.remove();
});

/** Opens a socket, writes `head`, and resolves with what the server sent once it closes the connection. */
function openAndWrite(head: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(head);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(received))) };
}

const uploadHead =
  'POST /v1/keysets HTTP/1.1\r\nHost: x\r\n' +
  `Authorization: Bearer ${ALICE}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`;

describe('request timeouts', () => {
  it('closes an authenticated upload that stalls after part of its body', async () => {
    const { closed } = openAndWrite(uploadHead + 'x'.repeat(1000));
    await closed;
  });

  it('cuts an upload that trickles a byte at a time (request timeout: 408)', async () => {
    const { socket, closed } = openAndWrite(uploadHead);
    const trickle = setInterval(() => socket.writable && socket.write('x'), 100);
    try {
      expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
  });

  it('cuts headers that never finish', async () => {
    const { socket, closed } = openAndWrite('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 100);
    try {
      expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes idle keep-alive connections', async () => {
    const { closed } = openAndWrite('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('request ids', () => {
  it('echoes well-formed ids and replaces malformed or oversized ones', async () => {
    const good = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123.X_y' } });
    expect(good.headers['x-request-id']).toBe('abc-123.X_y');
    for (const bad of ['a'.repeat(8000), 'evil\u0001id', 'with space', '<script>']) {
      const response = await app.inject({ url: '/healthz', headers: { 'x-request-id': bad } });
      expect(response.headers['x-request-id']).not.toBe(bad);
      expect(String(response.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
