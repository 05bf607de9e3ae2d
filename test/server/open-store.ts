/**
 * For child processes of the key-store tests: opens the store a StoreHarness location names
 * (`local <dir>` or `redis <url> <prefix>`), with limits that never get in the way.
 */
import { KeyStore } from '../../src/server/keystore.ts';
import type { KeySetStore } from '../../src/server/keyset-store.ts';
import { RedisConnection } from '../../src/server/redis-connection.ts';
import { RedisKeyStore } from '../../src/server/redis-keystore.ts';

const limits = {
  tenantQuotaBytes: 2 ** 40,
  // Rotated records must outlive the test: it counts every completed write, however slow the machine.
  rotationGraceMs: 3600_000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
};

export async function openStoreAt(location: string[]): Promise<KeySetStore> {
  const [kind, where, prefix] = location;
  if (kind === 'local') return KeyStore.open({ dataDir: where, ...limits });
  if (kind === 'redis') {
    const connection = await RedisConnection.open(where);
    return RedisKeyStore.open({ connection, ownsConnection: true, prefix, chunkBytes: 64 << 10, ...limits });
  }
  throw new Error(`unknown store location ${location.join(' ')}`);
}
