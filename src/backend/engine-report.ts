/**
 * Which engine this process runs CKKS on, and why: the native addon (its origin: a source build, the package's
 * prebuilt binary or HEFTY_NATIVE_ADDON; its SIMD path) or node-seal (WASM) with the reason native did not load.
 * `hefty info`, the service's start-up line and its hefty_info metric all say the same thing.
 */
import { VERSION } from '../version.ts';
import { prebuildTag, type AddonOrigin } from './addon-location.ts';
import { loadBackend } from './load.ts';
import type { BackendName } from './types.ts';

export interface EngineReport {
  version: string;
  /** The engine CKKS contexts get with the current HEFTY_BACKEND. */
  engine: BackendName;
  /** One sentence: why that engine. */
  reason: string;
  /** platform-arch[-musl], the prebuilds/ folder this process would use. */
  platform: string;
  native: { available: true; origin: AddonOrigin; file: string; simd: string } | { available: false; error: string };
  /** Absent when not probed (the service skips it: node-seal costs tens of MB in a process that may not use it). */
  wasm?: { available: true } | { available: false; error: string };
}

const ORIGIN_TEXT: Record<AddonOrigin, string> = {
  env: 'the addon named by HEFTY_NATIVE_ADDON',
  'source-build': 'built from source',
  prebuilt: 'the prebuilt binary shipped for this platform',
};

async function probe<T>(load: () => Promise<T>): Promise<{ value: T } | { error: string }> {
  try {
    return { value: await load() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function engineReport({ probeWasm = true } = {}): Promise<EngineReport> {
  const native = await probe(async () => {
    const backend = await loadBackend('native');
    const { NativeBackend } = await import('./native.ts');
    if (!(backend instanceof NativeBackend)) throw new Error('unexpected native backend');
    return backend;
  });
  const wasm = probeWasm ? await probe(() => loadBackend('wasm')) : undefined;
  const choice = process.env.HEFTY_BACKEND || 'auto';
  const engine: BackendName = choice === 'wasm' ? 'wasm' : choice === 'native' || 'value' in native ? 'native' : 'wasm';
  const reason =
    'value' in native
      ? engine === 'native'
        ? `${ORIGIN_TEXT[native.value.source.origin]} (${native.value.source.file}), ${native.value.simdPath} code path`
        : 'HEFTY_BACKEND=wasm'
      : `the native engine did not load: ${native.error}`;
  return {
    version: VERSION,
    engine,
    reason,
    platform: prebuildTag(),
    native:
      'value' in native
        ? {
            available: true,
            origin: native.value.source.origin,
            file: native.value.source.file,
            simd: native.value.simdPath,
          }
        : { available: false, error: native.error },
    ...(wasm && { wasm: 'value' in wasm ? { available: true } : { available: false, error: wasm.error } }),
  };
}
