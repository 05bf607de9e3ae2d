/**
 * A pool worker (piscina runs this file in a worker thread; Node strips the types). Each worker has its own
 * backend instance with its own intra-op thread count, keeps key sets loaded by content hash, and keeps
 * cached operands loaded too, so repeated jobs skip deserialization. A job runs its items one after another
 * and never throws for bad data: each item's error comes back in its place, so only a lost worker fails a job.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { threadId, workerData } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { loadContext, type HeftyContext } from '../api/context.ts';
import { describeKeySet } from '../api/keyset-info.ts';
import type { Program } from '../api/program.ts';
import type { ProgramInput, ProgramVector } from '../api/run.ts';
import { loadBackend } from '../backend/load.ts';
import { HeftyError } from '../errors.ts';
import { sha256 } from './cache.ts';
import type {
  EvalItem,
  EvalJob,
  EvalResult,
  InputSource,
  ItemDone,
  ItemFailed,
  InspectJob,
  InspectResult,
  Job,
  KeySetWire,
  ProgramWire,
  TestHook,
  WorkerConfig,
} from './jobs.ts';
import { transferList } from './jobs.ts';

const config = workerData as WorkerConfig;
if (config.testHooks && config.testFlags && Atomics.load(config.testFlags, 0) === 1)
  throw new Error('test hook: this worker refuses to start');

// A backend that fails to load fails every job with its error (E_BACKEND_UNAVAILABLE), not the worker.
const ready = loadBackend(config.backend).then((backend) => {
  if ('setThreads' in backend && typeof backend.setThreads === 'function') backend.setThreads(config.threads);
  return backend;
});
ready.catch(() => undefined);

/** Operands evicted while a job may still use them are disposed after it. */
const retired: ProgramVector[] = [];

const operandSizes = new Map<string, number>();
const operands = new LRUCache<string, ProgramVector>({
  maxSize: config.operandCacheBytes,
  sizeCalculation: (_vector, key) => operandSizes.get(key) ?? 1,
  dispose: (vector, key) => {
    operandSizes.delete(key);
    retired.push(vector);
  },
});

const contexts = new LRUCache<string, HeftyContext>({
  max: config.maxLoadedKeySets,
  dispose: (ctx, id) => {
    // Operands belong to the context: they go first.
    for (const key of [...operands.keys()]) if (key.startsWith(`${id}/`)) operands.delete(key);
    disposeRetired();
    ctx.dispose();
  },
});

function disposeRetired(): void {
  for (const vector of retired.splice(0)) vector.dispose();
}

/** Engines get ordinary buffers: shared bytes (key sets, cached operands) are copied, never read in place. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes;
}

async function context(keySet: KeySetWire): Promise<HeftyContext> {
  const loaded = contexts.get(keySet.id);
  if (loaded) return loaded;
  // Its session owns the key set's GPU batch evaluator (config.gpu), freed with it when the key set goes.
  const ctx = await loadContext(ownBytes(keySet.bytes), { backend: config.backend, security: 128, gpu: config.gpu });
  contexts.set(keySet.id, ctx);
  return ctx;
}

function drop(ids: readonly string[]): void {
  for (const id of ids) contexts.delete(id);
}

function asWireError(e: unknown): { code: HeftyError['code']; message: string } {
  if (e instanceof HeftyError) return e.toJSON();
  return { code: 'E_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Full GC for test pools (memory measurements); absent elsewhere. */
const collectGarbage = config.testHooks ? exposeGc() : undefined;

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function runTestHook(test: TestHook | undefined): void {
  if (!config.testHooks || !test) return;
  if (test.gc) collectGarbage?.();
  if (test.breakStartup && config.testFlags) Atomics.store(config.testFlags, 0, 1);
  if (test.stallMs !== undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, test.stallMs);
  if (test.exit !== undefined) process.exit(test.exit);
}

function cacheOperand(key: string, vector: ProgramVector, size: number): void {
  if (size > config.operandCacheBytes) return;
  operandSizes.set(key, size);
  operands.set(key, vector);
}

const programs = new LRUCache<string, Program>({ max: 32 });

function program(wire: ProgramWire): Program {
  let parsed = programs.get(wire.id);
  if (!parsed) {
    parsed = JSON.parse(new TextDecoder().decode(ownBytes(wire.json))) as Program;
    programs.set(wire.id, parsed);
  }
  return parsed;
}

