/** The durable key store: records, rotation, expiry, quotas, deletion, and crash safety under SIGKILL. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { KeyStore } from '../../src/server/keystore.ts';
import { tempDir } from './fixtures.ts';

const options = (dataDir: string, now?: () => number) => ({
  dataDir,
  tenantQuotaBytes: 1000,
  rotationGraceMs: 100,
  defaultTtlMs: 10_000,
  maxTtlMs: 20_000,
  now,
});

async function expectCode(work: () => unknown, code: string): Promise<void> {
  let thrown: unknown;
  try {
    await work();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(HeftyError);
  expect((thrown as HeftyError).code).toBe(code);
}

describe('key store', () => {
  it('stores durably, scopes by tenant, rotates, expires, enforces quotas and deletes', async () => {
    const dir = tempDir();
    let clock = 1_000_000;
    try {
      const store = await KeyStore.open(options(dir.path, () => clock));
      const a = await store.put('t1', new Uint8Array(300).fill(1), { name: 'main' });
      expect(await store.put('t1', new Uint8Array(300).fill(1), { name: 'main' })).toMatchObject({ id: a.id });
      expect(Array.from(await store.read('t1', a.id))).toEqual(Array(300).fill(1));
      await expectCode(() => store.get('t2', a.id), 'E_NOT_FOUND');
      const b = await store.put('t1', new Uint8Array(300).fill(2), { name: 'main' });
      expect(store.get('t1', a.id)).toMatchObject({ replacedBy: b.id, expiresAt: clock + 100 });
      await expectCode(() => store.put('t1', new Uint8Array(500)), 'E_QUOTA_EXCEEDED');
      await store.put('t2', new Uint8Array(500).fill(3));
      clock += 101;
      await expectCode(() => store.get('t1', a.id), 'E_NOT_FOUND');
      expect(store.list('t1').map((r) => r.id)).toEqual([b.id]);
      await store.close();

      // Reopened from disk: the same live records, expired ones swept with their blobs.
      const reopened = await KeyStore.open(options(dir.path, () => clock));
      expect(reopened.list('t1').map((r) => r.id)).toEqual([b.id]);
      expect(readdirSync(join(dir.path, 'blobs'))).toHaveLength(2);
      clock += 20_000;
      await reopened.sweep();
      expect(reopened.list('t1')).toEqual([]);
      expect(readdirSync(join(dir.path, 'blobs'))).toHaveLength(0);
      await reopened.close();
    } finally {
      dir.remove();
    }
  });

  it('detects a blob altered on disk instead of serving it', async () => {
    const dir = tempDir();
    try {
      const store = await KeyStore.open(options(dir.path));
      const record = await store.put('t', new Uint8Array(100).fill(7));
      writeFileSync(join(dir.path, 'blobs', record.digest), new Uint8Array(100).fill(8));
      await expectCode(() => store.read('t', record.id), 'E_INTERNAL');
      await store.close();
    } finally {
      dir.remove();
    }
  });

  it('after SIGKILL mid-write, every key set is complete or absent, never corrupt', async () => {
    const dir = tempDir();
    let killedMidWrite = 0;
    try {
      for (let round = 0; round < 4; round++) {
        const child = spawn(
          process.execPath,
          [join(import.meta.dirname, 'keystore-writer.ts'), dir.path, String(8 << 20)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const target = 1 + round;
        await new Promise<void>((resolve) => {
          let seen = '';
          child.stdout.on('data', (chunk: Buffer) => {
            seen += chunk.toString();
            if (seen.includes(`writing ${target}\n`)) resolve();
          });
        });
        // Wait until a temp file exists (a write is under way), then kill at once or a little later.
        while (readdirSync(join(dir.path, 'tmp')).length === 0) await sleep(1);
        if (round % 2 === 1) await sleep(round * 3);
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        if (readdirSync(join(dir.path, 'tmp')).length > 0) killedMidWrite++;

        const store = await KeyStore.open({ ...options(dir.path), tenantQuotaBytes: 2 ** 40 });
        expect(readdirSync(join(dir.path, 'tmp'))).toEqual([]);
        const records = store.list('crash');
        expect(records.length).toBeGreaterThanOrEqual(target);
        for (const record of records) {
          const bytes = await store.read('crash', record.id); // checks the SHA-256 digest
          expect(bytes.length).toBe(8 << 20);
        }
        const referenced = new Set(records.map((r) => r.digest));
        expect(readdirSync(join(dir.path, 'blobs')).every((d) => referenced.has(d))).toBe(true);
        await store.close();
      }
      // The kills really landed inside writes (temp files were left behind) at least once.
      expect(killedMidWrite).toBeGreaterThan(0);
      expect(existsSync(join(dir.path, 'tmp'))).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
