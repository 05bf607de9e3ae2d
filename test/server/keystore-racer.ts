/**
 * Child process for the SIGKILL race test: tenant "a" stores bytes and deletes them while tenant "b" uploads
 * the same bytes, round after round, until killed. Prints "acked <id>" once b's upload is acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { KeyStore } from '../../src/server/keystore.ts';

const [dataDir] = process.argv.slice(2);
const store = await KeyStore.open({
  dataDir,
  tenantQuotaBytes: 2 ** 40,
  rotationGraceMs: 3600_000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
});
for (let round = 0; ; round++) {
  const bytes = randomBytes(4096);
  const a = await store.put('a', bytes);
  const [, b] = await Promise.all([store.delete('a', a.id), store.put('b', bytes)]);
  process.stdout.write(`acked ${b.id}\n`);
}
