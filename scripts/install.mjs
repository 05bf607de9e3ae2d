// `npm install` hook. In order:
//  1. A clone of the repository (native/test present) builds from source: the C++ tests need the cmake build.
//  2. An installed package uses its prebuilt binary, prebuilds/<platform>-<arch>[-musl]/hefty.node, when one
//     matches and loads here (no compiler needed).
//  3. Else it builds from source when cmake and a C++17 compiler are on PATH.
//  4. Else hefty runs on node-seal (WASM), and this says so once, with how to get the native engine.
// Never fails the install: WASM always works. HEFTY_SKIP_NATIVE_BUILD=1 skips 1 and 3; HEFTY_BUILD_FROM_SOURCE=1
// skips 2. Plain JavaScript: Node does not strip TypeScript types inside node_modules.
import console from 'node:console';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';
import { prebuildTag } from './prebuild-tag.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tag = prebuildTag();
const prebuilt = `${root}prebuilds/${tag}/hefty.node`;
const isClone = existsSync(`${root}native/test`);

/** Loads the binary in a child process, so a binary this CPU or libc cannot run never takes the install down. */
function loads(file) {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)}).simdPath()`], {
    stdio: 'ignore',
    timeout: 30_000,
  });
  return probe.status === 0;
}

function onPath(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

function hasToolchain() {
  const compiler = process.env.CXX ? onPath(process.env.CXX) : ['c++', 'g++', 'clang++'].some(onPath);
  return onPath('cmake') && compiler;
}

function wasmWarning(why) {
  console.warn(
    `hefty: WARNING: ${why}; hefty will use its WASM engine (node-seal), which is correct but several times slower. ` +
      'For the native engine install cmake (>= 3.15) and a C++17 compiler, then run `npm rebuild hefty`.',
  );
}

function main() {
  if (!isClone && process.env.HEFTY_BUILD_FROM_SOURCE !== '1' && existsSync(prebuilt)) {
    if (loads(prebuilt)) return; // nothing to do, nothing to say
    console.warn(`hefty: the prebuilt binary for ${tag} does not load on this machine; trying a source build`);
  }
  if (process.env.HEFTY_SKIP_NATIVE_BUILD === '1')
    return wasmWarning('native build skipped (HEFTY_SKIP_NATIVE_BUILD=1)');
  if (!hasToolchain()) {
    const missing =
      process.env.HEFTY_BUILD_FROM_SOURCE === '1'
        ? 'HEFTY_BUILD_FROM_SOURCE=1'
        : existsSync(prebuilt)
          ? 'the prebuilt binary does not load'
          : `no prebuilt binary for ${tag}`;
    return wasmWarning(`${missing} and no C++ toolchain (cmake, c++) is on PATH`);
  }
  const result = buildNative();
  if (!result.ok) wasmWarning(`the native build failed (${result.error}):\n${result.tail}\n`);
}

main();
