/**
 * Settings of the distributed mode that API nodes and workers share, with HEFTY_* environment overrides.
 * The Redis URL itself is the service configuration's (HEFTY_REDIS_URL / --redis).
 */
import { HeftyError } from '../errors.ts';

export interface DistributedOptions {
  /** Shard queues key sets are hashed into (HEFTY_SHARDS, 8); the same on every node. */
  shards: number;
  /** A running job's lock; a worker that stops renewing it for this long is presumed dead (HEFTY_JOB_LOCK_MS). */
  lockMs: number;
  /** How often workers look for jobs whose lock lapsed, to run them again (HEFTY_STALLED_INTERVAL_MS). */
  stalledIntervalMs: number;
  /** How long finished jobs and their outputs stay for idempotent retries (HEFTY_RESULT_TTL_MS). */
  resultTtlMs: number;
  /** A job waiting this long in another worker's shard may be taken by an idle worker (HEFTY_STEAL_AFTER_MS). */
  stealAfterMs: number;
  /** Serialized key-set bytes a worker keeps loaded, LRU (HEFTY_WORKER_KEYSET_BYTES). */
  workerKeySetBytes: number;
  /** Operand bytes a worker keeps, LRU by content hash (HEFTY_WORKER_OPERAND_BYTES). */
  workerOperandBytes: number;
  /** Worker heartbeat period; a worker silent for 3 periods is out of the membership (HEFTY_HEARTBEAT_MS). */
  heartbeatMs: number;
  /**
   * Jobs a worker takes beyond its slots (HEFTY_WORKER_PREFETCH, 1): their operands are read while the slots run,
   * so a slot starts its next job without waiting on Redis.
   */
  workerPrefetch: number;
}

export const DEFAULT_DISTRIBUTED_OPTIONS: DistributedOptions = {
  shards: 8,
  // A killed worker's job runs again within about lock + 2 × interval (20 s), well inside the default 60 s deadline.
  lockMs: 10_000,
  stalledIntervalMs: 5_000,
  resultTtlMs: 60_000,
  stealAfterMs: 250,
  workerKeySetBytes: 1 << 30,
  workerOperandBytes: 256 << 20,
  heartbeatMs: 1000,
  workerPrefetch: 1,
};

const ENV: Record<keyof DistributedOptions, string> = {
  shards: 'HEFTY_SHARDS',
  lockMs: 'HEFTY_JOB_LOCK_MS',
  stalledIntervalMs: 'HEFTY_STALLED_INTERVAL_MS',
  resultTtlMs: 'HEFTY_RESULT_TTL_MS',
  stealAfterMs: 'HEFTY_STEAL_AFTER_MS',
  workerKeySetBytes: 'HEFTY_WORKER_KEYSET_BYTES',
  workerOperandBytes: 'HEFTY_WORKER_OPERAND_BYTES',
  heartbeatMs: 'HEFTY_HEARTBEAT_MS',
  workerPrefetch: 'HEFTY_WORKER_PREFETCH',
};

const MINIMUM: Record<keyof DistributedOptions, number> = {
  shards: 1,
  lockMs: 500,
  stalledIntervalMs: 100,
  resultTtlMs: 1000,
  stealAfterMs: 0,
  workerKeySetBytes: 1,
  workerOperandBytes: 1,
  heartbeatMs: 100,
  workerPrefetch: 0,
};

export function distributedOptions(
  given: Partial<DistributedOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): DistributedOptions {
  const out = { ...DEFAULT_DISTRIBUTED_OPTIONS };
  for (const key of Object.keys(ENV) as (keyof DistributedOptions)[]) {
    const raw = env[ENV[key]];
    const value = given[key] ?? (raw === undefined || raw === '' ? undefined : Number(raw));
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < MINIMUM[key]) {
      throw new HeftyError('E_INVALID_ARGUMENT', `${ENV[key]} must be an integer ≥ ${MINIMUM[key]}`);
    }
    out[key] = value;
  }
  if (out.shards > 1024) throw new HeftyError('E_INVALID_ARGUMENT', 'HEFTY_SHARDS must be at most 1024');
  return out;
}
