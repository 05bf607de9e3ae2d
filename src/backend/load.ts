/**
 * Picks the engine: the native addon when it loads, else node-seal (WASM). `HEFTY_BACKEND=native|wasm|auto`
 * overrides; asking for native explicitly fails loudly instead of falling back.
 */
import { HeftyError } from '../errors.ts';
import type { Backend, BackendName, Scheme } from './types.ts';
import { createWasmBackend } from './wasm.ts';

export type BackendChoice = BackendName | 'auto';

const cache = new Map<BackendName, Promise<Backend>>();

function parseChoice(value: string | undefined): BackendChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'native' || value === 'wasm') return value;
  throw new HeftyError('E_INVALID_ARGUMENT', `HEFTY_BACKEND must be native, wasm or auto, got "${value}"`);
}

async function importNative(): Promise<Backend> {
  // Imported on first use: processes that run on WASM never load native.ts.
  let mod: { createNativeBackend?: () => Promise<Backend> };
  try {
    mod = await import('./native.ts');
  } catch (e) {
    throw new HeftyError('E_BACKEND_UNAVAILABLE', `native backend module is missing: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (typeof mod.createNativeBackend !== 'function') {
    throw new HeftyError('E_BACKEND_UNAVAILABLE', 'native backend module has no createNativeBackend()');
  }
  return mod.createNativeBackend();
}

function loadNamed(name: BackendName): Promise<Backend> {
  let pending = cache.get(name);
  if (!pending) {
    pending = name === 'wasm' ? createWasmBackend() : importNative();
    pending.catch(() => cache.delete(name));
    cache.set(name, pending);
  }
  return pending;
}

/** The choice in effect: the one given, else HEFTY_BACKEND, else auto. */
export function resolveBackendChoice(choice?: BackendChoice): BackendChoice {
  return choice ?? parseChoice(process.env.HEFTY_BACKEND);
}

let warnedFallback = false;

/**
 * Returns the backend to use. With 'auto' (default) it prefers native and falls back to wasm, and also falls back
 * when the native engine does not implement `scheme`.
 */
export async function loadBackend(choice?: BackendChoice, scheme?: Scheme): Promise<Backend> {
  const resolved = resolveBackendChoice(choice);
  if (resolved !== 'auto') return loadNamed(resolved);
  try {
    const native = await loadNamed('native');
    if (scheme === undefined || native.capabilities.schemes.includes(scheme)) return native;
  } catch (e) {
    if (!warnedFallback && process.env.HEFTY_QUIET_FALLBACK !== '1') {
      warnedFallback = true;
      process.emitWarning(`hefty: native engine unavailable, using node-seal (WASM): ${(e as Error).message}`, {
        code: 'HEFTY_WASM_FALLBACK',
      });
    }
  }
  return loadNamed('wasm');
}

/** Names of the backends that load on this machine. */
export async function availableBackends(): Promise<BackendName[]> {
  const names: BackendName[] = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      await loadNamed(name);
      names.push(name);
    } catch {
      // not available here
    }
  }
  return names;
}
