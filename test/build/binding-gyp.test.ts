/**
 * binding.gyp (node-gyp) must build what CMakeLists.txt (cmake-js, the npm install path) builds: the gyp source
 * list comes from scripts/native-sources.mjs, which has to name exactly the folders CMake globs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Folders globbed by a `file(GLOB <variable> ...)` block of CMakeLists.txt. */
function cmakeFolders(variable: string): string[] {
  const cmake = readFileSync(`${root}CMakeLists.txt`, 'utf8');
  const block = new RegExp(`file\\(GLOB ${variable}[^)]*\\)`).exec(cmake);
  expect(block, `file(GLOB ${variable} ...) in CMakeLists.txt`).not.toBeNull();
  return [...block![0].matchAll(/\$\{CMAKE_SOURCE_DIR\}\/([\w/]+)\/\*\.cpp/g)].map((m) => m[1]);
}

function cppFiles(folders: string[]): string[] {
  return folders
    .filter((f) => existsSync(`${root}${f}`))
    .flatMap((f) =>
      readdirSync(`${root}${f}`)
        .filter((name) => name.endsWith('.cpp'))
        .map((name) => `${f}/${name}`),
    )
    .sort();
}

function gypSources(part: string): string[] {
  const run = spawnSync(process.execPath, ['scripts/native-sources.mjs', part], { cwd: root, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim().split('\n').sort();
}

describe('binding.gyp', () => {
  it('compiles the same sources as CMakeLists.txt', () => {
    const core = gypSources('core');
    expect(core.length).toBeGreaterThan(10);
    expect(core).toEqual(cppFiles(cmakeFolders('HEFTY_CORE_SOURCES')));
    expect(gypSources('addon')).toEqual(cppFiles(cmakeFolders('HEFTY_ADDON_SOURCES')));
  });

  it('takes both source lists from that script, with the flags the CMake build uses', () => {
    const gyp = readFileSync(`${root}binding.gyp`, 'utf8');
    expect(gyp).toContain('<!@(node scripts/native-sources.mjs core)');
    expect(gyp).toContain('<!@(node scripts/native-sources.mjs addon)');
    for (const flag of ['NAPI_CPP_EXCEPTIONS', 'NAPI_VERSION=8', '-std=c++17', '-O3', 'node-api-headers']) {
      expect(gyp).toContain(flag);
    }
  });
});
