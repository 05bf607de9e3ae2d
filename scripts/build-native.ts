/**
 * `npm install` hook: builds the native engine (build/Release/hefty.node) with cmake-js against Node-API
 * headers from node-api-headers, so nothing is downloaded. A failed build is not an install failure: hefty
 * then runs on node-seal (WASM), and we say so once, clearly. HEFTY_SKIP_NATIVE_BUILD=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

if (process.env.HEFTY_SKIP_NATIVE_BUILD === '1') {
  console.log('hefty: native build skipped (HEFTY_SKIP_NATIVE_BUILD=1); using the WASM engine');
  process.exit(0);
}

const cmakeJs = fileURLToPath(new URL('../node_modules/cmake-js/bin/cmake-js', import.meta.url));
const args = [
  cmakeJs,
  'compile',
  '--config',
  'Release',
  '--parallel',
  String(Math.min(availableParallelism(), 4)),
  '--log-level',
  'warn',
];
if (process.env.HEFTY_NATIVE_ARCH === '1') args.push('--CDHEFTY_NATIVE_ARCH=ON');

const started = Date.now();
const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (run.status === 0) {
  console.log(
    `hefty: native engine built in ${((Date.now() - started) / 1000).toFixed(0)} s (build/Release/hefty.node)`,
  );
} else {
  const tail = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  console.warn(
    `hefty: WARNING: the native engine did not build (${run.error?.message ?? `exit ${run.status}`}); ` +
      `hefty will use the WASM engine (node-seal), which is slower. Needs cmake >= 3.15 and a C++17 compiler.\n${tail}`,
  );
}
