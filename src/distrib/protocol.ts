/**
 * What travels through Redis for one evaluation job. A job is a run of consecutive batch items (itemsPerJob: the
 * queue's fixed costs per job are paid once for several items) and carries references, not megabytes: the key set by
 * tenant and id (workers read and keep it loaded), encrypted operands by content hash (stored once under
 * `RedisKeys.payload`, refreshed rather than rewritten when reused) unless they are small enough to ride inline, and
 * numbers as they are. Outputs go to their own keys; the job's return value only names them, so BullMQ's
 * event stream never holds ciphertexts.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Program } from '../api/program.ts';
import type { OutputFormat } from '../server/executor.ts';

/** Operands up to this size ride in the job itself (base64); larger ones go by reference. */
export const INLINE_BYTES = 16 << 10;

export type JobOperand =
  /**
   * Stored under RedisKeys.payload(ref) (or in the upload cache, `at`): an uploaded ciphertext under its content
   * hash (`reuse`: other jobs may name it too, so workers keep it loaded), or bytes that came with one request,
   * under a request-scoped ref.
   */
  | {
      readonly ref: string;
      readonly size: number;
      readonly reuse: boolean;
      /** An upload read where the shared upload cache holds it (field `b` of this hash), not under payload(ref). */
      readonly at?: string;
    }
  | { readonly inline: string }
  | number
  | readonly number[]
  | readonly (readonly number[])[];

export interface EvalJobData {
  readonly tenant: string;
  readonly keySetId: string;
  /** The key set's affinity key (tenant-scoped, also the worker's LRU key). */
  readonly keySet: string;
  readonly program: Program;
  /** The inputs of each item this job evaluates, in batch order. */
  readonly items: readonly Readonly<Record<string, JobOperand>>[];
  readonly format: OutputFormat;
  /** Epoch ms after which the job is not worth running (the request's deadline). */
  readonly deadline: number;
  /** Fingerprint of the request, so a reused idempotency key with a different request is refused. */
  readonly fingerprint: string;
}

export interface JobError {
  readonly code: string;
  readonly message: string;
}

/** One item's answer: where its outputs are, or its error (the request's fault, never retried). */
export type ItemOutcome =
  | { readonly outputs: readonly { readonly name: string; readonly key: string; readonly size: number }[] }
  | { readonly error: JobError };

export type EvalJobResult =
  | {
      readonly items: readonly ItemOutcome[];
      readonly worker: string;
      /** Whether the worker already had the key set loaded. */
      readonly hit: boolean;
    }
  /** The whole job's error (cancelled, past its deadline, key set gone): every item gets it. */
  | { readonly error: JobError; readonly worker: string };

/** Largest run of batch items one job carries. */
export const MAX_ITEMS_PER_JOB = 8;
/** A batch is cut into about this many jobs (fewer items per job for small batches), so it spreads over workers. */
const JOBS_PER_BATCH = 32;

/**
 * Items per job for a batch of `count`: a function of the count alone, so that an idempotent retry through any API
 * node cuts the batch into the same jobs (job ids are the request's key and the job's index).
 */
export function itemsPerJob(count: number): number {
  return Math.max(1, Math.min(MAX_ITEMS_PER_JOB, Math.ceil(count / JOBS_PER_BATCH)));
}

/**
 * The keys and channel this mode uses besides the key store's, under the deployment's prefix (HEFTY_REDIS_PREFIX,
 * 'hefty:' by default), so deployments sharing one Redis stay apart. BullMQ's own keys sit under `jobs`.
 */
export class RedisKeys {
  readonly prefix: string;
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  /** BullMQ's prefix for the shard queues. */
  get jobs(): string {
    return `${this.prefix}jobs`;
  }
  /** Sorted set of live workers, scored by when their heartbeat expires. */
  get workers(): string {
    return `${this.prefix}workers`;
  }
  /** Pub/sub channel: "a job was queued in shard <n>". */
  get wake(): string {
    return `${this.prefix}wake`;
  }
  /** Pub/sub channel: "stop these jobs" (a reason, then job ids, space-separated); running ones stop early. */
  get cancelled(): string {
    return `${this.prefix}cancelled`;
  }
  /** Pub/sub channel: "this key set was deleted" (its affinity key); workers drop it from their LRUs. */
  get forgotten(): string {
    return `${this.prefix}forgotten`;
  }
  /** The shard count every node of the deployment agreed on. */
  get shards(): string {
    return `${this.prefix}shards`;
  }
  workerInfo(worker: string): string {
    return `${this.prefix}worker:${worker}`;
  }
  payload(ref: string): string {
    return `${this.prefix}payload:${ref}`;
  }
  output(jobId: string, item: number, index: number): string {
    return `${this.prefix}out:${jobId}:${item}:${index}`;
  }
  cancel(jobId: string): string {
    return `${this.prefix}cancel:${jobId}`;
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An operand to store for a request's jobs: request-scoped bytes are new; a shared (`reuse`) ref may exist. */
export interface PayloadWrite {
  readonly ref: string;
  readonly bytes: Uint8Array;
  readonly reuse: boolean;
}

/**
 * Stores operands in two round trips at most: request-scoped ones are written at once; shared ones (content-hash
 * refs) only have their lifetime renewed when they are there already, so a ciphertext reused by many jobs crosses
 * the network to Redis once. Separate commands sent together, not a pipeline: ioredis joins a pipeline's commands
 * into one buffer, a copy of every operand it carries.
 */
export async function putPayloads(
  redis: Redis,
  keys: RedisKeys,
  writes: readonly PayloadWrite[],
  ttlMs: number,
): Promise<void> {
  const store = ({ ref, bytes }: PayloadWrite): Promise<unknown> =>
    redis.set(keys.payload(ref), asBuffer(bytes), 'PX', ttlMs);
  const renewed = await Promise.all(
    writes.map((write) => (write.reuse ? redis.pexpire(keys.payload(write.ref), ttlMs) : store(write))),
  );
  await Promise.all(writes.filter((write, i) => write.reuse && renewed[i] !== 1).map(store));
}

/** A pipeline's replies, or its first error thrown (a pipeline reports errors per command instead of throwing). */
export function failed<T>(replies: [Error | null, T][] | null): [Error | null, T][] {
  if (!replies) throw new Error('the Redis pipeline was discarded');
  for (const [error] of replies) if (error) throw error;
  return replies;
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** BullMQ job ids may not contain ':'; idempotent ids are derived from the tenant and the client's key. */
export function idempotentJobId(tenant: string, idempotencyKey: string, index: number): string {
  return `i-${sha256Hex(`${tenant}\n${idempotencyKey}`).slice(0, 40)}-${index}`;
}
