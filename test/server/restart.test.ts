/**
 * The service process is SIGKILLed while key-set uploads are in flight; after a restart on the same data
 * directory every key set it reports is complete (it loads and evaluates correctly) and nothing is corrupt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeftyClient } from '../../src/client/client.ts';
import { createContext, encodeKeySet } from '../../src/index.ts';
import { randomVector } from '../helpers.ts';
import { ALICE, decryptFirst, dotProgram, dotReference, tempDir, testApp } from './fixtures.ts';

interface Child {
  child: ChildProcess;
  url: string;
  /** Resolves once `count` handlers of routes matching `route` (e.g. `POST /v1/keysets`) have started. */
  handling(route: string, count: number): Promise<void>;
}

function startChild(dataDir: string): Promise<Child> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'serve-child.ts'), dataDir, ALICE], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  const handled = new Map<string, number>();
  const waiters: { route: string; count: number; resolve: () => void }[] = [];
  const settle = () => {
    for (const w of waiters.splice(0)) {
      if ((handled.get(w.route) ?? 0) >= w.count) w.resolve();
      else waiters.push(w);
    }
  };
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const lines = seen.split('\n');
      seen = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('http')) {
          resolve({
            child,
            url: line.trim(),
            handling: (route, count) =>
              new Promise<void>((done) => {
                waiters.push({ route, count, resolve: done });
                settle();
              }),
          });
        } else if (line.startsWith('handling ')) {
          const route = line.slice('handling '.length).trim();
          handled.set(route, (handled.get(route) ?? 0) + 1);
          settle();
        }
      }
    });
  });
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes in-flight evaluations, refuses new connections and exits 0', async () => {
    const dir = tempDir();
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
    try {
      const { child, url, handling } = await startChild(dir.path);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const client = new HeftyClient({ baseUrl: url, apiKey: ALICE, overloadRetries: 0 });
      ctx.keygen({ galois: Array.from({ length: 11 }, (_, i) => 2 ** i) });
      const { id } = await client.uploadKeySet(ctx.exportKeySet());
      const x = randomVector(64, 51);
      const w = randomVector(64, 52);
      const v = ctx.encrypt(x);
      const bytes = v.serialize();
      v.dispose();
      const inFlight = Array.from({ length: 4 }, () => client.eval(id, dotProgram, { x: bytes, w }));
      // SIGTERM once all four are inside their handlers: each must then be finished, not dropped.
      await handling('POST /v1/keysets/:id/eval', 4);
      child.kill('SIGTERM');
      const results = await Promise.allSettled(inFlight);
      const served = results.filter((r) => r.status === 'fulfilled');
      expect(served.length).toBe(4);
      for (const r of served) {
        const [z] = decryptFirst(ctx, r.value.z, 1);
        expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
      }
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      ctx.dispose();
      dir.remove();
    }
  });
});

describe('service restart after SIGKILL', () => {
  it('keeps uploads complete or absent', async () => {
    const dir = tempDir();
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
    try {
      const { child, url, handling } = await startChild(dir.path);
      const client = new HeftyClient({ baseUrl: url, apiKey: ALICE, timeoutMs: 20_000 });
      ctx.keygen({ galois: Array.from({ length: 11 }, (_, i) => 2 ** i) });
      const keySet = encodeKeySet(ctx.exportKeySet());
      const first = await client.uploadKeySet(keySet, { name: 'main' });
      // Two more uploads (fresh keys, so distinct bytes) in flight, then the kill.
      const others = await Promise.all(
        [1, 2].map(async () => {
          const c = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
          c.keygen({ galois: [1, 2, 4] });
          const bytes = encodeKeySet(c.exportKeySet());
          c.dispose();
          return bytes;
        }),
      );
      const inFlight = others.map((bytes, i) =>
        client.uploadKeySet(bytes, { name: `other-${i}` }).catch(() => undefined),
      );
      await handling('POST /v1/keysets', 3); // the first upload and both in flight
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      await Promise.all(inFlight);

      const app = await testApp(dir.path);
      try {
        const listed = (await app.inject({ url: '/v1/keysets', headers: { authorization: `Bearer ${ALICE}` } })).json();
        const ids = listed.keysets.map((k: { id: string }) => k.id);
        expect(ids).toContain(first.id);
        for (const id of ids) {
          await expect(app.services.store.read('alice', id)).resolves.toBeInstanceOf(Uint8Array);
        }
        const x = randomVector(32, 41);
        const w = randomVector(32, 42);
        const v = ctx.encrypt(x);
        const response = await app.inject({
          method: 'POST',
          url: `/v1/keysets/${first.id}/eval`,
          headers: { authorization: `Bearer ${ALICE}` },
          payload: { program: dotProgram, inputs: { x: { bytes: Buffer.from(v.serialize()).toString('base64') }, w } },
        });
        v.dispose();
        expect(response.statusCode).toBe(200);
        const [z] = decryptFirst(ctx, Buffer.from(response.json().outputs.z, 'base64'), 1);
        expect(Math.abs(z - dotReference(x, w))).toBeLessThan(1e-2);
      } finally {
        await app.close();
      }
    } finally {
      ctx.dispose();
      dir.remove();
    }
  });
});
