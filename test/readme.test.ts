/**
 * The README is executed: every fenced block in it must have a runner here (a block nobody runs fails the first
 * test). TypeScript blocks run as written with `import 'hefty'` resolving to this package (the hefty-source
 * condition points its exports at src/; test/package runs the Example against the packed tarball). Shell blocks
 * run in one scratch folder, in README order, with `hefty` on PATH: the CLI round trip, then the service quick
 * start with curl and the dev API key, then the client against that service. Printed results are compared with
 * the values the README's comments promise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../src/backend/load.ts';
import { readmeExample, readmeExampleNumbers } from './readme-example.ts';

const root = new URL('..', import.meta.url).pathname;
const README = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  readonly section: string;
  readonly lang: string;
  readonly code: string;
}

function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  let section = '';
  const lines = README.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{2,3} (.+)$/.exec(lines[i]);
    if (heading) section = heading[1];
    const fence = /^```(\w*)$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    blocks.push({ section, lang: fence[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const blocks = readmeBlocks();
const block = (section: string, lang: string): string => {
  const found = blocks.filter((b) => b.section === section && b.lang === lang);
  expect(found, `one ${lang} block under "${section}"`).toHaveLength(1);
  return found[0].code;
};

/** Sections and languages with a runner below. */
const RUNNERS = [
  'Example/ts',
  'Install/sh',
  'Choosing parameters/ts',
  'Programs/ts',
  'Exact integers (BFV and BGV)/ts',
  'Batch jobs/ts',
  'Command line/sh',
  'Service/sh',
  'Client/ts',
  'Development/sh',
  'Native engine: build and fuzzing/sh',
];

/** Numbers printed by a run, typed arrays' "Float64Array(n)" prefixes left out. */
const printedNumbers = (out: string): number[] =>
  (out.replace(/Float64Array\(\d+\)/g, '').match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);

const scratch = mkdtempSync(join(tmpdir(), 'hefty-readme-'));
// TypeScript blocks live inside the package so that `import 'hefty'` is the package's self-reference.
const sources = mkdtempSync(join(root, 'test', '.readme-'));
let port: number;
let serverPid: number | undefined;

function runTs(name: string, code: string, cwd = scratch): string {
  const file = join(sources, `${name}.ts`);
  writeFileSync(file, code);
  return execFileSync(process.execPath, ['--conditions=hefty-source', file], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, HEFTY_QUIET_FALLBACK: '1' },
    timeout: 300_000,
  });
}

