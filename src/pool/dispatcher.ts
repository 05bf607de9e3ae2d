/**
 * The pool's queue: batches in FIFO order, their items handed to workers one at a time, never more in flight
 * than there are workers (so piscina's own queue stays empty and a lost worker loses only the item it ran).
 * A batch that cannot start at once waits; past `maxQueue` waiting batches a new one is refused with
 * E_OVERLOADED at once. Cancelling a batch settles its undispatched items with E_CANCELLED; its deadline
 * settles everything unfinished with E_TIMEOUT and stops its running items. Every item settles exactly once.
 */
import { HeftyError } from '../errors.ts';

export interface BatchSpec<T> {
  readonly size: number;
  /** Runs one item; `signal` aborts it (the batch timed out). Rejections become the item's error. */
  runItem(index: number, signal: AbortSignal): Promise<T>;
  readonly signal?: AbortSignal;
  /** Deadline for the whole batch, from submission (queue wait included). */
  readonly timeoutMs?: number;
  onProgress?(done: number, total: number): void;
}

export type Outcome<T> = T | HeftyError;

class Batch<T> {
  readonly spec: BatchSpec<T>;
  readonly results: (Outcome<T> | undefined)[];
  readonly stop = new AbortController();
  /** Next item to dispatch. */
  next = 0;
  done = 0;
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
    return this.spec.size - this.next;
  }

  get finished(): boolean {
    return this.done === this.spec.size;
  }

  onCleanup(cleanup: () => void): void {
    this.cleanups.push(cleanup);
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
    const from = this.next;
    this.next = this.spec.size;
    for (let i = from; i < this.spec.size; i++) this.settle(i, error);
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
  /** Items running on workers now. */
  running: number;
}

export class Dispatcher {
  private readonly batches: Batch<unknown>[] = [];
  private running = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  readonly concurrency: number;
  readonly maxQueue: number;

  constructor(options: { concurrency: number; maxQueue: number }) {
    this.concurrency = options.concurrency;
    this.maxQueue = options.maxQueue;
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
      const index = batch.next++;
      this.running++;
      batch.spec
        .runItem(index, batch.stop.signal)
        .then(
          (value) => batch.settle(index, value),
          (e: unknown) => batch.settle(index, toHeftyError(e)),
        )
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
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

function toHeftyError(e: unknown): HeftyError {
  return e instanceof HeftyError ? e : new HeftyError('E_INTERNAL', 'the item failed', { cause: e });
}
