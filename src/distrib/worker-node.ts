/**
 * `hefty worker`: a compute node. It runs the piscina pool (src/pool) and takes evaluation jobs from the shard
 * queues in Redis, preferring its home shards (shards.ts: the shards rendezvous hashing gives it among the live
 * workers), so that the key sets it keeps loaded (LRU by bytes) are the ones its jobs need. When it has a free
 * slot and its home shards are empty, it takes jobs that have waited stealAfterMs in other shards (their home is
 * busy, gone, or the job came back from a killed worker).
 *
 * Jobs are fetched by hand (BullMQ's manual mode), one per free pool slot, so a busy node never holds jobs it
 * cannot start; it renews their locks while they run. BullMQ's stalled-job checker (run by every worker) puts
 * the job of a node that stopped renewing (SIGKILL, partition) back in its queue, where another worker runs it;
 * completing is atomic with the lock, so a job is answered once. SIGTERM drains: leave the membership, take no
 * new jobs, finish the running ones, close.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HeftyError } from '../errors.ts';
import type { BackendChoice } from '../backend/load.ts';
import type { CacheEntry } from '../pool/cache.ts';
import { createPool, type KeySetHandle, type Pool, type PoolInput } from '../pool/pool.ts';
import type { DistributedOptions } from './options.ts';
import { checkShardCount, heartbeat, leave, liveWorkers } from './membership.ts';
import {
  asBuffer,
  failed,
  RedisKeys,
  type EvalJobData,
  type EvalJobResult,
  type ItemOutcome,
  type JobError,
  type JobOperand,
} from './protocol.ts';
import { RunningJobs } from './job-cancel.ts';
import { connect } from './redis.ts';
import { homeShards, shardQueueName } from './shards.ts';

/** Reads a stored key set's envelope from the shared key store. */
export type KeySetReader = (tenant: string, id: string) => Promise<Uint8Array>;

export interface WorkerNodeOptions extends DistributedOptions {
  redisUrl: string;
  /** Prefix of this deployment's keys (HEFTY_REDIS_PREFIX). */
  prefix: string;
  readKeySet: KeySetReader;
  /** Pool worker threads = jobs run at once. */
  slots: number;
  /** Native intra-op threads per pool worker (default: the pool's). */
  threadsPerSlot?: number;
  backend: BackendChoice;
  /** Where the node's metrics go (its own registry by default). */
  registry?: Registry;
  onStep?: (op: string, backend: string, milliseconds: number) => void;
  /** Called when a job is finished here (for logs). */
  onJob?: (event: JobEvent) => void;
}

export interface JobEvent {
  readonly jobId: string;
  readonly shard: string;
  readonly outcome: string;
  /** Whether the key set was loaded here already (absent when the job never got that far). */
  readonly hit?: boolean;
  readonly stolen: boolean;
  readonly ms: number;
}

interface Taken {
  readonly job: Job<EvalJobData, EvalJobResult>;
  readonly token: string;
  readonly stolen: boolean;
}

interface WorkerMetrics {
  jobs: Counter<'outcome'>;
  affinity: Counter<'result'>;
  stolen: Counter;
  duration: Histogram;
  redisBytes: Counter<'direction' | 'what'>;
}

