/**
 * Batch-item inputs → job inputs: ciphertext bytes are copied into transferable buffers (or moved, with
 * transferInputs), cache references become cached operands (shared bytes, or a copy that moves), plain vectors
 * become Float64Arrays.
 */
import type { Program } from '../api/program.ts';
import { HeftyError } from '../errors.ts';
import { isCacheEntry, type CacheEntry, type CiphertextCache } from './cache.ts';
import { transferableCopy, transferList, type JobInput } from './jobs.ts';

/**
 * A batch item's input: for encrypted inputs ciphertext bytes, a reference into `pool.cache`, or an entry of any
 * CiphertextCache (workers keep cached operands loaded by content hash); numbers otherwise.
 */
export type PoolInput =
  | Uint8Array
  | { readonly cached: string; readonly scope?: string }
  | CacheEntry
  | number
  | ArrayLike<number>
  | readonly (readonly number[])[];

/** Ciphertext inputs whose buffers can move to a worker: whole, unshared buffers used by one input only. */
export function movableInputs(items: readonly Readonly<Record<string, PoolInput>>[]): Set<Uint8Array> {
  const seen = new Map<ArrayBufferLike, Uint8Array | null>();
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    for (const value of Object.values(item)) {
      if (!(value instanceof Uint8Array)) continue;
      const whole =
        value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
      seen.set(value.buffer, whole && !seen.has(value.buffer) ? value : null);
    }
  }
  return new Set([...seen.values()].filter((v): v is Uint8Array => v !== null));
}

/** One item's inputs as a job carries them; `movable` from movableInputs (nothing moves when empty). */
export function jobInputs(
  program: Program,
  item: Readonly<Record<string, PoolInput>>,
  cache: CiphertextCache,
  movable: ReadonlySet<Uint8Array>,
): Record<string, JobInput> {
  if (item === null || typeof item !== 'object')
    throw new HeftyError('E_BAD_PROGRAM', 'each batch item is an object of inputs');
  const inputs: Record<string, JobInput> = {};
  for (const [name, kind] of Object.entries(program.inputs)) {
    // Own properties only: a name like "constructor" must not find Object.prototype's member.
    const value = Object.hasOwn(item, name) ? item[name] : undefined;
    if (value === undefined) continue; // the worker reports the missing input
    if (value instanceof Uint8Array) {
      const shared = value.buffer instanceof SharedArrayBuffer;
      inputs[name] = { kind: 'bytes', bytes: shared || movable.has(value) ? value : transferableCopy(value) };
    } else if (isCacheEntry(value)) {
      // Shared bytes go as they are; a cache's own unshared ones as a copy that moves (the cache keeps its own).
      const shared = value.bytes.buffer instanceof SharedArrayBuffer;
      inputs[name] = { kind: 'cached', hash: value.hash, bytes: shared ? value.bytes : transferableCopy(value.bytes) };
    } else if (typeof value === 'object' && value !== null && 'cached' in value) {
      const entry = cache.get(value.cached, value.scope);
      if (!entry) throw new HeftyError('E_NOT_FOUND', `no cached ciphertext ${value.cached} (expired or never cached)`);
      inputs[name] = { kind: 'cached', hash: entry.hash, bytes: entry.bytes };
    } else if (kind === 'plain' && typeof value === 'object' && value !== null && 'length' in value) {
      // Plain vectors travel as transferred Float64Arrays, not as cloned arrays of numbers.
      inputs[name] = { kind: 'value', value: Float64Array.from(value as ArrayLike<number>) };
    } else inputs[name] = { kind: 'value', value: value as number };
  }
  return inputs;
}

/** The buffers a job's inputs can transfer (not shared ones). */
export function inputTransferList(inputs: Readonly<Record<string, JobInput>>): ArrayBuffer[] {
  return transferList(
    Object.values(inputs).flatMap((i) =>
      i.kind === 'value' ? (typeof i.value === 'number' ? [] : [i.value as ArrayLike<number>]) : [i.bytes],
    ),
  );
}
