/**
 * Child process for the crash test: writes key sets into a store in a loop until it is killed. Prints
 * "writing <i>" before each put so the parent can kill it in the middle of one.
 */
import { randomFillSync } from 'node:crypto';
import { KeyStore } from '../../src/server/keystore.ts';

const [dataDir, sizeText] = process.argv.slice(2);
const store = await KeyStore.open({
  dataDir,
  tenantQuotaBytes: 2 ** 40,
  // Rotated records must outlive the test: it counts every completed write, however slow the machine.
  rotationGraceMs: 3600_000,
  defaultTtlMs: 3600_000,
  maxTtlMs: 3600_000,
});
const bytes = new Uint8Array(Number(sizeText));
for (let i = 0; ; i++) {
  randomFillSync(bytes);
  process.stdout.write(`writing ${i}\n`);
  await store.put('crash', bytes, { name: `set-${i % 3}` });
}
