/**
 * Tenant quotas hold under concurrency, local and Redis alike: reservations are taken before writing, for bytes
 * and for records. On Redis, the racing uploads come through separate connections (separate API nodes).
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import type { KeySetStore } from '../../src/server/keyset-store.ts';
import { describeEachStore } from './keyset-stores.ts';

const limits = {
  tenantQuotaBytes: 3500,
  tenantMaxKeySets: 5,
  rotationGraceMs: 1000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
};

describeEachStore('tenant quotas under concurrency', (makeHarness, kind) => {
  it('12 simultaneous 1000-byte uploads against a 3500-byte quota: 3 stored, 9 refused', async () => {
    const harness = await makeHarness();
    const stores: KeySetStore[] = [];
    try {
      for (let i = 0; i < 3; i++) stores.push(await harness.open(limits));
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => stores[harness.kind === 'redis' ? i % 3 : 0].put('t', randomBytes(1000))),
      );
      const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(stored).toHaveLength(3);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as HeftyError).code).toBe('E_QUOTA_EXCEEDED');
      }
      expect(await stores[0].usedBytes('t')).toBe(3000);
      // The same bytes again take no new quota (idempotent re-upload).
      const again = await stores[0].put('t', await stores[0].read('t', stored[0].id));
      expect(again.id).toBe(stored[0].id);
    } finally {
      for (const store of stores) await store.close();
      await harness.dispose();
    }
  });

  it('counts records: tiny key sets stop at tenantMaxKeySets, reservations included', async () => {
    const harness = await makeHarness();
    const store = await harness.open(limits);
    try {
      const held = await store.reserve('t', randomBytes(10));
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.put('t', randomBytes(10))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      await held.release();
      await held.release(); // idempotent: frees one record, once
      await store.put('t', randomBytes(10));
      expect(await store.list('t')).toHaveLength(5);
      await expect(store.reserve('t', randomBytes(10))).rejects.toThrow(/5 key sets/);
    } finally {
      await store.close();
      await harness.dispose();
    }
  });

  // Shared quota outlives the process that reserved it, so it must lapse (a local one dies with its process).
  if (kind === 'redis')
    it("a crashed upload's reservation lapses at its lease end, not holding quota forever", async () => {
      const harness = await makeHarness();
      let clock = Date.now();
      const store = await harness.open({ ...limits, now: () => clock });
      try {
        await store.reserve('t', randomBytes(3000)); // never released: its holder "crashed"
        await expect(store.put('t', randomBytes(1000))).rejects.toThrow(/tenant quota/);
        clock += 600_001;
        await expect(store.put('t', randomBytes(1000))).resolves.toMatchObject({ size: 1000 });
      } finally {
        await store.close();
        await harness.dispose();
      }
    });
});
