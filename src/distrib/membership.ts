/**
 * Which compute nodes are alive: each worker renews its entry in a sorted set (score = when it expires) and
 * records its evaluation slots; a worker that stops renewing (killed, partitioned) drops out after its TTL.
 * Workers derive their home shards from this list; API nodes size their admission gate by the live slots.
 */
import type { Redis } from 'ioredis';
import { HeftyError } from '../errors.ts';
import type { RedisKeys } from './protocol.ts';

export interface LiveWorker {
  readonly id: string;
  readonly slots: number;
}

export async function heartbeat(
  redis: Redis,
  keys: RedisKeys,
  id: string,
  slots: number,
  ttlMs: number,
): Promise<void> {
  const now = Date.now();
  await redis
    .multi()
    .zadd(keys.workers, now + ttlMs, id)
    .zremrangebyscore(keys.workers, '-inf', now)
    .set(keys.workerInfo(id), String(slots), 'PX', ttlMs)
    .exec();
}

export async function leave(redis: Redis, keys: RedisKeys, id: string): Promise<void> {
  await redis.multi().zrem(keys.workers, id).del(keys.workerInfo(id)).exec();
}

export async function liveWorkers(redis: Redis, keys: RedisKeys): Promise<LiveWorker[]> {
  const ids = await redis.zrangebyscore(keys.workers, Date.now(), '+inf');
  if (ids.length === 0) return [];
  const slots = await redis.mget(...ids.map((id) => keys.workerInfo(id)));
  return ids.map((id, i) => ({ id, slots: Number(slots[i] ?? 0) }));
}

/** Every node of a deployment must hash key sets into the same number of shards. */
export async function checkShardCount(redis: Redis, keys: RedisKeys, shards: number): Promise<void> {
  await redis.set(keys.shards, String(shards), 'NX');
  const agreed = Number(await redis.get(keys.shards));
  if (agreed !== shards) {
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      `this deployment uses ${agreed} shard queues, not ${shards} (HEFTY_SHARDS must match on every node)`,
    );
  }
}
