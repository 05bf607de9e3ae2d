/**
 * hefty as its users get it: `npm pack`, then the tarball installed into an empty project with production
 * dependencies only, on Node 22 and Node 24, with nothing but `node` and `sh` on PATH (no compiler, no cmake,
 * so the native engine can only be the prebuilt binary). There: `npx hefty --version`, `npx hefty info`, the
 * README example on the native engine, `hefty/client` against a service started with `hefty serve`.
 * Node 24 is the project's own (the `node` dev dependency); Node 22 comes from the npm package node@22 through
 * `npm exec` (npm's cache once fetched). Dependencies install from npm's cache where it has them.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeExample, readmeExampleNumbers } from '../readme-example.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const PACK_TIMEOUT_MS = 600_000;
const INSTALL_TIMEOUT_MS = 300_000;

/** npm's own CLI script: the one running this test (npm test), else the one on PATH. */
function npmCli(name: 'npm-cli.js' | 'npx-cli.js'): string {
  const npm =
    process.env.npm_execpath ?? realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  return join(dirname(npm), name);
}

function nodeBinary(major: number): string {
  if (process.versions.node.startsWith(`${major}.`)) return process.execPath;
  const path = execFileSync(
    process.execPath,
    [
      npmCli('npm-cli.js'),
      'exec',
      '--yes',
      '--prefer-offline',
      `--package=node@${major}`,
      '--',
      'node',
      '-p',
      'process.execPath',
    ],
    { encoding: 'utf8', cwd: tmpdir(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return path.trim();
}

let work: string;
let tarball: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hefty-package-'));
  const packed = spawnSync(process.execPath, [npmCli('npm-cli.js'), 'pack', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    timeout: PACK_TIMEOUT_MS,
  });
  expect(packed.status, packed.stderr).toBe(0);
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as { filename: string }[];
  tarball = join(work, filename);
}, PACK_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('carries built JS, types, the prebuilt binary and the install script, and no tests or TypeScript sources', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const file of [
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/index.js.map',
      'package/dist/client/client.js',
      'package/dist/server/index.js',
      'package/dist/cli.js',
      'package/scripts/install.mjs',
      `package/prebuilds/${process.platform}-${process.arch}/hefty.node`,
      'package/CMakeLists.txt',
      'package/native/addon/module.cpp',
    ])
      expect(files).toContain(file);
    expect(files.filter((f) => /^package\/(test|bench|src)\//.test(f) || f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const megabytes = statSync(tarball).size / 2 ** 20;
    console.log(`tarball ${tarball.split('/').pop()}: ${megabytes.toFixed(2)} MiB, ${files.length} files`);
    expect(megabytes).toBeLessThan(5);
  });
});

describe.each([22, 24])('installed on Node %i without a compiler', (major) => {
  let project: string;
  let env: NodeJS.ProcessEnv;
  let node: string;
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
    spawnSync(node, args, { cwd: project, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    node = nodeBinary(major);
    project = join(work, `node${major}`);
    const bin = join(project, '.bin-only-node');
    mkdirSync(bin, { recursive: true });
    symlinkSync(node, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // The caller's environment (proxies, CA certificates, npm's cache) minus npm's per-run variables, with
    // nothing but node and sh on PATH.
    env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(npm_(?!config_(cache|registry|cafile|https?_proxy))|VITEST)/i.test(k),
      ),
    );
    env.PATH = bin;
    env.npm_config_update_notifier = 'false';
    const started = performance.now();
    const install = spawnSync(
      node,
      [npmCli('npm-cli.js'), 'install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: project, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`npm install of the tarball on Node ${major}: ${seconds.toFixed(1)} s`);
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    // The prebuilt binary loads, so the install script has nothing to build and nothing to warn about.
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/hefty: WARNING|EBADENGINE/);
  }, INSTALL_TIMEOUT_MS);

  it(`runs on Node ${major}`, () => {
    expect(run(['--version']).stdout.trim()).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('npx hefty --version and --help', () => {
    const version = run([npmCli('npx-cli.js'), '--no-install', 'hefty', '--version']);
    expect(version.stdout.trim(), version.stderr).toBe(VERSION);
    const help = run([npmCli('npx-cli.js'), '--no-install', 'hefty', 'keygen', '--help']);
    expect(help.stdout).toMatch(/^usage: hefty keygen/);
  });

  it('npx hefty info: the prebuilt native engine, no compiler needed', () => {
    const info = run([npmCli('npx-cli.js'), '--no-install', 'hefty', 'info']);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain('engine: native: the prebuilt binary shipped for this platform');
    expect(info.stdout).toContain(join('prebuilds', `${process.platform}-${process.arch}`, 'hefty.node'));
  });

  it('every export resolves to built JavaScript', () => {
    const probe = run([
      '--input-type=module',
      '-e',
      "const [lib, client, server] = await Promise.all(['hefty', 'hefty/client', 'hefty/server'].map((m) => import(m)));" +
        'console.log(typeof lib.createContext, typeof client.HeftyClient, typeof server.startServer)',
    ]);
    expect(probe.stdout.trim(), probe.stderr).toBe('function function function');
  });

  it("the README example, with `import 'hefty'`, on the native engine", () => {
    writeFileSync(join(project, 'example.mjs'), readmeExample());
    const out = run(['example.mjs'], { HEFTY_BACKEND: 'native' });
    expect(out.status, out.stderr).toBe(0);
    const numbers = readmeExampleNumbers(out.stdout);
    expect(numbers.slice(0, 3).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([4, -3, 7.5]);
    expect(numbers[3]).toBeCloseTo(3.5, 5);
  });

  it("`import { HeftyClient } from 'hefty/client'` against `hefty serve`", async () => {
    // Started through its bin link, not npx: npx would not pass SIGTERM on to the service.
    const server = spawn(
      node,
      [join('node_modules', '.bin', 'hefty'), 'serve', '--port', '0', '--data-dir', 'data', '--workers', '1'],
      { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      let url: string | undefined;
      let engine: string | undefined;
      for await (const line of createInterface({ input: server.stdout })) {
        const record = JSON.parse(line) as { url?: string; engine?: string };
        if (record.url) {
          ({ url, engine } = record);
          break;
        }
      }
      expect(engine).toBe('native');
      writeFileSync(
        join(project, 'client.mjs'),
        `import { readFileSync } from 'node:fs';
import { createContext } from 'hefty';
import { HeftyClient } from 'hefty/client';

const client = new HeftyClient({ baseUrl: process.argv[2], apiKey: readFileSync('data/dev-api-key', 'utf8').trim() });
const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
ctx.keygen();
const keySet = await client.uploadKeySet(ctx.exportKeySet());
const program = { inputs: { x: 'vector' }, steps: [{ out: 'y', op: 'mul', args: ['x', { const: 3 }] }], outputs: ['y'] };
const { y } = await client.eval(keySet.id, program, { x: ctx.encrypt([1, 2, 3]).serialize() });
console.log(JSON.stringify(Array.from(ctx.loadVector(y).decrypt(), (v) => Math.round(v * 1000) / 1000)));
`,
      );
      const out = spawnSync(node, ['client.mjs', url as string], {
        cwd: project,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(out.status, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual([3, 6, 9]);
    } finally {
      server.kill('SIGTERM');
      if (server.exitCode === null) await once(server, 'exit');
    }
  });
});
