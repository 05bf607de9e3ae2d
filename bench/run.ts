/**
 * `npm run bench`: the backend-op suite in this process, then every other suite in bench/ as its own child
 * process (so each measures a clean process). `--only=backend-ops,batch` picks suites; `--full` passes through
 * for longer runs. Results land in bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchBackendOps, writeResults } from './backend-ops.ts';

const SUITES = [
  'backend-ops',
  'native-ntt',
  'native-ops',
  'native-bfv-ops',
  'he-hoisting',
  'he-polynomial',
  'batch',
  'server-load',
  'distributed',
  'tenant-soak',
  'gpu-ntt',
  'gpu-key-switch',
  'gpu-program',
  'he-linear-transform',
  'he-mlp',
] as const;

const args = process.argv.slice(2);
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const full = args.includes('--full');
const selected = SUITES.filter((s) => !only || only.includes(s));

for (const suite of selected) {
  console.log(`\n## ${suite}\n`);
  if (suite === 'backend-ops') {
    const results = await benchBackendOps({ quick: !full });
    console.log('\n' + writeResults('backend-ops', results));
    continue;
  }
  const file = fileURLToPath(new URL(`./${suite}.ts`, import.meta.url));
  if (!existsSync(file)) {
    console.log(`(suite ${suite} not present)`);
    continue;
  }
  const run = spawnSync(process.execPath, [file, ...(full ? ['--full'] : [])], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`suite ${suite} failed with status ${run.status}`);
    process.exitCode = 1;
  }
}