function runSh(code: string): string {
  const run = spawnSync('bash', ['-e', '-c', code], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(scratch, 'bin')}:${process.env.PATH}`, HEFTY_QUIET_FALLBACK: '1' },
    timeout: 300_000,
  });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

beforeAll(async () => {
  // `hefty` on PATH, as `npm install -g hefty` or npx would provide it, running this checkout's sources.
  mkdirSync(join(scratch, 'bin'));
  const shim = join(scratch, 'bin', 'hefty');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" --conditions=hefty-source "${root}src/cli.ts" "$@"\n`);
  chmodSync(shim, 0o755);
  // A free port replaces 8080 (tests run in parallel with other services).
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(() => {
  if (serverPid !== undefined) {
    try {
      process.kill(serverPid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(sources, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('README', () => {
  it('has a runner for every code block', () => {
    expect(blocks.length).toBeGreaterThan(8);
    expect(blocks.map((b) => `${b.section}/${b.lang}`).sort()).toEqual([...RUNNERS].sort());
  });

  it('links only to files that exist in the repository', () => {
    const links = [...README.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(existsSync(join(root, link)), link).toBe(true);
    // Paths named in backticks that look like repository files must exist too (e.g. no ../shared/...).
    for (const [, path] of README.matchAll(/`((?:src|test|bench|docs|scripts|native)\/[\w./-]+\.\w+)`/g))
      expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('Example: runs as written and prints the documented results', () => {
    const numbers = readmeExampleNumbers(runTs('example', readmeExample()));
    expect(numbers.slice(0, 3).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([4, -3, 7.5]);
    expect(numbers[3]).toBeCloseTo(3.5, 5);
  });

  it('Install: `npm install hefty` is what test/package does with the packed tarball', () => {
    expect(block('Install', 'sh')).toBe('npm install hefty');
    expect(readFileSync(join(root, 'test', 'package', 'package.test.ts'), 'utf8')).toContain("'install', '--omit=dev'");
  });

  it('Choosing parameters: the table matches the engine, and the deeper chain runs', async () => {
    const engine = await loadBackend();
    const rows = [...README.matchAll(/^\| (\d+) +\| (\d+) +\| (\d+) +\| ([\d, ×]+?) +\| (\d+) +\|$/gm)];
    expect(rows.map((r) => Number(r[1]))).toEqual([4096, 8192, 16384, 32768]);
    const { createContext } = await import('../src/api/context.ts');
    for (const [, n, slots, maxBits, primes, levels] of rows) {
      expect(Number(slots)).toBe(Number(n) / 2);
      expect(engine.maxCoeffModulusBits(Number(n), 128)).toBe(Number(maxBits));
      const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: Number(n) });
      const bits = ctx.params.coeffModulus.map((q) => q.toString(2).length);
      ctx.dispose();
      const expanded = primes.split(', ').flatMap((p) => {
        const [bitsOf, count] = p.split(' × ').map(Number);
        return Array<number>(count ?? 1).fill(bitsOf);
      });
      expect(bits, `N=${n}`).toEqual(expanded);
      expect(bits.length - 2, `N=${n} levels`).toBe(Number(levels));
    }
    const numbers = printedNumbers(runTs('parameters', block('Choosing parameters', 'ts')));
    expect(numbers).toHaveLength(3);
    expect(numbers[0]).toBeCloseTo(0.5 ** 8, 3);
    expect(numbers[1]).toBeCloseTo(1, 3);
    expect(numbers[2]).toBeCloseTo(256, 1);
  });

  it('Programs: the example runs as written on the context the planner chose', () => {
    const out = runTs('program', block('Programs', 'ts'));
    const plan = /^levels (\d+), N (\d+), chain \[([\d,]+)\]$/m.exec(out);
    expect(plan).not.toBeNull();
    const [levels, n] = [Number(plan![1]), Number(plan![2])];
    const chain = plan![3].split(',').map(Number);
    expect(chain).toHaveLength(levels + 2);
    expect([8192, 16384]).toContain(n);
    const values = printedNumbers(out.slice(plan!.index + plan![0].length));
    const activation = (s: number) => 0.5 + 0.197 * s - 0.004 * s ** 3;
    expect(values).toHaveLength(2);
    expect(values[0]).toBeCloseTo(activation(7.25), 3);
    expect(values[1]).toBeCloseTo(activation(1.5), 3);
    expect(activation(7.25)).toBeCloseTo(0.40394, 4); // the values the README's comment gives
    expect(activation(1.5)).toBeCloseTo(0.782, 4);
  });

  it('Exact integers: runs as written and prints the documented integers', () => {
    const out = runTs('integers', block('Exact integers (BFV and BGV)', 'ts'));
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(6);
    const integers = (line: string) => (line.match(/-?\d+n/g) ?? []).map((v) => Number(v.slice(0, -1)));
    expect(integers(lines[0])).toEqual([10, 2, 17, 2, 26]);
    expect(integers(lines[1])).toEqual([21]);
    expect(integers(lines[2])).toEqual([4, 1, 5, 0, 0]);
    expect(integers(lines[3])).toEqual([8, 3]);
    expect(integers(lines[4])).toEqual([19, 3, 33, 3, 51]);
    expect(lines[5]).toBe('true');
    // The comments promise what the program prints.
    const block_ = block('Exact integers (BFV and BGV)', 'ts');
    for (const line of lines.slice(0, 5))
      expect(block_).toContain(
        `[${integers(line)
          .map((v) => `${v}n`)
          .join(', ')}]`,
      );
  });

  it('Batch jobs: runs on the pool and prints the documented scores', () => {
    const numbers = printedNumbers(runTs('batch', block('Batch jobs', 'ts')));
    expect(numbers).toHaveLength(2);
    expect(numbers[0]).toBeCloseTo(4, 2);
    expect(numbers[1]).toBeCloseTo(9.25, 2);
  });

  it('Command line: keygen → encrypt → batch → decrypt prints the documented values', () => {
    const code = block('Command line', 'sh');
    const promised = /# (\{"alice\.y".*\})$/m.exec(code)?.[1];
    expect(promised).toBeDefined();
    const out = runSh(code).trim().split('\n');
    expect(JSON.parse(out.at(-1) as string)).toEqual(JSON.parse(promised as string));
  });

  it('Service: starts in dev mode, and curl with the dev key lists and uploads key sets', () => {
    const code = block('Service', 'sh');
    expect(code).toContain('8080');
    // The background service outlives the block (the client runs against it next); its pid is kept to stop it.
    const out = runSh(`${code.replaceAll('8080', String(port))}\necho "SERVICE_PID=$!"`);
    serverPid = Number(/SERVICE_PID=(\d+)/.exec(out)?.[1]);
    // Each `# {...}` comment is output the README promises; "…" stands for whatever the run printed there.
    const promised = [...code.matchAll(/# (\{.*\})$/gm)].map((m) => m[1]);
    expect(promised).toHaveLength(2);
    for (const text of promised) {
      const pattern = text
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^]*?');
      expect(out).toMatch(new RegExp(pattern));
    }
    expect(readFileSync(join(scratch, 'hefty.log'), 'utf8')).toContain('"auth":"dev-key"');
  });

  it('Client: evaluates on that service and prints the documented score', () => {
    expect(serverPid).toBeGreaterThan(0);
    const code = block('Client', 'ts');
    const numbers = printedNumbers(runTs('client', code.replaceAll('8080', String(port))));
    expect(numbers).toHaveLength(1);
    expect(numbers[0]).toBeCloseTo(4, 2);
  });

  it('Development: names exactly the two set-up commands, which CI runs', () => {
    const code = block('Development', 'sh');
    expect(code).toContain('npm install && npm start');
    expect(code).toContain('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/npm ci\nnpm test\n/);
  });

  it('Native engine: the fuzz campaign names real targets, modes and the variables scripts/fuzz-campaign.sh reads', () => {
    // test/build/fuzz-smoke runs the same build for seconds; an hour-long campaign is not a unit test.
    const code = block('Native engine: build and fuzzing', 'sh');
    const script = readFileSync(join(root, 'scripts', 'fuzz-campaign.sh'), 'utf8');
    for (const mode of code.match(/--[a-z]+/g) ?? []) expect(script).toContain(`${mode})`);
    for (const variable of code.match(/\b[A-Z_]+(?==)/g) ?? []) expect(script).toContain(variable);
    for (const target of code.match(/\bfuzz_[a-z_]+\b/g) ?? [])
      expect(existsSync(join(root, 'native', 'test', 'fuzz', `${target}.cpp`)), target).toBe(true);
  });
});
