/** The README examples must run exactly as written (they import 'hefty' through the package's self-reference). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** The first ts block under a README heading, run as a file inside the package; returns what it printed. */
function runReadmeBlock(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const example = readme.split(`\n${heading}\n`)[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(example).toContain("from 'hefty'");
  // The file must live inside the package for `import 'hefty'` to resolve to this package.
  const dir = mkdtempSync(join(root, 'test', '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, example as string);
    return execFileSync(process.execPath, [file], {
      encoding: 'utf8',
      env: { ...process.env, HEFTY_QUIET_FALLBACK: '1' },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('README', () => {
  it('example runs as written and prints the documented results', () => {
    const out = runReadmeBlock('## Example');
    const numbers =
      out
        .replace(/Float64Array\(\d+\)/, '')
        .match(/-?\d+(\.\d+)?(e-?\d+)?/g)
        ?.map(Number) ?? [];
    expect(numbers).toHaveLength(4);
    expect(numbers.slice(0, 3).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([4, -3, 7.5]);
    expect(numbers[3]).toBeCloseTo(3.5, 5);
  });

  it('program example runs as written on the context the planner chose', () => {
    const out = runReadmeBlock('## Programs');
    const plan = /^levels (\d+), N (\d+), chain \[([\d,]+)\]$/m.exec(out);
    expect(plan).not.toBeNull();
    const [levels, n] = [Number(plan![1]), Number(plan![2])];
    const chain = plan![3].split(',').map(Number);
    expect(chain).toHaveLength(levels + 2);
    expect([8192, 16384]).toContain(n);
    const values = out
      .slice(plan!.index + plan![0].length)
      .replace(/Float64Array\(\d+\)/, '')
      .match(/-?\d+(\.\d+)?(e-?\d+)?/g)
      ?.map(Number);
    const activation = (s: number) => 0.5 + 0.197 * s - 0.004 * s ** 3;
    expect(values).toHaveLength(2);
    expect(values![0]).toBeCloseTo(activation(7.25), 3);
    expect(values![1]).toBeCloseTo(activation(1.5), 3);
    expect(activation(7.25)).toBeCloseTo(0.40394, 4); // the values the README's comment gives
    expect(activation(1.5)).toBeCloseTo(0.782, 4);
  });

  it('names exactly the two set-up commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/npm ci\nnpm test\n/);
  });
});
