/**
 * The command line's contract: --help and --version on every command (and --help never does the work: `serve
 * --help` starts nothing), failures as one `hefty: <code>: <message>` line with a non-zero status, `info` saying
 * which engine runs and why. The keygen → encrypt → batch → decrypt round trip runs in test/readme.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
const COMMANDS = ['keygen', 'encrypt', 'decrypt', 'batch', 'serve', 'info', 'demo'];
const dir = mkdtempSync(join(tmpdir(), 'hefty-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hefty = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, HEFTY_QUIET_FALLBACK: '1', ...env },
    timeout: 120_000,
  });

describe('hefty', () => {
  it('--help lists every command, --version prints the package version', () => {
    const help = hefty(['--help']);
    expect(help.status).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(hefty(['--version']).stdout.trim()).toBe(VERSION);
    expect(hefty(['-v']).stdout.trim()).toBe(VERSION);
  });

  it.each(COMMANDS)('%s: --help prints its usage and does nothing else, --version the version', (command) => {
    const help = hefty([command, '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^usage: hefty ${command}`));
    expect(hefty([command, '--version']).stdout.trim()).toBe(VERSION);
    expect(existsSync(join(dir, 'data')), 'serve --help must not create ./data').toBe(false);
    expect(existsSync(join(dir, 'keys')), 'keygen --help must not write keys').toBe(false);
  });

  it('reports errors as one line with the code and a non-zero status', () => {
    const cases: [string[], RegExp, number][] = [
      [['keygen', '--bogus'], /^hefty: E_INVALID_ARGUMENT: Unknown option '--bogus'/, 1],
      [['keygen', '--degree', 'abc'], /^hefty: E_INVALID_ARGUMENT: --degree must be an integer/, 1],
      [['serve', '--port', '99999'], /^hefty: E_INVALID_ARGUMENT: --port must be an integer from 0 to 65535/, 1],
      [
        ['encrypt', '--keys', 'nowhere', '--values', 'v.json', '--out', 'x'],
        /^hefty: E_INVALID_ARGUMENT: cannot read/,
        1,
      ],
      [['decrypt', '--keys', 'keys'], /^hefty: E_INVALID_ARGUMENT: name the ciphertext files/, 1],
      [['frobnicate'], /^hefty: E_INVALID_ARGUMENT: unknown command "frobnicate"/, 2],
    ];
    for (const [args, message, status] of cases) {
      const run = hefty(args);
      expect(run.status, args.join(' ')).toBe(status);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
  });

  it('keygen --levels builds the chain it says, and refuses one over the security bound', () => {
    const ok = hefty(['keygen', '--degree', '16384', '--levels', '3', '--out', 'deep']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ckks N=16384 (8192 slots), primes 60,40,40,40,60 bits, 3 levels, scale 2^40');
    expect(existsSync(join(dir, 'deep', 'keyset.hfks')) && existsSync(join(dir, 'deep', 'secret.key'))).toBe(true);
    const again = hefty(['keygen', '--degree', '16384', '--levels', '3', '--out', 'deep']);
    expect(again.stderr).toMatch(/^hefty: E_INVALID_ARGUMENT: deep already holds keys \(--force replaces them\)/);
    const over = hefty(['keygen', '--degree', '8192', '--levels', '3', '--out', 'over']);
    expect(over.status).toBe(1);
    expect(over.stderr.trim()).toMatch(/^hefty: E_INSECURE_PARAMS: coefficient modulus of 240 bits exceeds 218 bits/);
  });

  it('decrypt rounds CKKS results by default (safe to share); --protection raw gives the exact decoding', () => {
    expect(hefty(['keygen', '--degree', '8192', '--out', 'shared']).status).toBe(0);
    const values = [Math.PI, 1 / 3];
    const encrypt = spawnSync(
      process.execPath,
      [CLI, 'encrypt', '--keys', 'shared', '--values', '-', '--out', 'pi.ct'],
      { cwd: dir, encoding: 'utf8', input: JSON.stringify(values), env: { ...process.env, HEFTY_QUIET_FALLBACK: '1' } },
    );
    expect(encrypt.status, encrypt.stderr).toBe(0);
    const decrypt = (...extra: string[]) => {
      const run = hefty(['decrypt', '--keys', 'shared', '--digits', '17', '--length', '2', ...extra, 'pi.ct']);
      expect(run.status, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as number[];
    };
    const shared = decrypt();
    const raw = decrypt('--protection', 'raw');
    // N = 8192 at scale 2^40: the default keeps multiples of 2^-17; the raw decoding carries its noise below that.
    for (let i = 0; i < values.length; i++) {
      expect(Number.isInteger(shared[i] * 2 ** 17), `${shared[i]}`).toBe(true);
      expect(Number.isInteger(raw[i] * 2 ** 17), `${raw[i]}`).toBe(false);
      expect(Math.abs(raw[i] - values[i])).toBeLessThan(1e-6);
      expect(Math.abs(shared[i] - values[i])).toBeLessThan(2 ** -17);
    }
    expect(decrypt('--protection', 'rounded')).toEqual(shared);
    const bad = hefty(['decrypt', '--keys', 'shared', '--protection', 'none', 'pi.ct']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^hefty: E_INVALID_ARGUMENT: --protection must be rounded, flooded, raw/);
  });

  it('info says which engine runs and why', () => {
    const native = hefty(['info']);
    expect(native.status).toBe(0);
    expect(native.stdout).toMatch(new RegExp(`^hefty ${VERSION} on Node v`));
    expect(native.stdout).toMatch(/^engine: (native|wasm): /m);
    const missing = hefty(['info', '--json'], { HEFTY_NATIVE_ADDON: join(dir, 'no-such-addon.node') });
    const report = JSON.parse(missing.stdout);
    expect(report).toMatchObject({
      engine: 'wasm',
      reason: expect.stringContaining('the native engine did not load'),
      native: { available: false },
      wasm: { available: true },
    });
  });
});
