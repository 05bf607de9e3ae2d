/**
 * The pool's queue: batches in FIFO order, their items handed to workers in runs (one job each), never more
 * runs in flight than there are workers, so piscina's own queue stays empty. A run is one item until the batch's
 * item time is known, then as many items as fit in about TARGET_RUN_MS (at most MAX_RUN, and shrinking towards
 * the end of the batch so the last runs still spread over all workers): the round trip to a worker is paid per
 * run, not per item. A batch that cannot start at once waits; past `maxQueue` waiting batches a new one
 * is refused with E_OVERLOADED at once. Cancelling a batch settles its undispatched items with E_CANCELLED; its
 * deadline settles everything unfinished with E_TIMEOUT and stops its running items. An item that comes back as
 * RETRY (its worker was lost before the item ran or before its result came back) is dispatched again, at most
 * MAX_RETRIES times. Every item settles exactly once.
 */
import { HeftyError } from '../errors.ts';

const TARGET_RUN_MS = 40;
const MAX_RUN = 4;
const MAX_RETRIES = 2;

/** An item outcome meaning "run it again": its worker was lost, and not while running this item. */
export const RETRY: unique symbol = Symbol('retry');

export type Outcome<T> = T | HeftyError;

export interface BatchSpec<T> {
  readonly size: number;
  /**
   * Runs the items `indices` as one job; resolves with one outcome per index (rejections fail all of them).
   * `signal` aborts the run (the batch timed out).
   */
  runItems(indices: readonly number[], signal: AbortSignal): Promise<(Outcome<T> | typeof RETRY)[]>;
  readonly signal?: AbortSignal;
  /** Deadline for the whole batch, from submission (queue wait included). */
  readonly timeoutMs?: number;
  onProgress?(done: number, total: number): void;
}

class Batch<T> {
  readonly spec: BatchSpec<T>;
  readonly results: (Outcome<T> | undefined)[];
  readonly stop = new AbortController();
  /** Next item never dispatched. */
  next = 0;
  /** Items to dispatch again, before `next`. */
  readonly retry: number[] = [];
  readonly retries = new Map<number, number>();
  /** Set once cancelled: items coming back for a retry settle with it instead. */
  cancelled: HeftyError | undefined;
  done = 0;
  /** Mean wall time per item of the runs so far (ms); undefined until one came back. */
  itemMs: number | undefined;
  private readonly resolve: (results: Outcome<T>[]) => void;
  private readonly cleanups: (() => void)[] = [];

  constructor(spec: BatchSpec<T>, resolve: (results: Outcome<T>[]) => void) {
    this.spec = spec;
    this.results = new Array(spec.size).fill(undefined);
    this.resolve = resolve;
  }

  get started(): boolean {
    return this.next > 0;
  }

  get pending(): number {
    return this.spec.size - this.next + this.retry.length;
  }

  get finished(): boolean {
    return this.done === this.spec.size;
  }

  onCleanup(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** Up to `count` items to dispatch: retries first. */
  take(count: number): number[] {
    const run = this.retry.splice(0, count);
    while (run.length < count && this.next < this.spec.size) run.push(this.next++);
    return run;
  }

  /** Records how long a run of `items` took. */
  timed(items: number, ms: number): void {
    const perItem = ms / items;
    this.itemMs = this.itemMs === undefined ? perItem : 0.7 * this.itemMs + 0.3 * perItem;
  }

  /** Queues `index` again, or fails it once it has used up its retries (or the batch was cancelled). */
  again(index: number): void {
    const count = (this.retries.get(index) ?? 0) + 1;
    this.retries.set(index, count);
    if (this.cancelled) this.settle(index, this.cancelled);
    else if (count > MAX_RETRIES)
      this.settle(index, new HeftyError('E_WORKER_LOST', `the item's workers were lost ${count} times`));
    else this.retry.push(index);
  }

  settle(index: number, outcome: Outcome<T>): void {
    if (this.results[index] !== undefined) return;
    this.results[index] = outcome;
    this.done++;
    try {
      this.spec.onProgress?.(this.done, this.spec.size);
    } catch {
      // A throwing progress callback must not lose results.
    }
    if (this.finished) {
      for (const cleanup of this.cleanups.splice(0)) cleanup();
      this.resolve(this.results as Outcome<T>[]);
    }
  }

  /** Settles every item not yet dispatched with `error`. */
  dropPending(error: HeftyError): void {
    this.cancelled ??= error;
    for (const index of this.take(this.pending)) this.settle(index, error);
  }

  /** Settles every unfinished item (queued or running) with `error` and aborts the running ones. */
  expire(error: HeftyError): void {
    this.dropPending(error);
    this.stop.abort(error);
    for (let i = 0; i < this.spec.size; i++) this.settle(i, error);
  }
}

export interface DispatcherStats {
  /** Batches waiting for their first item to start. */
  queuedBatches: number;
  /** Items not yet handed to a worker. */
  queuedItems: number;
  /** Jobs (runs of items) on workers now, i.e. busy workers. */
  running: number;
}

export class Dispatcher {
  private readonly batches: Batch<unknown>[] = [];
  private running = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  readonly concurrency: number;
  readonly maxQueue: number;
  /** Milliseconds, for timing runs (tests give their own clock so run sizes do not depend on machine load). */
  private readonly now: () => number;