async function evaluate(ctx: HeftyContext, checked: Program, job: EvalJob, item: EvalItem): Promise<ItemDone> {
  const owned: ProgramVector[] = [];
  let outputs: Record<string, ProgramVector> = {};
  const loads: [InputSource, number][] = [];
  try {
    const inputs: Record<string, ProgramInput> = {};
    for (const [name, kind] of Object.entries(checked.inputs)) {
      const input = Object.hasOwn(item.inputs, name) ? item.inputs[name] : undefined;
      if (input === undefined) throw new HeftyError('E_BAD_PROGRAM', `input "${name}" is missing`);
      if (kind === 'vector' && input.kind === 'value')
        throw new HeftyError('E_BAD_PROGRAM', `input "${name}" needs a ciphertext`);
      if (kind !== 'vector' && input.kind !== 'value')
        throw new HeftyError('E_BAD_PROGRAM', `input "${name}" is ${kind}, not a ciphertext`);
      if (input.kind === 'value') {
        inputs[name] = input.value as ProgramInput;
        continue;
      }
      const started = performance.now();
      let source: InputSource = 'deserialized';
      if (input.kind === 'bytes') {
        const vector = ctx.loadVector(ownBytes(input.bytes));
        owned.push(vector);
        inputs[name] = vector;
      } else {
        const key = `${job.keySet.id}/${input.hash}`;
        let vector = operands.get(key);
        if (vector) source = 'cache-hit';
        else {
          vector = ctx.loadVector(ownBytes(input.bytes));
          cacheOperand(key, vector, input.bytes.byteLength);
          if (!operands.has(key)) owned.push(vector);
        }
        inputs[name] = vector;
      }
      loads.push([source, performance.now() - started]);
    }
    const steps: [string, number][] = [];
    const withReusable = { ...checked, outputs: [...new Set([...checked.outputs, ...job.reusable])] };
    outputs = await ctx.run(withReusable, inputs, { onStep: (op, ms) => steps.push([op, ms]) });
    const values: Record<string, Uint8Array> = {};
    for (const name of checked.outputs) {
      const seal = job.format === 'seal' && outputs[name].chunkCount === 1;
      values[name] = outputs[name].serialize(seal ? 'seal' : 'hefty');
    }
    // Reusable values are cached as hefty envelopes (they keep the vector length), whatever the output format.
    const reusable: Record<string, { bytes: Uint8Array; hash: string }> = {};
    for (const name of job.reusable) {
      const bytes = job.format === 'hefty' && values[name] ? values[name] : outputs[name].serialize('hefty');
      const hash = sha256(bytes);
      reusable[name] = { bytes, hash };
      const key = `${job.keySet.id}/${hash}`;
      if (!operands.has(key)) {
        cacheOperand(key, outputs[name], bytes.byteLength);
        if (operands.has(key)) delete outputs[name]; // the cache owns it now
      }
    }
    return { ok: true, values, reusable, steps, inputs: loads };
  } finally {
    for (const v of owned) v.dispose();
    for (const v of Object.values(outputs)) v.dispose();
    disposeRetired();
  }
}

async function inspect(job: InspectJob): Promise<InspectResult> {
  const ctx = await context(job.keySet);
  return { ok: true, info: describeKeySet(ctx) };
}

export default async function run(job: Job): Promise<unknown> {
  let backend = 'none';
  try {
    backend = (await ready).name;
    drop(job.drop.filter((id) => id !== job.keySet.id)); // a job never unloads its own key set
    if (job.type === 'inspect') return await inspect(job);
    const ctx = await context(job.keySet);
    const checked = program(job.program);
    const items: (ItemDone | ItemFailed)[] = [];
    for (const [i, item] of job.items.entries()) {
      Atomics.store(config.progress, job.slot, i + 1);
      runTestHook(item.test);
      try {
        items.push(await evaluate(ctx, checked, job, item));
      } catch (e) {
        items.push({ ok: false, error: asWireError(e) });
      }
    }
    const { used_heap_size: used, total_heap_size: total } = getHeapStatistics();
    const result: EvalResult = { ok: true, backend: ctx.backend.name, items, heap: { threadId, used, total } };
    // Result bytes move back to the main thread without a copy.
    const buffers = items.flatMap((r) =>
      r.ok ? [...Object.values(r.values), ...Object.values(r.reusable).map((v) => v.bytes)] : [],
    );
    return move({ [transferableSymbol]: transferList(buffers), [valueSymbol]: result });
  } catch (e) {
    return { ok: false, backend, error: asWireError(e) } satisfies InspectResult;
  }
}
