/**
 * Key switching as requests: vector operations are written as plans (generators) that yield every relinearize
 * or rotation they need as one request over all the ciphertexts of a step (all chunks, all matrix rows), and a
 * key switcher serves them. The synchronous API serves them one by one on the CPU evaluator; programs serve
 * them through the session's key switcher, which may send a whole request to the GPU in one batched call.
 * Either way the results are the same ciphertext bytes, except for `rotate-hoisted`: the native CPU engine hoists
 * (one decomposition per ciphertext for all steps), the GPU rotates step by step; both decrypt within rotation error.
 */
import type { Ciphertext, Evaluator, GaloisKeys, RelinKeys, Scheme } from '../backend/types.ts';
import type { BatchEvaluator } from '../gpu/batch-evaluator.ts';

/**
 * `rotate` always names a step that has its own galois key (plans compose other steps). `rotate-hoisted` rotates
 * each ciphertext of the list by every step (each with its own key); results come ciphertext-major: all steps of
 * list[0], then all of list[1], ...
 */
export type KeySwitchRequest =
  | { op: 'relinearize'; list: readonly Ciphertext[] }
  | { op: 'rotate'; list: readonly Ciphertext[]; steps: number }
  | { op: 'rotate-hoisted'; list: readonly Ciphertext[]; steps: readonly number[] };

/** How many ciphertexts a request produces. */
export function requestOutputs(request: KeySwitchRequest): number {
  return request.op === 'rotate-hoisted' ? request.list.length * request.steps.length : request.list.length;
}

/** A computation that yields key-switching requests and receives their results (owned by the plan). */
export type Plan<T> = Generator<KeySwitchRequest, T, Ciphertext[]>;

/** One key-switching request inside a plan: `yield* keySwitch(...)` gives its results. */
export function* keySwitch(request: KeySwitchRequest): Plan<Ciphertext[]> {
  return yield request;
}

export interface KeySwitchKeys {
  readonly relinKeys: RelinKeys;
  readonly galoisKeys: GaloisKeys;
  /** Rotations are CKKS slot rotations, or (BFV, BGV) rotations of both rows of the batching matrix. */
  readonly scheme: Scheme;
}

export interface KeySwitchStats {
  /** Requests served, and how many of them (and of their ciphertexts) went to the GPU. */
  requests: number;
  ciphertexts: number;
  gpuRequests: number;
  gpuCiphertexts: number;
  /** The most ciphertexts one request carried. */
  largestRequest: number;
}

export interface KeySwitcher {
  /** The GPU adapter requests may go to, or null (CPU only). */
  readonly device: string | null;
  readonly stats: Readonly<KeySwitchStats>;
  serve(request: KeySwitchRequest, keys: KeySwitchKeys): Ciphertext[] | Promise<Ciphertext[]>;
  dispose(): void;
}

function emptyStats(): KeySwitchStats {
  return { requests: 0, ciphertexts: 0, gpuRequests: 0, gpuCiphertexts: 0, largestRequest: 0 };
}

function count(stats: KeySwitchStats, size: number, onGpu: boolean): void {
  stats.requests++;
  stats.ciphertexts += size;
  stats.largestRequest = Math.max(stats.largestRequest, size);
  if (onGpu) {
    stats.gpuRequests++;
    stats.gpuCiphertexts += size;
  }
}

/** Serves a request on the CPU evaluator, one ciphertext at a time; nothing is left behind on failure. */
export function serveOnCpu(evaluator: Evaluator, request: KeySwitchRequest, keys: KeySwitchKeys): Ciphertext[] {
  const out: Ciphertext[] = [];
  const rows = keys.scheme !== 'ckks';
  try {
    for (const c of request.list) {
      if (request.op === 'relinearize') out.push(evaluator.relinearize(c, keys.relinKeys));
      else if (request.op === 'rotate' && rows) out.push(evaluator.rotateRows(c, request.steps, keys.galoisKeys));
      else if (request.op === 'rotate') out.push(evaluator.rotateVector(c, request.steps, keys.galoisKeys));
      // The integer engines have no hoisted row rotation: one after another.
      else if (rows) for (const step of request.steps) out.push(evaluator.rotateRows(c, step, keys.galoisKeys));
      else out.push(...evaluator.rotateVectorHoisted(c, request.steps, keys.galoisKeys));
    }
  } catch (e) {
    for (const c of out) c.dispose();
    throw e;
  }
  return out;
}

