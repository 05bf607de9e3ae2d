/**
 * A compute node reads key sets from the deployment's shared key store (RedisKeyStore) by tenant and id. It
 * only reads: quotas do not apply, and API nodes run the expiry sweep.
 */
import { DEFAULT_OPTIONS } from '../server/config.ts';
import { RedisConnection } from '../server/redis-connection.ts';
import { RedisKeyStore } from '../server/redis-keystore.ts';
import type { KeySetReader } from './worker-node.ts';

export async function openKeySetReader(
  redisUrl: string,
  prefix: string,
): Promise<{ read: KeySetReader; close(): Promise<void> }> {
  const connection = await RedisConnection.open(redisUrl, { name: 'hefty-worker-keystore' });
  const store = await RedisKeyStore.open({
    connection,
    prefix,
    tenantQuotaBytes: DEFAULT_OPTIONS.tenantQuotaBytes,
    rotationGraceMs: DEFAULT_OPTIONS.rotationGraceMs,
    defaultTtlMs: DEFAULT_OPTIONS.defaultKeySetTtlMs,
    maxTtlMs: DEFAULT_OPTIONS.maxKeySetTtlMs,
    sweepIntervalMs: 0,
  });
  return {
    read: (tenant, id) => store.read(tenant, id),
    close: async () => {
      await store.close();
      await connection.close();
    },
  };
}
