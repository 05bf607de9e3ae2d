/**
 * The job protocol between the pool (main thread) and its workers. One job evaluates a run of items of one batch
 * (or inspects a key set): a run pays the round trip once for several items. Ciphertext bytes travel as
 * transferred ArrayBuffers; key sets and cached operands travel as views of SharedArrayBuffers, so a job never
 * copies them and a worker reads them only on a cache miss.
 */
import type { KeySetInfo } from '../api/keyset-info.ts';
import type { HeftyErrorCode } from '../errors.ts';
import type { GpuMode } from '../gpu/device.ts';

export type OutputFormat = 'hefty' | 'seal';

/** A key set as a job sees it: its content hash and its envelope bytes (shared, read only on first use). */
export interface KeySetWire {
  readonly id: string;
  readonly bytes: Uint8Array;
}

export type JobInput =
  /** One-off ciphertext bytes, transferred with the job. */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** A cached operand: `hash` keys the worker's loaded copy; `bytes` (shared) are read only on a miss. */
  | { readonly kind: 'cached'; readonly hash: string; readonly bytes: Uint8Array }
  | { readonly kind: 'value'; readonly value: number | ArrayLike<number> | readonly (readonly number[])[] };

/** Only honoured by pools created with `testHooks: true`: lets tests crash or stall a worker mid-job. */
export interface TestHook {
  /** Exit the worker thread with this code as the item starts. */
  readonly exit?: number;
  /** Block the worker thread (like a long native call) for this long before evaluating. */
  readonly stallMs?: number;
  /** Run a full garbage collection in the worker first (for memory measurements). */
  readonly gc?: boolean;
  /** Make every worker started from now on fail while starting. */
  readonly breakStartup?: boolean;
}

/**
 * A validated program as JSON in shared memory, keyed by its hash: programs can hold large matrices, and a
 * worker parses each one once instead of receiving a structured clone with every item.
 */
export interface ProgramWire {
  readonly id: string;
  readonly json: Uint8Array;
}

export interface EvalItem {
  readonly inputs: Readonly<Record<string, JobInput>>;
  readonly test?: TestHook;
}

export interface EvalJob {
  readonly type: 'eval';
  readonly keySet: KeySetWire;
  readonly program: ProgramWire;
  readonly items: readonly EvalItem[];
  /**
   * This job's entry in WorkerConfig.progress: the worker stores i + 1 there as it starts item i, so if the
   * worker is lost the pool knows which item was running, which finished (their results went down with it) and
   * which never started.
   */
  readonly slot: number;
  readonly format: OutputFormat;
  /** Steps the program marks reusable: returned with their content hash so the pool can cache them. */
  readonly reusable: readonly string[];
  /** Key-set ids removed from the pool since recently: workers holding them loaded drop them. */
  readonly drop: readonly string[];
}

export interface InspectJob {
  readonly type: 'inspect';
  readonly keySet: KeySetWire;
  readonly drop: readonly string[];
}

export type Job = EvalJob | InspectJob;

export type { KeySetInfo } from '../api/keyset-info.ts';

export interface WireError {
  readonly code: HeftyErrorCode;
  readonly message: string;
}

/** One item's outcome. */
export interface ItemDone {
  readonly ok: true;
  /** The program's outputs by name, in the job's format. */
  readonly values: Record<string, Uint8Array>;
  /** Values of the steps marked reusable (hefty envelopes) with their SHA-256, for the pool's cache. */
  readonly reusable: Record<string, { readonly bytes: Uint8Array; readonly hash: string }>;
  /** [op, milliseconds] per program step, for metrics. */
  readonly steps: readonly (readonly [string, number])[];
  /** How each encrypted input was obtained and how long that took: [source, milliseconds]. */
  readonly inputs: readonly (readonly [InputSource, number])[];
}

/** cache-hit: a cached operand already loaded in the worker; deserialized: loaded from bytes. */
export type InputSource = 'cache-hit' | 'deserialized';

export interface ItemFailed {
  readonly ok: false;
  readonly error: WireError;
}

/** A worker's JS heap after a job (its own isolate; process RSS is shared by all threads). */
export interface WorkerHeap {
  readonly threadId: number;
  readonly used: number;
  readonly total: number;
}

export interface EvalDone {
  readonly ok: true;
  readonly backend: string;
  /** One outcome per job item, in order. */
  readonly items: readonly (ItemDone | ItemFailed)[];
  readonly heap: WorkerHeap;
}

/** The whole job failed (no backend, key set that does not load): every item gets the error. */
export interface EvalFailed {
  readonly ok: false;
  readonly backend: string;
  readonly error: WireError;
}

export type EvalResult = EvalDone | EvalFailed;

export type InspectResult = { readonly ok: true; readonly info: KeySetInfo } | EvalFailed;

/** Data every worker starts with (piscina workerData). */
export interface WorkerConfig {
  readonly backend: 'native' | 'wasm' | 'auto';
  /** Native intra-op threads per worker. */
  readonly threads: number;
  readonly maxLoadedKeySets: number;
  /** Bytes of loaded operands each worker keeps (sized by their serialized length). */
  readonly operandCacheBytes: number;
  /** Whether loaded key sets key-switch on the worker's own GPU device. */
  readonly gpu: GpuMode;
  readonly testHooks: boolean;
  /** One progress entry per job in flight (a pool runs at most one job per worker). */
  readonly progress: Int32Array;
  /** Test pools only: flags shared by all workers (0: breakStartup). */
  readonly testFlags?: Int32Array;
}

/** Bytes that can be transferred without detaching the caller's buffer: a fresh, exact-size copy. */
export function transferableCopy(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

/** The ArrayBuffers among `views` that can be transferred (whole, non-shared buffers), each once. */
export function transferList(views: Iterable<Uint8Array | ArrayLike<number>>): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  for (const view of views) {
    if (!ArrayBuffer.isView(view)) continue;
    const buffer = view.buffer;
    if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) {
      list.add(buffer);
    }
  }
  return [...list];
}
