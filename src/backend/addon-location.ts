/**
 * Where the native addon comes from, in order: HEFTY_NATIVE_ADDON (an explicit file), build/Release/hefty.node
 * (built from source: in a clone, or by the install script where no prebuild matched), then the prebuilt binary
 * shipped in the package for this platform, prebuilds/<platform>-<arch>[-musl]/hefty.node. A fresh source build
 * wins over the prebuild, so `npm rebuild hefty` takes effect. The chosen candidate is kept so `hefty info` can
 * say which binary runs and why.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonOrigin = 'env' | 'source-build' | 'prebuilt';

export interface AddonCandidate {
  readonly origin: AddonOrigin;
  readonly file: string;
}

/** The package root: two folders above this module, in src/backend as in dist/backend. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** glibc and musl builds of one platform are different binaries; the prebuild folder says which. */
function libcSuffix(): string {
  if (process.platform !== 'linux') return '';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? '' : '-musl';
}

/** The prebuild folder name for this process: linux-x64, linux-arm64-musl, darwin-arm64, win32-x64, ... */
export function prebuildTag(): string {
  return `${process.platform}-${process.arch}${libcSuffix()}`;
}

/** Candidates that exist on disk, best first. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env, root = PACKAGE_ROOT): AddonCandidate[] {
  if (env.HEFTY_NATIVE_ADDON) return [{ origin: 'env', file: env.HEFTY_NATIVE_ADDON }];
  return [
    { origin: 'source-build' as const, file: path.join(root, 'build', 'Release', 'hefty.node') },
    { origin: 'prebuilt' as const, file: path.join(root, 'prebuilds', prebuildTag(), 'hefty.node') },
  ].filter((candidate) => existsSync(candidate.file));
}
