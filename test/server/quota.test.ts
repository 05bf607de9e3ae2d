/** Tenant quotas hold under concurrency: reservations are taken before writing, for bytes and for records. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { KeyStore } from '../../src/server/keystore.ts';
import { tempDir } from './fixtures.ts';

const options = (dataDir: string) => ({
  dataDir,
  tenantQuotaBytes: 3500,
  tenantMaxKeySets: 5,
  rotationGraceMs: 1000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
});

describe('tenant quotas under concurrency', () => {
  it('12 simultaneous 1000-byte uploads against a 3500-byte quota: 3 stored, 9 refused', async () => {
    const dir = tempDir();
    try {
      const store = await KeyStore.open(options(dir.path));
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => store.put('t', randomBytes(1000))));
      const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(stored).toHaveLength(3);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as HeftyError).code).toBe('E_QUOTA_EXCEEDED');
      }
      expect(store.usedBytes('t')).toBe(3000);
      // The same bytes again take no new quota (idempotent re-upload).
      const again = await store.put('t', await store.read('t', stored[0].id));
      expect(again.id).toBe(stored[0].id);
      await store.close();
    } finally {
      dir.remove();
    }
  });

  it('counts records: tiny key sets stop at tenantMaxKeySets, reservations included', async () => {
    const dir = tempDir();
    try {
      const store = await KeyStore.open(options(dir.path));
      const held = store.reserve('t', randomBytes(10));
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.put('t', randomBytes(10))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      held.release();
      await store.put('t', randomBytes(10));
      expect(store.list('t')).toHaveLength(5);
      expect(() => store.reserve('t', randomBytes(10))).toThrow(/5 key sets/);
      await store.close();
    } finally {
      dir.remove();
    }
  });
});
