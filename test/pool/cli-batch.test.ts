/** `hefty batch` end to end: files in, pool, files out; outputs decrypt to the reference, bad items are listed. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, decrypt, dot, dotProgram, encryptBytes, type Client } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
let c: Client;
let dir: string;

beforeAll(async () => {
  c = await client(4096);
  dir = mkdtempSync(join(tmpdir(), 'hefty-cli-batch-'));
});
afterAll(() => {
  c?.ctx.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it('runs a program over a directory of ciphertexts and writes one file per output', () => {
  const w = [0.5, 2, -1];
  const xs = Array.from({ length: 6 }, (_, i) => [i, 1, 2 * i]);
  mkdirSync(join(dir, 'in'));
  xs.forEach((x, i) => writeFileSync(join(dir, 'in', `item${i}.ct`), encryptBytes(c.ctx, x)));
  writeFileSync(join(dir, 'in', 'broken.ct'), new Uint8Array(100).fill(1));
  writeFileSync(join(dir, 'keyset.hfks'), c.keySet);
  writeFileSync(join(dir, 'program.json'), JSON.stringify(dotProgram));
  writeFileSync(join(dir, 'values.json'), JSON.stringify({ w }));

  const run = spawnSync(
    process.execPath,
    [
      CLI,
      'batch',
      ...['--keyset', join(dir, 'keyset.hfks'), '--program', join(dir, 'program.json')],
      ...['--values', join(dir, 'values.json'), '--inputs', join(dir, 'in'), '--out', join(dir, 'out')],
      ...['--workers', '2', '--no-progress'],
    ],
    { encoding: 'utf8' },
  );
  expect(run.stdout).toContain('6/7 items done');
  expect(run.status).toBe(1);
  const written = readdirSync(join(dir, 'out')).sort();
  expect(written).toEqual(['errors.json', ...xs.map((_, i) => `item${i}.z.ct`)]);
  xs.forEach((x, i) =>
    expect(decrypt(c.ctx, readFileSync(join(dir, 'out', `item${i}.z.ct`)))[0]).toBeCloseTo(dot(x, w), 2),
  );
  expect(JSON.parse(readFileSync(join(dir, 'out', 'errors.json'), 'utf8'))).toEqual({
    broken: { code: 'E_BAD_SERIALIZATION', message: expect.any(String) },
  });
});

it('runs integer programs (BFV and BGV key sets) and the outputs decrypt exactly', async () => {
  const { createContext, encodeKeySet } = await import('../../src/index.ts');
  for (const scheme of ['bfv', 'bgv'] as const) {
    const ctx = await createContext({ scheme, polyModulusDegree: 4096 });
    try {
      ctx.keygen({ galois: 'power-of-two' });
      const base = join(dir, scheme);
      mkdirSync(join(base, 'in'), { recursive: true });
      const xs = [
        [1, -2, 3],
        [40, 50, -60],
      ];
      xs.forEach((x, i) => writeFileSync(join(base, 'in', `item${i}.ct`), ctx.encrypt(x).serialize()));
      writeFileSync(join(base, 'keyset.hfks'), encodeKeySet(ctx.exportKeySet()));
      const program = {
        inputs: { x: 'vector', w: 'plain' },
        steps: [
          { out: 'd', op: 'dot', args: ['x', 'w'] },
          { out: 'r', op: 'rotate', args: ['x'], steps: 1 },
        ],
        outputs: ['d', 'r'],
      };
      writeFileSync(join(base, 'program.json'), JSON.stringify(program));
      writeFileSync(join(base, 'values.json'), JSON.stringify({ w: [3, 2, 1] }));
      const run = spawnSync(
        process.execPath,
        [
          CLI,
          'batch',
          ...['--keyset', join(base, 'keyset.hfks'), '--program', join(base, 'program.json')],
          ...['--values', join(base, 'values.json'), '--inputs', join(base, 'in'), '--out', join(base, 'out')],
          ...['--workers', '1', '--no-progress'],
        ],
        { encoding: 'utf8' },
      );
      expect(run.stdout, run.stderr).toContain('2/2 items done');
      xs.forEach((x, i) => {
        const out = (name: string) =>
          ctx.loadVector(new Uint8Array(readFileSync(join(base, 'out', `item${i}.${name}.ct`)))).decrypt();
        expect(out('d')).toEqual(BigInt64Array.of(BigInt(3 * x[0] + 2 * x[1] + x[2])));
        expect(out('r')).toEqual(BigInt64Array.from([x[1], x[2], 0], BigInt));
      });
    } finally {
      ctx.dispose();
    }
  }
});

it('reports bad arguments and unreadable files as E_INVALID_ARGUMENT', () => {
  for (const args of [
    ['--bogus'],
    ['--keyset', join(dir, 'missing'), '--program', 'p', '--inputs', dir, '--out', dir],
  ]) {
    const run = spawnSync(process.execPath, [CLI, 'batch', ...args], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^hefty: E_INVALID_ARGUMENT: /);
  }
});
