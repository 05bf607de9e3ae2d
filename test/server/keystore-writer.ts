/**
 * Child process for the crash test: writes key sets into a store (`local <dir>` or `redis <url> <prefix>`, then
 * the size) in a loop until it is killed. Prints "writing <i>" before each put so the parent can kill it in the
 * middle of one.
 */
import { randomFillSync } from 'node:crypto';
import { openStoreAt } from './open-store.ts';

const args = process.argv.slice(2);
const size = Number(args.pop());
const store = await openStoreAt(args);
const bytes = new Uint8Array(size);
for (let i = 0; ; i++) {
  randomFillSync(bytes);
  process.stdout.write(`writing ${i}\n`);
  await store.put('crash', bytes, { name: `set-${i % 3}` });
}
