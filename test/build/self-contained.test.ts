/**
 * The repository must carry everything its code, tests, scripts and benchmarks read: a fresh clone outside any
 * workspace has to pass `npm test`. Every relative path literal in those files is resolved against the file's
 * own folder (as `new URL(..., import.meta.url)` and imports do) and must stay inside the repository; absolute
 * paths into the team workspace are refused outright.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHECKED_FOLDERS = ['src', 'test', 'bench', 'scripts', 'native/test'];
const CHECKED_EXTENSIONS = new Set(['.ts', '.mjs', '.js', '.sh', '.cpp', '.h']);
const SKIPPED_FOLDERS = new Set(['fixtures', 'node_modules', 'results']);

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name) || entry.name.startsWith('.') ? [] : sourceFiles(path);
    return CHECKED_EXTENSIONS.has(extname(entry.name)) ? [path] : [];
  });
}

/** Relative paths (`./x`, `../x`, `..`) quoted in code, and absolute paths into the workspace. */
export function escapingPaths(file: string, text: string, repoRoot = root): string[] {
  const found = new Set<string>();
  const code = text.replace(/^\s*(\/\/|\*|#).*$/gm, ''); // comments may name anything
  for (const match of code.matchAll(/(['"`])(\.\.?(?:\/[^'"`\s$]*)?)\1/g)) {
    const target = resolve(dirname(join(repoRoot, file)), match[2]);
    if (relative(repoRoot, target).startsWith('..')) found.add(match[2]);
  }
  for (const match of code.matchAll(/(['"`])((?:\/work\/|[^'"`\n]*shared\/(?:spec|design)\/)[^'"`\n]*)\1/g)) {
    found.add(match[2]);
  }
  return [...found];
}

describe('self-contained repository', () => {
  it('no source, test, script or benchmark reads outside the repository', () => {
    const checker = relative(root, fileURLToPath(import.meta.url)); // its own examples below
    const files = CHECKED_FOLDERS.flatMap(sourceFiles).filter((file) => file !== checker);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.flatMap((file) =>
      escapingPaths(file, readFileSync(join(root, file), 'utf8')).map((path) => `${file}: ${path}`),
    );
    expect(offenders).toEqual([]);
  });

  it('flags the kinds of path that escaped before', () => {
    expect(
      escapingPaths(
        'test/native-ckks/ntt.test.ts',
        "readFileSync(new URL('../../../shared/spec/seal-test-vectors.json', import.meta.url))",
      ),
    ).toEqual(['../../../shared/spec/seal-test-vectors.json']);
    expect(escapingPaths('src/a.ts', "const p = '/work/shared/design/ARCHITECTURE.md';")).toHaveLength(1);
    expect(escapingPaths('test/a/b.test.ts', "import x from '../../src/x.ts'; new URL('../fixtures/v.json')")).toEqual(
      [],
    );
  });
});
