/**
 * The API node's Executor in the distributed mode: every evaluation (each batch item) becomes a BullMQ job on
 * the shard queue of its key set (shards.ts), carrying references (protocol.ts); compute nodes (worker-node.ts)
 * run them. Results come back through each shard's QueueEvents stream, which BullMQ writes in the same atomic
 * step that completes a job, so a job is answered once even when a killed worker's job ran again elsewhere.
 *
 * Idempotency: with an Idempotency-Key the job ids derive from (tenant, key, item index); BullMQ does not add
 * a job whose id exists, so a client's retry through any API node joins the jobs already queued, running or
 * finished (kept resultTtlMs) instead of running them again. The request's deadline is the jobs' deadline;
 * when the client goes away or the deadline passes, its jobs are stopped (job-cancel.ts): those not started are
 * removed, running ones stop between items. A retry of that request (same key) queues its stopped jobs again.
 */
import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry } from 'prom-client';
import { loadContext } from '../api/context.ts';
import { describeKeySet } from '../api/keyset-info.ts';
import type { Program } from '../api/program.ts';
import type { BackendChoice } from '../backend/load.ts';
import { HeftyError, type HeftyErrorCode } from '../errors.ts';
import { isCacheEntry } from '../pool/cache.ts';
import {
  type Executor,
  type ExecutorStats,
  type ItemResult,
  type KeySetInfo,
  type KeySetRef,
  type OutputFormat,
  type RunOptions,
  type WireInput,
  isStoredUpload,
} from '../server/executor.ts';
import {
  idempotentJobId,
  INLINE_BYTES,
  itemsPerJob,
  putPayloads,
  RedisKeys,
  sha256Hex,
  type EvalJobData,
  type EvalJobResult,
  type JobError,
  type JobOperand,
  type PayloadWrite,
} from './protocol.ts';
import { cancelJobs, type CancelReason } from './job-cancel.ts';
import { checkShardCount, liveWorkers } from './membership.ts';
import { connect, guarded, unavailable } from './redis.ts';
import { shardOf, shardQueueName } from './shards.ts';

export interface QueueExecutorOptions {
  redisUrl: string;
  /** Prefix of this deployment's keys (HEFTY_REDIS_PREFIX). */
  prefix: string;
  /** Shard queues; every node of a deployment must use the same number. */
  shards: number;
  jobTimeoutMs: number;
  /** How long finished jobs (and their outputs) stay for idempotent retries. */
  resultTtlMs: number;
  /** For checking uploads on the API node. */
  backend: BackendChoice;
  /** How long to wait for Redis at start before giving up with E_UNAVAILABLE. */
  connectTimeoutMs?: number;
}

interface OutputRef {
  readonly name: string;
  readonly key: string;
}

/** An item's answer before its outputs are read: where they are, or its error. */
type RawResult = { readonly refs: readonly OutputRef[] } | { readonly error: JobError };

interface Waiter {
  /** The job's answer: one result per item of the job, or one error for all of them. */
  settle: (result: readonly RawResult[] | { readonly error: JobError }) => void;
}

const CAPACITY_REFRESH_MS = 2000;
/** Output keys read per MGET when a request's results are collected. */
const OUTPUTS_PER_READ = 8;

export class QueueExecutor implements Executor {
  readonly metricsRegistry = new Registry();
  readonly readsStoredUploads = true;
  private readonly options: QueueExecutorOptions;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly queues: Queue<EvalJobData, EvalJobResult>[];
  private readonly events: QueueEvents[];
  /** The events' connections: BullMQ leaves a connection it was given open when it closes. */
  private readonly eventConnections: Redis[];
  /** By job id; several when requests with the same Idempotency-Key wait here for one job. */
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly outcomes: Counter<'outcome'>;
  private readonly stalled: Counter;
  private readonly refresher: NodeJS.Timeout;
  private liveSlots = 0;
  private liveWorkerCount = 0;
  private inFlight = 0;
  private closing = false;
  private idle: (() => void)[] = [];

