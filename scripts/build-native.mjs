// Builds the native engine (build/Release/hefty.node) from source with cmake-js against the Node-API headers of
// node-api-headers, so nothing is downloaded. Used by `npm run build:native`, by the install script where no
// prebuilt binary fits, and before packing. Exits non-zero when the build fails.
// HEFTY_NATIVE_ARCH=1 tunes for this machine (-march=native): never for binaries that ship.
import console from 'node:console';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('..', import.meta.url));
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');

export function buildNative({ quiet = false } = {}) {
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
  // Always explicit: CMake caches the option, so a tuned build would otherwise stay tuned.
  args.push(`--CDHEFTY_NATIVE_ARCH=${process.env.HEFTY_NATIVE_ARCH === '1' ? 'ON' : 'OFF'}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (run.status === 0) {
    if (!quiet) console.log(`hefty: native engine built from source in ${seconds} s (build/Release/hefty.node)`);
    return { ok: true, seconds };
  }
  const tail = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  return { ok: false, seconds, error: run.error?.message ?? `cmake-js exited with ${run.status}`, tail };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = buildNative();
  if (!result.ok) {
    console.error(`hefty: the native build failed (${result.error}):\n${result.tail}`);
    process.exit(1);
  }
}
