/**
 * The native engine's own C++ unit tests (native/test, one ctest executable per file) run as part of npm test.
 * CI sets HEFTY_REQUIRE_NATIVE=1, so a missing build fails there instead of silently testing WASM only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}build`;
const built = existsSync(`${buildDir}/Release/hefty.node`) && existsSync(`${buildDir}/CTestTestfile.cmake`);
const required = process.env.HEFTY_REQUIRE_NATIVE === '1';

describe('native engine build', () => {
  it('is built by npm install (required in CI)', () => {
    if (required) expect(built, 'build/Release/hefty.node and ctest files from npm install').toBe(true);
    else if (!built) console.warn('native engine not built here: C++ tests cannot run (set HEFTY_REQUIRE_NATIVE=1 to fail)');
  });

  it.runIf(built)('passes every C++ unit test under ctest', () => {
    const run = spawnSync('ctest', ['--test-dir', buildDir, '--output-on-failure', '--timeout', '300'], {
      cwd: root,
      encoding: 'utf8',
    });
    const output = `${run.stdout}\n${run.stderr}`;
    console.log(output.split('\n').filter((l) => /tests passed|Test +#/.test(l)).join('\n'));
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/100% tests passed/);
  });
});