function createMetrics(registry: Registry, node: WorkerNode): WorkerMetrics {
  new Gauge({
    name: 'hefty_worker_loaded_keysets',
    help: 'Key sets this worker holds loaded, and their serialized bytes',
    labelNames: ['what'],
    registers: [registry],
    collect() {
      const { keySets, keySetBytes } = node.stats();
      this.set({ what: 'count' }, keySets);
      this.set({ what: 'bytes' }, keySetBytes);
    },
  });
  new Gauge({
    name: 'hefty_worker_running_jobs',
    help: 'Jobs running on this worker, and its home shards',
    labelNames: ['what'],
    registers: [registry],
    collect() {
      const { running, homeShards } = node.stats();
      this.set({ what: 'running' }, running);
      this.set({ what: 'home_shards' }, homeShards);
    },
  });
  return {
    jobs: new Counter({
      name: 'hefty_worker_jobs_total',
      help: 'Jobs this worker finished, by outcome (completed, error, failed, cancelled, expired, lock_lost)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    affinity: new Counter({
      name: 'hefty_worker_keyset_affinity_total',
      help: 'Jobs that found their key set already loaded here (hit) or had to load it (miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
    stolen: new Counter({
      name: 'hefty_worker_jobs_stolen_total',
      help: "Jobs taken from another worker's home shard",
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'hefty_worker_job_duration_seconds',
      help: 'From taking a job to completing it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    redisBytes: new Counter({
      name: 'hefty_worker_redis_bytes_total',
      help: 'Payload bytes read from and written to Redis (key sets, operands, outputs)',
      labelNames: ['direction', 'what'],
      registers: [registry],
    }),
  };
}

export class WorkerNode {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly registry: Registry;
  private readonly options: WorkerNodeOptions;
  private readonly pool: Pool;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly subscriber: Redis;
  private readonly queues: Worker<EvalJobData, EvalJobResult>[];
  /** The queues' connections: BullMQ leaves a connection it was given open when it closes. */
  private readonly queueConnections: Redis[];
  private readonly metrics: WorkerMetrics;
  private readonly keySets: LRUCache<string, KeySetHandle>;
  private readonly keySetSizes = new Map<string, number>();
  private readonly loading = new Map<string, Promise<KeySetHandle>>();
  private readonly operands: LRUCache<string, CacheEntry>;
  private readonly runningJobs = new RunningJobs();
  private home: number[] = [];
  private homeCursor = 0;
  private running = 0;
  private tokens = 0;
  private filling = false;
  private fillAgain = false;
  private draining = false;
  private drained: Promise<void> | undefined;
  private idle: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];

  private constructor(options: WorkerNodeOptions, pool: Pool) {
    this.options = options;
    this.pool = pool;
    this.registry = options.registry ?? new Registry();
    this.metrics = createMetrics(this.registry, this);
    this.redis = connect(options.redisUrl, 'blocking', 'hefty-worker');
    this.keys = new RedisKeys(options.prefix);
    this.subscriber = connect(options.redisUrl, 'blocking', 'hefty-worker-wake');
    this.queueConnections = Array.from({ length: options.shards }, () =>
      connect(options.redisUrl, 'blocking', 'hefty-worker-queue'),
    );
    this.queues = this.queueConnections.map(
      (queueConnection, s) =>
        new Worker<EvalJobData, EvalJobResult>(shardQueueName(s), null, {
          connection: queueConnection,
          prefix: this.keys.jobs,
          autorun: false,
          lockDuration: options.lockMs,
          stalledInterval: options.stalledIntervalMs,
          // A job survives one worker dying under it twice; a third time it fails (E_WORKER_LOST).
          maxStalledCount: 2,
        }),
    );
    for (const queue of this.queues) queue.on('error', () => undefined);
    this.keySets = new LRUCache({
      maxSize: options.workerKeySetBytes,
      sizeCalculation: (_handle, key) => Math.max(1, this.keySetSizes.get(key) ?? 1),
      dispose: (handle, key) => {
        this.keySetSizes.delete(key);
        this.pool.removeKeySet(handle);
      },
    });
    this.operands = new LRUCache({
      maxSize: options.workerOperandBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes.byteLength),
    });
  }

  static async start(options: WorkerNodeOptions): Promise<WorkerNode> {
    const pool = await createPool({
      backend: options.backend,
      workers: options.slots,
      ...(options.threadsPerSlot !== undefined ? { threadsPerWorker: options.threadsPerSlot } : {}),
      // The node's own LRU decides which key sets stay; the pool only must not drop them first.
      maxLoadedKeySets: 1024,
      onStep: options.onStep,
    });
    const node = new WorkerNode(options, pool);
    try {
      await Promise.all(node.queues.map((q) => q.waitUntilReady()));
      await checkShardCount(node.redis, node.keys, options.shards);
      await node.refreshMembership();
      await node.subscriber.subscribe(node.keys.wake, node.keys.cancelled, node.keys.forgotten);
    } catch (e) {
      await node.close();
      throw e;
    }
    node.subscriber.on('message', (channel: string, message: string) => {
      if (channel === node.keys.wake) node.onWake(Number(message));
      else if (channel === node.keys.cancelled) node.runningJobs.cancel(message);
      else if (channel === node.keys.forgotten) node.forgetKeySet(message);
    });
    for (const queue of node.queues) void queue.startStalledCheckTimer().catch(() => undefined);
    node.timers.push(
      setInterval(() => void node.refreshMembership().catch(() => undefined), options.heartbeatMs),
      // Wakes can be missed (reconnects) and stalled jobs return without one: look again now and then.
      setInterval(() => node.fill(), Math.max(50, Math.min(1000, options.stealAfterMs))),
    );
    node.fill();
    return node;
  }

  stats(): { running: number; keySets: number; keySetBytes: number; homeShards: number } {
    return {
      running: this.running,
      keySets: this.keySets.size,
      keySetBytes: this.keySets.calculatedSize,
      homeShards: this.home.length,
    };
  }

  private async refreshMembership(): Promise<void> {
    if (this.draining) return;
    await heartbeat(this.redis, this.keys, this.id, this.options.slots, 3 * this.options.heartbeatMs);
    const live = (await liveWorkers(this.redis, this.keys)).map((w) => w.id);
    const before = this.home.join(',');
    this.home = homeShards(this.id, live.includes(this.id) ? live : [...live, this.id], this.options.shards);
    if (this.home.join(',') !== before) this.fill();
  }

  private onWake(shard: number): void {
    // Another worker's shard: take its job now only if its key set is loaded here (mayTakeFrom); otherwise leave
    // it to its home unless it is still waiting after stealAfterMs.
    this.fill();
    if (this.home.includes(shard)) return;
    const timer = setTimeout(() => this.fill(), this.options.stealAfterMs + 1);
    timer.unref();
  }

  /**
   * Takes jobs while pool slots are free, and workerPrefetch more (they wait for a slot with their operands read);
   * calls made while it runs make it go round once more.
   */
  private fill(): void {
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = true;
    void (async () => {
      try {
        do {
          this.fillAgain = false;
          while (!this.draining && this.running < this.options.slots + this.options.workerPrefetch) {
            const taken = await this.take().catch(() => undefined);
            if (!taken) break;
            this.running++;
            void this.process(taken);
          }
        } while (this.fillAgain && !this.draining);
      } finally {
        this.filling = false;
      }
    })();
  }

  /**
   * The next job for a free slot: from a home shard (round robin), else one waiting long enough elsewhere. One
   * pipelined look at every shard's wait list first, so that BullMQ's take script (a dozen commands) runs only
   * where a job waits, not once per empty shard.
   */
  private async take(): Promise<Taken | undefined> {
    const shards = this.options.shards;
    const home = this.home;
    const look = this.redis.pipeline();
    for (const queue of this.queues) look.llen(queue.keys.wait);
    const waiting = failed(await look.exec()).map(([, length]) => Number(length) > 0);
    for (let i = 0; i < home.length; i++) {
      const shard = home[(this.homeCursor + i) % home.length];
      if (!waiting[shard]) continue;
      const token = `${this.id}-${++this.tokens}`;
      const job = await this.queues[shard].getNextJob(token, { block: false });
      if (job) {
        this.homeCursor = (this.homeCursor + i + 1) % home.length;
        return { job, token, stolen: false };
      }
    }
    for (let shard = 0; shard < shards; shard++) {
      if (!waiting[shard] || home.includes(shard) || !(await this.mayTakeFrom(shard))) continue;
      const token = `${this.id}-${++this.tokens}`;
      const job = await this.queues[shard].getNextJob(token, { block: false });
      if (job) return { job, token, stolen: true };
    }
    return undefined;
  }

  /**
   * Whether to take the next job of another worker's shard (BullMQ takes jobs from the wait list's tail): when its
   * key set is loaded here already (no affinity is lost: a large batch of one key set spreads over every worker
   * that holds it), or when it has waited stealAfterMs.
   */
  private async mayTakeFrom(shard: number): Promise<boolean> {
    const queue = this.queues[shard];
    const jobId = await this.redis.lindex(queue.keys.wait, -1);
    if (jobId === null) return false;
    const [timestamp, keySet] = await this.redis.hmget(queue.toKey(jobId), 'timestamp', 'name');
    if (keySet !== null && this.keySets.has(keySet)) return true;
    return Date.now() - Number(timestamp) >= this.options.stealAfterMs;
  }

  private async process({ job, token, stolen }: Taken): Promise<void> {
    const started = performance.now();
    if (stolen) this.metrics.stolen.inc();
    const renew = setInterval(
      () => void job.extendLock(token, this.options.lockMs).catch(() => undefined),
      Math.max(100, Math.floor(this.options.lockMs / 3)),
    );
    let result: EvalJobResult | undefined;
    let failure: Error | undefined;
    const cancelled = this.runningJobs.start(job.id!);
    try {
      result = await this.evaluate(job, cancelled);
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
    } finally {
      clearInterval(renew);
      this.runningJobs.finish(job.id!);
    }
    let outcome = result ? ('error' in result ? outcomeOf(result.error.code) : 'completed') : 'failed';
    try {
      if (result) await job.moveToCompleted(result, token, false);
      // Not a verdict on the job (Redis went away mid-job, an engine crash): let BullMQ record the failure.
      else await job.moveToFailed(failure ?? new Error('no result'), token, false);
    } catch {
      // The lock was lost (this node was presumed dead and the job went back to the queue): its other run answers.
      outcome = 'lock_lost';
    }
    this.metrics.jobs.inc({ outcome });
    const ms = performance.now() - started;
    this.metrics.duration.observe(ms / 1000);
    this.options.onJob?.({
      jobId: job.id!,
      shard: job.queueName,
      outcome,
      ...(result && 'hit' in result ? { hit: result.hit } : {}),
      stolen,
      ms: Math.round(ms * 10) / 10,
    });
    this.running--;
    if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
    if (!this.draining) this.fill();
  }

  /**
   * Runs a job's items; evaluation errors (the request's fault) are results, not failures, and are never retried.
   * Redis sees three round trips per job whatever its item count: one read (the cancel mark and every operand not
   * kept here), one write (every output), and BullMQ's completion.
   */
  private async evaluate(job: Job<EvalJobData, EvalJobResult>, cancelled: AbortSignal): Promise<EvalJobResult> {
    const data = job.data;
    try {
      const left = data.deadline - Date.now();
      if (left <= 0) throw new HeftyError('E_TIMEOUT', 'the job reached its deadline before a worker took it');
      const [{ handle, hit }, operands] = await Promise.all([this.keySet(data), this.readOperands(job)]);
      // The job's items as one pool batch: the program crosses to the pool once, and the operand buffers read from
      // Redis move to the pool's thread instead of being copied.
      const evaluated: ({ outputs: Record<string, Uint8Array> } | { error: JobError })[] = [];
      const runnable: Record<string, PoolInput>[] = [];
      const positions: number[] = [];
      data.items.forEach((item, index) => {
        try {
          runnable.push(this.inputs(item, operands));
          positions.push(index);
        } catch (e) {
          evaluated[index] = { error: itemError(e) };
        }
      });
      const outcomes = await this.pool.runBatch(handle, data.program, runnable, {
        format: data.format,
        timeoutMs: left,
        transferInputs: true,
        signal: cancelled,
      });
      // Stopped (the client went away, or the API node's deadline passed): the items not started were dropped, and
      // the finished ones' outputs are not written.
      if (cancelled.aborted) throw cancelled.reason;
      outcomes.forEach((outcome, i) => {
        evaluated[positions[i]] = outcome instanceof HeftyError ? { error: itemError(outcome) } : outcome;
      });
      const ttlMs = Math.max(1000, data.deadline - Date.now()) + this.options.resultTtlMs;
      // Separate commands sent together, not a pipeline (ioredis would copy every output into one buffer).
      const writes: Promise<unknown>[] = [];
      const items = evaluated.map((result, item): ItemOutcome => {
        if ('error' in result) return result;
        const outputs = Object.entries(result.outputs).map(([name, bytes], index) => {
          const key = this.keys.output(job.id!, item, index);
          writes.push(this.redis.set(key, asBuffer(bytes), 'PX', ttlMs));
          this.metrics.redisBytes.inc({ direction: 'write', what: 'output' }, bytes.byteLength);
          return { name, key, size: bytes.byteLength };
        });
        return { outputs };
      });
      await Promise.all(writes);
      return { items, worker: this.id, hit };
    } catch (e) {
      if (!(e instanceof HeftyError) || e.code === 'E_WORKER_LOST' || e.code === 'E_INTERNAL') throw e;
      return { error: e.toJSON(), worker: this.id };
    }
  }

  /**
   * One pipeline: whether the client went away (then the job is not run), and the bytes of every referenced operand
   * not kept here; an operand that expired is missing from the map (its item fails with E_NOT_FOUND).
   */
  private async readOperands(job: Job<EvalJobData, EvalJobResult>): Promise<Map<string, Uint8Array | CacheEntry>> {
    const operands = new Map<string, Uint8Array | CacheEntry>();
    const wanted: Extract<JobOperand, { readonly ref: string }>[] = [];
    for (const item of job.data.items) {
      for (const operand of Object.values(item)) {
        if (!isRef(operand) || operands.has(operand.ref) || wanted.some((w) => w.ref === operand.ref)) continue;
        const cached = operand.reuse ? this.operands.get(operand.ref) : undefined;
        if (cached) operands.set(operand.ref, cached);
        else wanted.push(operand);
      }
    }
    const read = this.redis.pipeline().exists(this.keys.cancel(job.id!));
    // Uploads are read where the upload cache holds them (evicted since the request: E_NOT_FOUND for the item).
    for (const { ref, at } of wanted) {
      if (at) read.hgetBuffer(at, 'b');
      else read.getBuffer(this.keys.payload(ref));
    }
    const [[, cancelled], ...values] = failed(await read.exec());
    if (cancelled === 1) throw new HeftyError('E_CANCELLED', 'the client went away before the job started');
    wanted.forEach(({ ref, reuse }, i) => {
      const value = values[i][1] as Buffer | null;
      if (!value) return;
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      this.metrics.redisBytes.inc({ direction: 'read', what: 'operand' }, bytes.byteLength);
      if (!reuse) return void operands.set(ref, bytes);
      // Kept by content hash (the pool's threads keep the operand loaded under it), in the reply's own buffer, not
      // a SharedArrayBuffer: V8 backs each of those with pages never touched before (a 384 KiB operand costs 96
      // page faults, about 1 ms in a VM), where a malloc'd copy per pool run reuses warm memory. A reply that is a
      // view into a larger socket buffer is copied out, so the cache holds only its own bytes.
      const own = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      const entry = { bytes: own, hash: ref };
      this.operands.set(ref, entry);
      operands.set(ref, entry);
    });
    return operands;
  }

  /** The job's key set, loaded here already (an affinity hit) or read from the key store and loaded now. */
  private async keySet(data: EvalJobData): Promise<{ handle: KeySetHandle; hit: boolean }> {
    const loaded = this.keySets.get(data.keySet);
    if (loaded) {
      this.metrics.affinity.inc({ result: 'hit' });
      return { handle: loaded, hit: true };
    }
    this.metrics.affinity.inc({ result: 'miss' });
    let pending = this.loading.get(data.keySet);
    if (!pending) {
      pending = (async () => {
        const bytes = await this.options.readKeySet(data.tenant, data.keySetId);
        this.metrics.redisBytes.inc({ direction: 'read', what: 'keyset' }, bytes.byteLength);
        const handle = await this.pool.addKeySet(bytes);
        this.keySetSizes.set(data.keySet, bytes.byteLength);
        this.keySets.set(data.keySet, handle);
        return handle;
      })();
      this.loading.set(data.keySet, pending);
      void pending.finally(() => this.loading.delete(data.keySet)).catch(() => undefined);
    }
    return { handle: await pending, hit: false };
  }

  /**
   * A deleted key set (the `forgotten` channel): unloaded from the LRU and the pool now, not when the LRU would
   * drop it. A load under way finishes for the job that waits on it, then goes too.
   */
  private forgetKeySet(key: string): void {
    this.keySets.delete(key);
    void this.loading.get(key)?.then(
      () => this.keySets.delete(key),
      () => undefined,
    );
  }

  /** One item's pool inputs, its referenced operands taken from what readOperands fetched. */
  private inputs(
    operands: Readonly<Record<string, JobOperand>>,
    fetched: ReadonlyMap<string, Uint8Array | CacheEntry>,
  ): Record<string, PoolInput> {
    const inputs: Record<string, PoolInput> = {};
    for (const [name, operand] of Object.entries(operands)) {
      if (operand !== null && typeof operand === 'object' && 'inline' in operand) {
        inputs[name] = new Uint8Array(Buffer.from(operand.inline, 'base64'));
      } else if (isRef(operand)) {
        const value = fetched.get(operand.ref);
        if (!value) throw new HeftyError('E_NOT_FOUND', 'an operand of this job expired before a worker ran it');
        inputs[name] = value;
      } else inputs[name] = operand as PoolInput;
    }
    return inputs;
  }

  /** Graceful drain: leave the membership, take nothing new, finish running jobs, close. */
  drain(): Promise<void> {
    return (this.drained ??= (async () => {
      this.draining = true;
      for (const timer of this.timers) clearInterval(timer);
      await leave(this.redis, this.keys, this.id).catch(() => undefined);
      if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      await this.close();
    })());
  }

  private async close(): Promise<void> {
    this.draining = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.queues.map((q) => q.close(true)));
    for (const queueConnection of this.queueConnections) queueConnection.disconnect();
    this.subscriber.disconnect();
    this.redis.disconnect();
    this.keySets.clear();
    await this.pool.close();
  }
}

/** An item's error as its result; one that is not the request's fault fails the whole job (BullMQ records it). */
function itemError(e: unknown): JobError {
  if (!(e instanceof HeftyError) || e.code === 'E_WORKER_LOST' || e.code === 'E_INTERNAL') throw e;
  return e.toJSON();
}

function isRef(operand: JobOperand): operand is Extract<JobOperand, { readonly ref: string }> {
  return operand !== null && typeof operand === 'object' && 'ref' in operand;
}

function outcomeOf(code: string): string {
  if (code === 'E_CANCELLED') return 'cancelled';
  if (code === 'E_TIMEOUT') return 'expired';
  return 'error';
}