  private constructor(options: QueueExecutorOptions) {
    this.options = options;
    this.redis = connect(options.redisUrl, 'command', 'hefty-api');
    this.keys = new RedisKeys(options.prefix);
    const connection = this.redis;
    const prefix = this.keys.jobs;
    this.queues = Array.from(
      { length: options.shards },
      (_, s) => new Queue<EvalJobData, EvalJobResult>(shardQueueName(s), { connection, prefix }),
    );
    for (const queue of this.queues) queue.on('error', () => undefined);
    this.eventConnections = Array.from({ length: options.shards }, () =>
      connect(options.redisUrl, 'blocking', 'hefty-api-events'),
    );
    this.events = this.eventConnections.map((eventConnection, s) => {
      const events = new QueueEvents(shardQueueName(s), { connection: eventConnection, prefix });
      events.on('error', () => undefined);
      events.on('completed', ({ jobId, returnvalue }) => this.finished(jobId, returnvalue as unknown as EvalJobResult));
      events.on('failed', ({ jobId, failedReason }) => this.failedJob(jobId, failedReason));
      events.on('stalled', () => this.stalled.inc());
      return events;
    });

    this.outcomes = new Counter({
      name: 'hefty_queue_jobs_total',
      help: 'Jobs this API node enqueued, by outcome (completed, error, failed, timeout, cancelled)',
      labelNames: ['outcome'],
      registers: [this.metricsRegistry],
    });
    this.stalled = new Counter({
      name: 'hefty_queue_jobs_stalled_total',
      help: 'Jobs whose worker stopped renewing its lock (killed or stuck) and that went back to the queue',
      registers: [this.metricsRegistry],
    });
    const queues = this.queues;
    new Gauge({
      name: 'hefty_queue_depth',
      help: 'Jobs per shard queue and state (wait, active, delayed)',
      labelNames: ['shard', 'state'],
      registers: [this.metricsRegistry],
      async collect() {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts('wait', 'active', 'delayed')));
        counts.forEach((c, s) => {
          for (const [state, n] of Object.entries(c)) this.set({ shard: String(s), state }, n);
        });
      },
    });
    new Gauge({
      name: 'hefty_queue_oldest_wait_seconds',
      help: 'Age of the oldest job waiting in each shard queue (0 when none waits)',
      labelNames: ['shard'],
      registers: [this.metricsRegistry],
      async collect() {
        const oldest = await Promise.all(queues.map((q) => q.getWaiting(-1, -1)));
        oldest.forEach(([job], s) => this.set({ shard: String(s) }, job ? (Date.now() - job.timestamp) / 1000 : 0));
      },
    });
    new Gauge({
      name: 'hefty_queue_live_workers',
      help: 'Compute nodes with a fresh heartbeat, and their evaluation slots',
      labelNames: ['what'],
      registers: [this.metricsRegistry],
      collect: () => {
        const gauge = this.metricsRegistry.getSingleMetric('hefty_queue_live_workers') as Gauge<'what'>;
        gauge.set({ what: 'workers' }, this.liveWorkerCount);
        gauge.set({ what: 'slots' }, this.liveSlots);
      },
    });
    this.refresher = setInterval(() => void this.refreshCapacity(), CAPACITY_REFRESH_MS).unref();
  }

  static async create(options: QueueExecutorOptions): Promise<QueueExecutor> {
    const executor = new QueueExecutor(options);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          await Promise.all([...executor.queues, ...executor.events].map((q) => q.waitUntilReady()));
          await checkShardCount(executor.redis, executor.keys, options.shards);
          await executor.refreshCapacity();
        })(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(unavailable(new Error(`no Redis within ${timeoutMs} ms`))), timeoutMs);
        }),
      ]);
    } catch (e) {
      await executor.shutdown();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return executor;
  }

  private async refreshCapacity(): Promise<void> {
    try {
      const workers = await liveWorkers(this.redis, this.keys);
      this.liveWorkerCount = workers.length;
      this.liveSlots = workers.reduce((sum, w) => sum + w.slots, 0);
    } catch {
      // Redis unreachable: keep the last known capacity; requests fail with E_UNAVAILABLE meanwhile.
    }
  }

  async inspect(bytes: Uint8Array): Promise<KeySetInfo> {
    const ctx = await loadContext(bytes, { backend: this.options.backend, security: 128 });
    try {
      return describeKeySet(ctx);
    } finally {
      ctx.dispose();
    }
  }

  async run(
    keySet: KeySetRef,
    program: Program,
    inputs: Readonly<Record<string, WireInput>>,
    format: OutputFormat,
    options: RunOptions = {},
  ): Promise<Record<string, Uint8Array>> {
    const [result] = await this.runJobs(keySet, program, [inputs], format, options);
    if ('error' in result) throw new HeftyError(result.error.code as HeftyErrorCode, result.error.message);
    return result.outputs;
  }

  runBatch(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
    options: RunOptions = {},
  ): Promise<ItemResult[]> {
    return this.runJobs(keySet, program, items, format, options);
  }

  /**
   * Wire inputs → job operands. Large ciphertexts go by reference: an uploaded one under its content hash (shared
   * with other requests, and kept loaded by workers under it), bytes that came with the request under the
   * request's own name (`ownRefs`), so that they can be freed when the request is done; what must be stored goes
   * to `writes` (stored for the whole request at once). `content` is what the idempotency fingerprint covers: the
   * operands with references replaced by content hashes. Without an idempotency key (`hashed` false) request bytes
   * are not hashed at all: their ref is unique to the request.
   */
  private operands(
    inputs: Readonly<Record<string, WireInput>>,
    requestId: string,
    stored: Map<Uint8Array | string, string>,
    ownRefs: Set<string>,
    writes: PayloadWrite[],
    hashed: boolean,
  ): { operands: Record<string, JobOperand>; content: Record<string, unknown> } {
    const result: Record<string, JobOperand> = {};
    const content: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(inputs)) {
      if (isStoredUpload(value)) {
        // Already in Redis: the worker reads it where the upload cache holds it; nothing to write.
        content[name] = { sha256: value.hash };
        result[name] = { ref: value.hash, size: value.size, reuse: true, at: value.location };
      } else if (isCacheEntry(value) || value instanceof Uint8Array) {
        const bytes = isCacheEntry(value) ? value.bytes : value;
        if (bytes.byteLength <= INLINE_BYTES) {
          result[name] = { inline: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
          content[name] = result[name];
          continue;
        }
        // The same bytes (or upload) named twice in one request are stored once.
        const identity = isCacheEntry(value) ? value.hash : bytes;
        let ref = stored.get(identity);
        if (ref === undefined) {
          if (isCacheEntry(value)) ref = value.hash;
          else {
            ref = `${requestId}-${hashed ? sha256Hex(bytes) : String(stored.size)}`;
            ownRefs.add(ref);
          }
          stored.set(identity, ref);
          writes.push({ ref, bytes, reuse: isCacheEntry(value) });
        }
        content[name] = { sha256: isCacheEntry(value) ? value.hash : ref.slice(requestId.length + 1) };
        result[name] = { ref, size: bytes.byteLength, reuse: isCacheEntry(value) };
      } else content[name] = result[name] = value as JobOperand;
    }
    return { operands: result, content };
  }

  private async runJobs(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
    options: RunOptions,
  ): Promise<ItemResult[]> {
    if (this.closing) throw new HeftyError('E_OVERLOADED', 'the service is shutting down');
    this.inFlight++;
    try {
      return await this.enqueueAndWait(keySet, program, items, format, options);
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async enqueueAndWait(
    keySet: KeySetRef,
    program: Program,
    items: readonly Readonly<Record<string, WireInput>>[],
    format: OutputFormat,
    { idempotencyKey, signal }: RunOptions,
  ): Promise<ItemResult[]> {
    const deadline = Date.now() + this.options.jobTimeoutMs;
    const shard = shardOf(keySet.key, this.options.shards);
    const queue = this.queues[shard];
    const requestId = randomUUID();
    const stored = new Map<Uint8Array | string, string>();
    const ownRefs = new Set<string>();
    const writes: PayloadWrite[] = [];
    const hashed = idempotencyKey !== undefined;
    // Consecutive items share a job: [first, first + size) of the batch.
    const size = itemsPerJob(items.length);
    const jobs = Array.from({ length: Math.ceil(items.length / size) }, (_, index) => {
      const first = index * size;
      const chunk = items
        .slice(first, first + size)
        .map((item) => this.operands(item, requestId, stored, ownRefs, writes, hashed));
      const data: EvalJobData = {
        tenant: keySet.tenant,
        keySetId: keySet.id,
        keySet: keySet.key,
        program,
        items: chunk.map((c) => c.operands),
        format,
        deadline,
        fingerprint: hashed
          ? sha256Hex(JSON.stringify([keySet.key, program, chunk.map((c) => c.content), format]))
          : '',
      };
      const jobId =
        idempotencyKey === undefined ? `${requestId}-${index}` : idempotentJobId(keySet.tenant, idempotencyKey, index);
      return { jobId, data, first, count: chunk.length };
    });

    const results: (RawResult | undefined)[] = new Array(items.length);
    const settledJobs = new Set<number>();
    let done!: () => void;
    const allDone = new Promise<void>((resolve) => (done = resolve));
    const settle = (index: number, result: readonly RawResult[] | { readonly error: JobError }): void => {
      if (settledJobs.has(index)) return;
      settledJobs.add(index);
      const { jobId, first, count } = jobs[index];
      for (let i = 0; i < count; i++) {
        results[first + i] = 'error' in result ? result : (result[i] ?? missingItem);
      }
      this.unlisten(jobId, listeners[index]);
      if (settledJobs.size === jobs.length) done();
    };
    const retainSeconds = Math.ceil(this.options.resultTtlMs / 1000);
    const jobOptions = (jobId: string): JobsOptions => ({
      jobId,
      attempts: 1,
      removeOnComplete: { age: retainSeconds },
      removeOnFail: { age: retainSeconds },
    });
    /**
     * A job of a retried idempotent request that an earlier attempt stopped (its client went away, or its deadline
     * passed): not an answer for this client, whose request is still wanted. The job is queued again, with this
     * request's deadline (removed first: its id is taken).
     */
    const runAgain = async (index: number): Promise<void> => {
      const { jobId, data } = jobs[index];
      await queue.remove(jobId).catch(() => 0);
      await this.redis.unlink(this.keys.cancel(jobId));
      await queue.add(data.keySet, data, jobOptions(jobId));
    };
    // Jobs queued again: a stopped answer heard for them later is the earlier run's (its event and the stored job
    // can both reach us), not the new run's.
    const queuedAgain = new Set<number>();
    const deliver = (index: number, result: readonly RawResult[] | { readonly error: JobError }): void => {
      if (settledJobs.has(index)) return;
      if (hashed && !signal?.aborted && 'error' in result && STOPPED.has(result.error.code)) {
        if (queuedAgain.has(index)) return;
        queuedAgain.add(index);
        runAgain(index).catch(() =>
          settle(index, { error: { code: 'E_UNAVAILABLE', message: 'the stopped job could not be queued again' } }),
        );
      } else settle(index, result);
    };
    const listeners: Waiter[] = jobs.map((_, index) => ({ settle: (result) => deliver(index, result) }));
    // Listeners first: a job may finish before addBulk returns.
    jobs.forEach(({ jobId }, index) => this.listen(jobId, listeners[index]));
    const unsettled = (): number[] => jobs.map((_, i) => i).filter((i) => !settledJobs.has(i));
    const abandon = async (code: HeftyErrorCode, message: string, outcome: string): Promise<void> => {
      const left = unsettled();
      for (const i of left) settle(i, { error: { code, message } });
      this.outcomes.inc({ outcome }, left.length);
      await this.cancel(
        queue,
        left.map((i) => jobs[i].jobId),
        code === 'E_TIMEOUT' ? 'E_TIMEOUT' : 'E_CANCELLED',
      ).catch(() => undefined);
    };
    const timer = setTimeout(
      () => void abandon('E_TIMEOUT', `the job did not finish within ${this.options.jobTimeoutMs} ms`, 'timeout'),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = (): void => void abandon('E_CANCELLED', 'the client went away', 'cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const ttlMs = this.options.jobTimeoutMs + this.options.resultTtlMs;
      await guarded(() =>
        Promise.all([
          putPayloads(this.redis, this.keys, writes, ttlMs),
          // A retry after its client went away: the marks left for the jobs removed then must not cancel them now.
          hashed ? this.redis.unlink(...jobs.map(({ jobId }) => this.keys.cancel(jobId))) : undefined,
        ]),
      );
      await guarded(() =>
        queue.addBulk(
          jobs.map(({ jobId, data }) => ({
            // The key set's affinity key: a worker that holds it loaded may take the job from another's shard.
            name: data.keySet,
            data,
            opts: jobOptions(jobId),
          })),
        ),
      );
      await this.redis.publish(this.keys.wake, String(shard)).catch(() => undefined);
      if (idempotencyKey !== undefined) await this.joinExisting(queue, jobs, deliver);
      if (signal?.aborted) onAbort();
      await allDone;
    } catch (e) {
      jobs.forEach(({ jobId }, index) => this.unlisten(jobId, listeners[index]));
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Operands that came with this request are needed by its jobs alone: free them now, not at their TTL.
      if (ownRefs.size > 0)
        void this.redis.unlink(...[...ownRefs].map((ref) => this.keys.payload(ref))).catch(() => undefined);
    }
    return this.collect(results as RawResult[], idempotencyKey === undefined);
  }

  /**
   * A retried idempotent request finds its jobs already there, perhaps finished before we listened: delivers
   * those from the stored job, and refuses a key reused for a different request.
   */
  private async joinExisting(
    queue: Queue<EvalJobData, EvalJobResult>,
    jobs: readonly { jobId: string; data: EvalJobData }[],
    deliver: (index: number, result: readonly RawResult[] | { readonly error: JobError }) => void,
  ): Promise<void> {
    const found = await guarded(() => Promise.all(jobs.map(({ jobId }) => Job.fromId(queue, jobId))));
    found.forEach((job, index) => {
      if (!job) return;
      if (job.data.fingerprint !== jobs[index].data.fingerprint) {
        throw new HeftyError('E_INVALID_ARGUMENT', 'this Idempotency-Key was used for a different request');
      }
      if (job.finishedOn === undefined) return;
      deliver(
        index,
        job.returnvalue
          ? fromJobResult(job.returnvalue)
          : { error: { code: 'E_WORKER_LOST', message: job.failedReason || 'the job failed' } },
      );
    });
  }

  /** Reads the outputs the results name (and deletes them unless a retry may still ask). */
  private async collect(results: readonly RawResult[], consume: boolean): Promise<ItemResult[]> {
    const keys = results.flatMap((r) => ('refs' in r ? r.refs.map((o) => o.key) : []));
    // Several small MGETs (pipelined) rather than one: a reply of many megabytes is costly for the client to parse.
    const groups = Array.from({ length: Math.ceil(keys.length / OUTPUTS_PER_READ) }, (_, g) =>
      keys.slice(g * OUTPUTS_PER_READ, (g + 1) * OUTPUTS_PER_READ),
    );
    const values = (await guarded(() => Promise.all(groups.map((group) => this.redis.mgetBuffer(...group))))).flat();
    if (consume && keys.length > 0) void this.redis.unlink(...keys).catch(() => undefined);
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));
    return results.map((r) => {
      if ('error' in r) return r;
      const outputs: Record<string, Uint8Array> = {};
      for (const { name, key } of r.refs) {
        const value = byKey.get(key);
        if (!value) return { error: { code: 'E_NOT_FOUND', message: 'the result expired before it was read' } };
        outputs[name] = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      }
      return { outputs };
    });
  }

  private listen(jobId: string, waiter: Waiter): void {
    const waiting = this.waiters.get(jobId);
    if (waiting) waiting.add(waiter);
    else this.waiters.set(jobId, new Set([waiter]));
  }

  private unlisten(jobId: string, waiter: Waiter): void {
    const waiting = this.waiters.get(jobId);
    if (waiting?.delete(waiter) && waiting.size === 0) this.waiters.delete(jobId);
  }

  private finished(jobId: string, result: EvalJobResult): void {
    const waiting = this.waiters.get(jobId);
    if (!waiting) return;
    this.outcomes.inc({ outcome: 'error' in result ? 'error' : 'completed' });
    for (const waiter of [...waiting]) waiter.settle(fromJobResult(result));
  }

  private failedJob(jobId: string, reason: string): void {
    const waiting = this.waiters.get(jobId);
    if (!waiting) return;
    this.outcomes.inc({ outcome: 'failed' });
    const stalled = /stalled/i.test(reason);
    for (const waiter of [...waiting]) {
      waiter.settle({
        error: {
          code: stalled ? 'E_WORKER_LOST' : 'E_INTERNAL',
          message: stalled ? 'the job stalled on more workers than allowed' : 'the job failed on its worker',
        },
      });
    }
  }

  /**
   * Marks the jobs cancelled and tells the workers (job-cancel.ts): one that just took a job skips it, one running
   * it stops between items; then removes the jobs still queued. Finished ones stay: their answers are what an
   * idempotent retry joins (and a running job is locked anyway).
   */
  private async cancel(queue: Queue, jobIds: readonly string[], reason: CancelReason): Promise<void> {
    if (jobIds.length === 0) return;
    await cancelJobs(this.redis, this.keys, jobIds, reason, this.options.jobTimeoutMs);
    const states = await Promise.all(jobIds.map((id) => queue.getJobState(id).catch(() => 'unknown')));
    const queued = jobIds.filter((_, i) => ['waiting', 'delayed', 'prioritized'].includes(states[i]));
    await Promise.all(queued.map((id) => queue.remove(id).catch(() => 0)));
  }

  /**
   * A deleted key set: every worker holding it loaded unloads it (a worker not connected at that moment keeps it
   * until its LRU drops it).
   */
  forget(key: string): void {
    void this.redis.publish(this.keys.forgotten, key).catch(() => undefined);
  }

  stats(): ExecutorStats {
    return { queued: 0, active: this.inFlight, loadedKeySets: 0, capacity: Math.max(1, this.liveSlots) };
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.refresher);
    await Promise.allSettled([...this.events, ...this.queues].map((q) => q.close()));
    for (const eventConnection of this.eventConnections) eventConnection.disconnect();
    this.redis.disconnect();
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.shutdown();
  }
}

/** Whole-job errors of a job an API node stopped (job-cancel.ts). */
const STOPPED: ReadonlySet<string> = new Set(['E_CANCELLED', 'E_TIMEOUT']);

const missingItem: RawResult = {
  error: { code: 'E_INTERNAL', message: 'the worker returned no answer for this item' },
};

function fromJobResult(result: EvalJobResult): readonly RawResult[] | { readonly error: JobError } {
  if ('error' in result) return { error: result.error };
  return result.items.map((item) => ('error' in item ? { error: item.error } : { refs: item.outputs }));
}