/** The default: the session's own evaluator, synchronously. */
export class CpuKeySwitcher implements KeySwitcher {
  readonly device = null;
  readonly stats = emptyStats();
  readonly #evaluator: Evaluator;

  constructor(evaluator: Evaluator) {
    this.#evaluator = evaluator;
  }

  serve(request: KeySwitchRequest, keys: KeySwitchKeys): Ciphertext[] {
    count(this.stats, requestOutputs(request), false);
    return serveOnCpu(this.#evaluator, request, keys);
  }

  /** The evaluator belongs to the session. */
  dispose(): void {}
}

/** Each request is one batched call; the batch evaluator decides per batch whether the GPU pays. */
export class BatchKeySwitcher implements KeySwitcher {
  readonly stats = emptyStats();
  readonly #batch: BatchEvaluator;

  constructor(batch: BatchEvaluator) {
    this.#batch = batch;
  }

  get device(): string | null {
    return this.#batch.device;
  }

  async serve(request: KeySwitchRequest, keys: KeySwitchKeys): Promise<Ciphertext[]> {
    let out: Ciphertext[];
    if (request.op === 'relinearize') out = await this.#batch.relinearizeMany(request.list, keys.relinKeys);
    else if (request.op === 'rotate') out = await this.#batch.rotateMany(request.list, request.steps, keys.galoisKeys);
    else out = await this.#rotateEachStep(request.list, request.steps, keys.galoisKeys);
    count(this.stats, requestOutputs(request), this.#batch.lastPath === 'gpu');
    return out;
  }

  /** The GPU batches over ciphertexts, not steps: one batch per step, reordered ciphertext-major. */
  async #rotateEachStep(
    list: readonly Ciphertext[],
    steps: readonly number[],
    keys: GaloisKeys,
  ): Promise<Ciphertext[]> {
    const byStep: Ciphertext[][] = [];
    try {
      for (const step of steps) byStep.push(await this.#batch.rotateMany(list, step, keys));
    } catch (e) {
      for (const batch of byStep) for (const c of batch) c.dispose();
      throw e;
    }
    return list.flatMap((_, i) => byStep.map((batch) => batch[i]));
  }

  dispose(): void {
    this.#batch.destroy();
  }
}

/** Runs a plan to completion with a synchronous server; a failed request is thrown into the plan to clean up. */
export function runPlanSync<T>(plan: Plan<T>, serve: (request: KeySwitchRequest) => Ciphertext[]): T {
  let step = plan.next(undefined as unknown as Ciphertext[]);
  while (!step.done) {
    let results: Ciphertext[];
    try {
      results = serve(step.value);
    } catch (e) {
      step = plan.throw(e);
      continue;
    }
    step = plan.next(results);
  }
  return step.value;
}

/** Runs a plan with a server that may be asynchronous (the GPU path). */
export async function runPlan<T>(
  plan: Plan<T>,
  serve: (request: KeySwitchRequest) => Ciphertext[] | Promise<Ciphertext[]>,
): Promise<T> {
  let step = plan.next(undefined as unknown as Ciphertext[]);
  while (!step.done) {
    let results: Ciphertext[];
    try {
      // A synchronous server (the CPU) is not awaited: no event-loop turn per request.
      const served = serve(step.value);
      results = served instanceof Promise ? await served : served;
    } catch (e) {
      step = plan.throw(e);
      continue;
    }
    step = plan.next(results);
  }
  return step.value;
}
