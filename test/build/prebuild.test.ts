/**
 * Where the native addon is looked for: HEFTY_NATIVE_ADDON alone when set, else a source build before the
 * package's prebuilt binary; and the install script (plain JS) names the prebuild folder as the loader does.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonCandidates, prebuildTag } from '../../src/backend/addon-location.ts';
// @ts-expect-error: a plain-JS script without type declarations
import { prebuildTag as installScriptTag } from '../../scripts/prebuild-tag.mjs';

const root = mkdtempSync(join(tmpdir(), 'hefty-addon-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const put = (path: string): string => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), '');
  return join(root, path);
};

describe('native addon location', () => {
  it('the loader and the install script agree on the prebuild folder', () => {
    expect(installScriptTag()).toBe(prebuildTag());
    expect(prebuildTag()).toMatch(/^[a-z0-9]+-[a-z0-9]+(-musl)?$/);
  });

  it('prefers a source build to the prebuilt binary, and HEFTY_NATIVE_ADDON to both', () => {
    expect(addonCandidates({}, root)).toEqual([]);
    const prebuilt = put(`prebuilds/${prebuildTag()}/hefty.node`);
    expect(addonCandidates({}, root)).toEqual([{ origin: 'prebuilt', file: prebuilt }]);
    const built = put('build/Release/hefty.node');
    expect(addonCandidates({}, root)).toEqual([
      { origin: 'source-build', file: built },
      { origin: 'prebuilt', file: prebuilt },
    ]);
    expect(addonCandidates({ HEFTY_NATIVE_ADDON: '/x/y.node' }, root)).toEqual([{ origin: 'env', file: '/x/y.node' }]);
  });
});
