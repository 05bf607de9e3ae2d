// `npm pack` / `npm publish` (prepack): puts this platform's native binary into prebuilds/<tag>/hefty.node so the
// tarball carries it and installs on this platform need no compiler. The binary is the portable Release build
// (never -march=native: the SIMD paths are chosen at run time), rebuilt when missing, tuned for this machine, or
// older than any native source. Fails the pack when no binary can be made.
import console from 'node:console';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';
import { prebuildTag } from './prebuild-tag.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}build/Release/hefty.node`;

function newestSource(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (newest, entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === 'test' ? newest : Math.max(newest, newestSource(path));
      return /\.(cpp|h)$/.test(entry.name) ? Math.max(newest, statSync(path).mtimeMs) : newest;
    },
    statSync(`${root}CMakeLists.txt`).mtimeMs,
  );
}

function portableBuildIsCurrent() {
  const cache = `${root}build/CMakeCache.txt`;
  if (!existsSync(built) || !existsSync(cache)) return false;
  if (/HEFTY_NATIVE_ARCH:BOOL=ON/.test(readFileSync(cache, 'utf8'))) return false;
  return statSync(built).mtimeMs >= newestSource(`${root}native`);
}

if (!portableBuildIsCurrent()) {
  delete process.env.HEFTY_NATIVE_ARCH;
  console.log('hefty: building the native engine for the package (portable Release build)');
  const result = buildNative();
  if (!result.ok) {
    console.error(`hefty: cannot make the prebuilt binary (${result.error}):\n${result.tail}`);
    process.exit(1);
  }
}
const target = `${root}prebuilds/${prebuildTag()}`;
mkdirSync(target, { recursive: true });
copyFileSync(built, `${target}/hefty.node`);
// Symbols are not needed to load or run the addon; stripping them halves the download.
spawnSync('strip', ['--strip-unneeded', `${target}/hefty.node`], { stdio: 'ignore' });
console.log(
  `hefty: prebuilt binary ${target.slice(root.length)}/hefty.node (${statSync(`${target}/hefty.node`).size} bytes)`,
);
