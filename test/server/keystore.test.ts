/**
 * The key store, local and Redis alike: records, rotation, expiry, quotas, deletion, integrity, and crash safety
 * under SIGKILL (a reopened store holds every key set complete or not at all).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { describeEachStore } from './keyset-stores.ts';

const limits = (now?: () => number) => ({
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

describeEachStore('key store', (makeHarness) => {
  it('stores durably, scopes by tenant, rotates, expires, enforces quotas and deletes', async () => {
    const harness = await makeHarness();
    let clock = 1_000_000;
    try {
      const store = await harness.open(limits(() => clock));
      const a = await store.put('t1', new Uint8Array(300).fill(1), { name: 'main' });
      expect(await store.put('t1', new Uint8Array(300).fill(1), { name: 'main' })).toMatchObject({ id: a.id });
      expect(Array.from(await store.read('t1', a.id))).toEqual(Array(300).fill(1));
      await expectCode(() => store.get('t2', a.id), 'E_NOT_FOUND');
      const b = await store.put('t1', new Uint8Array(300).fill(2), { name: 'main' });
      expect(await store.get('t1', a.id)).toMatchObject({ replacedBy: b.id, expiresAt: clock + 100 });
      expect(await store.get('t1', b.id)).not.toHaveProperty('replacedBy');
      await expectCode(() => store.put('t1', new Uint8Array(500)), 'E_QUOTA_EXCEEDED');
      await store.put('t2', new Uint8Array(500).fill(3));
      clock += 101;
      await expectCode(() => store.get('t1', a.id), 'E_NOT_FOUND');
      await expectCode(() => store.read('t1', a.id), 'E_NOT_FOUND');
      expect((await store.list('t1')).map((r) => r.id)).toEqual([b.id]);
      expect(await store.usedBytes('t1')).toBe(300);
      await store.close();

      // Reopened: the same live records; expired ones swept with their blobs.
      const reopened = await harness.open(limits(() => clock));
      expect((await reopened.list('t1')).map((r) => r.id)).toEqual([b.id]);
      await reopened.sweep();
      expect(await harness.blobCount()).toBe(2);
      await reopened.delete('t2', (await reopened.list('t2'))[0].id);
      await expectCode(() => reopened.delete('t2', b.id), 'E_NOT_FOUND');
      expect(await harness.blobCount()).toBe(1);
      clock += 20_000;
      await reopened.sweep();
      expect(await reopened.list('t1')).toEqual([]);
      expect(await harness.blobCount()).toBe(0);
      expect(await harness.leftovers()).toBe(0);
      await reopened.close();
    } finally {
      await harness.dispose();
    }
  });

  it('detects a blob altered in storage instead of serving it', async () => {
    const harness = await makeHarness();
    try {
      const store = await harness.open(limits());
      const record = await store.put('t', new Uint8Array(100).fill(7));
      await harness.corruptBlob(record.digest, new Uint8Array(100).fill(8));
      await expectCode(() => store.read('t', record.id), 'E_INTERNAL');
      await store.close();
    } finally {
      await harness.dispose();
    }
  });

  it('after SIGKILL mid-write, every key set is complete or absent, never corrupt', async () => {
    const harness = await makeHarness();
    let killedMidWrite = 0;
    try {
      for (let round = 0; round < 4; round++) {
        const child = spawn(
          process.execPath,
          [join(import.meta.dirname, 'keystore-writer.ts'), ...harness.location, String(8 << 20)],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const target = 1 + round;
        await new Promise<void>((resolve) => {
          let seen = '';
          child.stdout.on('data', (chunk: Buffer) => {
            seen += chunk.toString();
            if (seen.includes(`writing ${target}\n`)) resolve();
          });
        });
        // Wait until a write is under way (temp file, upload pin), then kill at once or a little later.
        while ((await harness.writesInFlight()) === 0) await sleep(1);
        if (round % 2 === 1) await sleep(round * 3);
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        if ((await harness.writesInFlight()) > 0) killedMidWrite++;

        // Reopened after the dead writer's leases ran out (Redis) and swept: nothing partial stays.
        const store = await harness.open({ ...limits(() => Date.now() + 700_000), tenantQuotaBytes: 2 ** 40 });
        await store.sweep();
        expect(await harness.leftovers()).toBe(0);
        const records = await store.list('crash');
        expect(records.length).toBeGreaterThanOrEqual(target);
        for (const record of records) {
          const bytes = await store.read('crash', record.id); // checks the SHA-256 digest
          expect(bytes.length).toBe(8 << 20);
        }
        expect(await harness.blobCount()).toBe(new Set(records.map((r) => r.digest)).size);
        await store.close();
      }
      // The kills really landed inside writes at least once.
      expect(killedMidWrite).toBeGreaterThan(0);
    } finally {
      await harness.dispose();
    }
  });
});