  constructor(options: { concurrency: number; maxQueue: number; now?: () => number }) {
    this.concurrency = options.concurrency;
    this.maxQueue = options.maxQueue;
    this.now = options.now ?? (() => performance.now());
  }

  submit<T>(spec: BatchSpec<T>): Promise<Outcome<T>[]> {
    if (this.closed) return Promise.reject(new HeftyError('E_OVERLOADED', 'the pool is closing'));
    if (spec.signal?.aborted) return Promise.reject(new HeftyError('E_CANCELLED', 'the batch was cancelled'));
    const startsNow = this.running < this.concurrency && this.batches.every((b) => b.pending === 0);
    if (!startsNow && this.stats().queuedBatches >= this.maxQueue) {
      return Promise.reject(
        new HeftyError('E_OVERLOADED', `the pool queue is full (${this.maxQueue} batches waiting)`),
      );
    }
    if (spec.size === 0) return Promise.resolve([]);
    return new Promise<Outcome<T>[]>((resolve) => {
      const batch: Batch<T> = new Batch(spec, (results) => {
        this.batches.splice(this.batches.indexOf(batch as Batch<unknown>), 1);
        resolve(results);
        this.notifyIdle();
      });
      if (spec.signal) {
        const signal = spec.signal;
        const cancel = (): void => batch.dropPending(new HeftyError('E_CANCELLED', 'the batch was cancelled'));
        signal.addEventListener('abort', cancel, { once: true });
        batch.onCleanup(() => signal.removeEventListener('abort', cancel));
      }
      if (spec.timeoutMs !== undefined && Number.isFinite(spec.timeoutMs)) {
        const ms = spec.timeoutMs;
        const timer = setTimeout(
          () => batch.expire(new HeftyError('E_TIMEOUT', `the batch did not finish in ${ms} ms`)),
          ms,
        );
        batch.onCleanup(() => clearTimeout(timer));
      }
      this.batches.push(batch as Batch<unknown>);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const batch = this.batches.find((b) => b.pending > 0);
      if (!batch) return;
      const run = batch.take(this.runLength(batch));
      const started = this.now();
      this.running++;
      batch.spec
        .runItems(run, batch.stop.signal)
        .then(
          (outcomes) => {
            batch.timed(run.length, this.now() - started);
            for (const [k, index] of run.entries()) {
              const outcome = outcomes[k];
              if (outcome === RETRY) batch.again(index);
              else batch.settle(index, outcome ?? new HeftyError('E_INTERNAL', 'the item has no outcome'));
            }
          },
          (e: unknown) => {
            for (const index of run) batch.settle(index, toHeftyError(e));
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
  }

  /**
   * Items in the next run of `batch`: enough to fill TARGET_RUN_MS, and at most half an even share of what is
   * left, so runs shrink towards the end of the batch and the workers finish together.
   */
  private runLength(batch: Batch<unknown>): number {
    if (batch.itemMs === undefined) return 1;
    const byTime = Math.floor(TARGET_RUN_MS / Math.max(batch.itemMs, 0.01));
    const share = Math.ceil(batch.pending / (2 * this.concurrency));
    return Math.max(1, Math.min(byTime, share, MAX_RUN));
  }

  private notifyIdle(): void {
    if (this.running === 0 && this.batches.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  stats(): DispatcherStats {
    let queuedBatches = 0;
    let queuedItems = 0;
    for (const b of this.batches) {
      if (!b.started) queuedBatches++;
      queuedItems += b.pending;
    }
    return { queuedBatches, queuedItems, running: this.running };
  }

  /** Refuses new batches and resolves once every accepted one has settled. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.running > 0 || this.batches.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

/** What a failed item settles with: its HeftyError, or E_INTERNAL wrapping anything else. */
export function toHeftyError(e: unknown): HeftyError {
  return e instanceof HeftyError ? e : new HeftyError('E_INTERNAL', 'the item failed', { cause: e });
}
