/**
 * Child process for the SIGKILL race test: tenant "a" stores bytes and deletes them while tenant "b" uploads
 * the same bytes, round after round, until killed. Prints "acked <id>" once b's upload is acknowledged. The store
 * is named by the arguments (`local <dir>` or `redis <url> <prefix>`).
 */
import { randomBytes } from 'node:crypto';
import { openStoreAt } from './open-store.ts';

const store = await openStoreAt(process.argv.slice(2));
for (let round = 0; ; round++) {
  const bytes = randomBytes(4096);
  const a = await store.put('a', bytes);
  const [, b] = await Promise.all([store.delete('a', a.id), store.put('b', bytes)]);
  process.stdout.write(`acked ${b.id}\n`);
}
