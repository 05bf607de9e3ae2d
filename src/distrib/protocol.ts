/**
 * What travels through Redis for one evaluation job. A job carries references, not megabytes: the key set by
 * tenant and id (workers read and keep it loaded), encrypted operands by content hash (stored once under
 * `RedisKeys.payload`, refreshed rather than rewritten when reused) unless they are small enough to ride inline, and
 * numbers as they are. Outputs go to their own keys; the job's return value only names them, so BullMQ's
 * event stream never holds ciphertexts.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Program } from '../api/program.ts';
import { HeftyError } from '../errors.ts';
import type { OutputFormat } from '../server/executor.ts';

/** Operands up to this size ride in the job itself (base64); larger ones go by reference. */
export const INLINE_BYTES = 16 << 10;

export type JobOperand =
  /**
   * Stored under RedisKeys.payload(ref): an uploaded ciphertext under its content hash (`reuse`: other jobs may
   * name it too, so workers keep it loaded), or bytes that came with one request, under a request-scoped ref.
   */
  | { readonly ref: string; readonly size: number; readonly reuse: boolean }
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
  readonly inputs: Readonly<Record<string, JobOperand>>;
  readonly format: OutputFormat;
  /** Epoch ms after which the job is not worth running (the request's deadline). */
  readonly deadline: number;
  /** Fingerprint of the request, so a reused idempotency key with a different request is refused. */
  readonly fingerprint: string;
}

export type EvalJobResult =
  | {
      readonly outputs: readonly { readonly name: string; readonly key: string; readonly size: number }[];
      readonly worker: string;
      /** Whether the worker already had the key set loaded. */
      readonly hit: boolean;
    }
  | { readonly error: { readonly code: string; readonly message: string }; readonly worker: string };

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
  output(jobId: string, index: number): string {
    return `${this.prefix}out:${jobId}:${index}`;
  }
  cancel(jobId: string): string {
    return `${this.prefix}cancel:${jobId}`;
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Stores an operand under its ref unless it is there already; an existing copy only has its lifetime renewed,
 * so a ciphertext reused by many jobs crosses the network to Redis once.
 */
export async function putPayload(
  redis: Redis,
  keys: RedisKeys,
  ref: string,
  bytes: Uint8Array,
  ttlMs: number,
): Promise<void> {
  const key = keys.payload(ref);
  if ((await redis.pexpire(key, ttlMs)) === 1) return;
  await redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', ttlMs);
}

export async function getPayload(redis: Redis, keys: RedisKeys, ref: string): Promise<Uint8Array> {
  const bytes = await redis.getBuffer(keys.payload(ref));
  if (!bytes) throw new HeftyError('E_NOT_FOUND', 'an operand of this job expired before a worker ran it');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** BullMQ job ids may not contain ':'; idempotent ids are derived from the tenant and the client's key. */
export function idempotentJobId(tenant: string, idempotencyKey: string, index: number): string {
  return `i-${sha256Hex(`${tenant}\n${idempotencyKey}`).slice(0, 40)}-${index}`;
}
