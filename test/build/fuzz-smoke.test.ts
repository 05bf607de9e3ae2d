/**
 * The libFuzzer smoke run (scripts/fuzz-smoke.sh): every native loader's target, built with
 * -fsanitize=fuzzer,address,undefined and seeded from valid objects, must find nothing. CI (CI=true or
 * HEFTY_REQUIRE_NATIVE=1) runs each target for 30 s, two at a time; elsewhere a 3 s smoke keeps npm test quick.
 * Without clang (and no root to install it) the run is skipped outside CI and fails in CI. The runs start from
 * the long campaign's committed minimized corpus (native/test/fuzz/corpus/, native/test/fuzz/CAMPAIGN.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ci = process.env.CI === 'true' || process.env.HEFTY_REQUIRE_NATIVE === '1';
const seconds = ci ? 30 : 3;
const clang = spawnSync('clang++', ['--version']).status === 0;
const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
const addon = existsSync(`${root}build/Release/hefty.node`);
const runnable = (clang || canInstall) && addon;

const corpus = `${root}native/test/fuzz/corpus/`;
const targets = readdirSync(`${root}native/test/fuzz`)
  .filter((file) => /^fuzz_\w+\.cpp$/.test(file))
  .map((file) => file.replace(/\.cpp$/, ''));

describe('native loaders under libFuzzer', () => {
  it('every target has a committed minimized corpus (scripts/fuzz-campaign.sh --merge)', () => {
    expect(targets.length).toBeGreaterThanOrEqual(8);
    for (const target of targets) expect(readdirSync(`${corpus}${target}`).length, target).toBeGreaterThan(0);
  });

  it('can run here (required in CI)', () => {
    if (ci) expect(runnable, 'clang (or root with apt-get) and the built addon').toBe(true);
    else if (!runnable) console.warn('fuzz smoke run skipped: needs clang++ and build/Release/hefty.node');
  });

  it.runIf(runnable)(
    `every target runs ${seconds} s without a finding`,
    () => {
      const run = spawnSync('bash', ['scripts/fuzz-smoke.sh'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, FUZZ_SECONDS: String(seconds), FUZZ_JOBS: '2', NODE: process.execPath },
      });
      const output = `${run.stdout}\n${run.stderr}`;
      console.log(output.split('\n').filter((l) => /^fuzz: .* (ok|FAILED)/.test(l)).join('\n'));
      expect(run.status, output.slice(-6000)).toBe(0);
      expect(output.match(/^fuzz: fuzz_\w+ ok/gm)?.length).toBeGreaterThanOrEqual(7);
      // Every target started from the campaign's committed corpus as well as the seeds.
      for (const target of targets) {
        const log = readFileSync(`${root}build/fuzz/${target}.log`, 'utf8');
        const loaded = Number(/INFO: seed corpus: files: (\d+)/.exec(log)?.[1]);
        expect(loaded, target).toBeGreaterThanOrEqual(readdirSync(`${corpus}${target}`).length);
      }
    },
    15 * 60_000,
  );
});
