/**
 * Which compute nodes are alive: each worker renews its entry in a sorted set (score = when it expires) and
 * records its evaluation slots; a worker that stops renewing (killed, partitioned) drops out after its TTL.
 * Workers derive their home shards from this list; API nodes size their admission gate by the live slots.
 */
import type { Redis } from 'ioredis';
import { HeftyError } from '../errors.ts';
import { SHARDS_KEY, WORKERS_KEY, workerInfoKey } from './protocol.ts';

export interface LiveWorker {
  readonly id: string;
  readonly slots: number;
}

export async function heartbeat(redis: Redis, id: string, slots: number, ttlMs: number): Promise<void> {
  const now = Date.now();
  await redis
    .multi()
    .zadd(WORKERS_KEY, now + ttlMs, id)
    .zremrangebyscore(WORKERS_KEY, '-inf', now)
    .set(workerInfoKey(id), String(slots), 'PX', ttlMs)
    .exec();
}

export async function leave(redis: Redis, id: string): Promise<void> {
  await redis.multi().zrem(WORKERS_KEY, id).del(workerInfoKey(id)).exec();
}

export async function liveWorkers(redis: Redis): Promise<LiveWorker[]> {
  const ids = await redis.zrangebyscore(WORKERS_KEY, Date.now(), '+inf');
  if (ids.length === 0) return [];
  const slots = await redis.mget(...ids.map(workerInfoKey));
  return ids.map((id, i) => ({ id, slots: Number(slots[i] ?? 0) }));
}

/** Every node of a deployment must hash key sets into the same number of shards. */
export async function checkShardCount(redis: Redis, shards: number): Promise<void> {
  await redis.set(SHARDS_KEY, String(shards), 'NX');
  const agreed = Number(await redis.get(SHARDS_KEY));
  if (agreed !== shards) {
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      `this deployment uses ${agreed} shard queues, not ${shards} (HEFTY_SHARDS must match on every node)`,
    );
  }
}
