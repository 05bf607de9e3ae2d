/** The README example must run exactly as written (it imports 'hefty' through the package's self-reference). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeExample, readmeExampleNumbers } from './readme-example.ts';

const root = new URL('..', import.meta.url).pathname;

describe('README', () => {
  it('example runs as written and prints the documented results', () => {
    // The file must live inside the package for `import 'hefty'` to resolve to this package; the hefty-source
    // condition points the package's exports at src/ (the package test runs it against the built tarball).
    const dir = mkdtempSync(join(root, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, readmeExample());
      const out = execFileSync(process.execPath, ['--conditions=hefty-source', file], {
        encoding: 'utf8',
        env: { ...process.env, HEFTY_QUIET_FALLBACK: '1' },
      });
      const numbers = readmeExampleNumbers(out);
      expect(numbers.slice(0, 3).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([4, -3, 7.5]);
      expect(numbers[3]).toBeCloseTo(3.5, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names exactly the two set-up commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/npm ci\nnpm test\n/);
  });
});
