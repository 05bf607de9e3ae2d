/**
 * Blobs are shared by content across tenants: deletes, expiry sweeps and uploads of the same bytes race on one
 * blob. Every acknowledged upload must stay readable, in memory and after a SIGKILL and a reopen.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/server/keystore.ts';
import { createContext, encodeKeySet } from '../../src/index.ts';
import { ALICE, auth, BOB, decryptFirst, octet, tempDir, testApp } from './fixtures.ts';

const options = (dataDir: string, now?: () => number) => ({
  dataDir,
  tenantQuotaBytes: 1 << 30,
  rotationGraceMs: 1000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
  now,
});

describe('key store races on shared blobs', () => {
  it('a delete racing an upload of the same bytes by another tenant never loses the upload', async () => {
    const dir = tempDir();
    try {
      const store = await KeyStore.open(options(dir.path));
      const lost: number[] = [];
      for (let round = 0; round < 40; round++) {
        const bytes = randomBytes(4096);
        const a = await store.put('a', bytes);
        // Vary which side starts first and by how many turns of the event loop.
        const delay = round % 4;
        const turns = async (): Promise<void> => {
          for (let i = 0; i < delay; i++) await new Promise((resolve) => setImmediate(resolve));
        };
        const deleting = round % 2 === 0 ? store.delete('a', a.id) : turns().then(() => store.delete('a', a.id));
        const uploading = round % 2 === 0 ? turns().then(() => store.put('b', bytes)) : store.put('b', bytes);
        const [, b] = await Promise.all([deleting, uploading]);
        const read = await store.read('b', b.id).then(
          (r) => Buffer.from(r).equals(bytes),
          () => false,
        );
        if (!read) lost.push(round);
      }
      expect(lost).toEqual([]);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  it('an expiry sweep racing an upload of the same bytes never loses the upload', async () => {
    const dir = tempDir();
    let clock = 1_000_000;
    try {
      const store = await KeyStore.open(options(dir.path, () => clock));
      const lost: number[] = [];
      for (let round = 0; round < 30; round++) {
        const bytes = randomBytes(4096);
        await store.put('a', bytes, { ttlMs: 10 });
        clock += 20;
        const [, b] = await Promise.all([store.sweep(), store.put('b', bytes)]);
        const ok = await store.read('b', b.id).then(
          () => true,
          () => false,
        );
        if (!ok) lost.push(round);
      }
      expect(lost).toEqual([]);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  it('after SIGKILL mid-race and a reopen, every acknowledged upload is complete', async () => {
    const dir = tempDir();
    try {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'keystore-racer.ts'), dir.path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const acknowledged: string[] = [];
      let seen = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const lines = seen.split('\n');
          seen = lines.pop() ?? '';
          for (const line of lines) if (line.startsWith('acked ')) acknowledged.push(line.slice(6));
          if (acknowledged.length >= 40) resolve();
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const store = await KeyStore.open(options(dir.path));
      const missing: string[] = [];
      for (const id of acknowledged) {
        const ok = await store.read('b', id).then(
          () => true,
          () => false,
        );
        if (!ok) missing.push(id);
      }
      expect(missing).toEqual([]);
      await store.close();
    } finally {
      dir.remove();
    }
  });
});

describe('racing HTTP clients on one shared key set', () => {
  it("tenant A's deletes never take tenant B's acknowledged upload of the same bytes", async () => {
    const dir = tempDir();
    const app = await testApp(dir.path, { executor: 'inline' });
    const scaleProgram = {
      inputs: { x: 'vector', w: 'plain' },
      steps: [{ out: 'y', op: 'mul', args: ['x', 'w'] }],
      outputs: ['y'],
    };
    try {
      const lost: number[] = [];
      for (let round = 0; round < 8; round++) {
        const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
        try {
          ctx.keygen();
          const keySet = Buffer.from(encodeKeySet(ctx.exportKeySet()));
          const upload = (key: string) =>
            app.inject({ method: 'POST', url: '/v1/keysets', headers: { ...auth(key), ...octet }, payload: keySet });
          const a = (await upload(ALICE)).json().id;
          const [, b] = await Promise.all([
            app.inject({ method: 'DELETE', url: `/v1/keysets/${a}`, headers: auth(ALICE) }),
            upload(BOB),
          ]);
          expect(b.statusCode).toBe(201);
          const v = ctx.encrypt([1, 2, 3]);
          const evaluated = await app.inject({
            method: 'POST',
            url: `/v1/keysets/${b.json().id}/eval`,
            headers: auth(BOB),
            payload: {
              program: scaleProgram,
              inputs: { x: { bytes: Buffer.from(v.serialize()).toString('base64') }, w: [2, 2, 2] },
            },
          });
          v.dispose();
          if (evaluated.statusCode !== 200) lost.push(round);
          else
            expect(decryptFirst(ctx, Buffer.from(evaluated.json().outputs.y, 'base64'), 3).map(Math.round)).toEqual([
              2, 4, 6,
            ]);
        } finally {
          ctx.dispose();
        }
      }
      expect(lost).toEqual([]);
    } finally {
      await app.close();
      dir.remove();
    }
  });
});
