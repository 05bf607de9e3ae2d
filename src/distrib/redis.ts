/**
 * Redis connections for the distributed mode. API nodes fail fast when Redis is down (no offline queue, one
 * retry) so that a request gets 503 E_UNAVAILABLE at once instead of hanging; blocking readers (QueueEvents,
 * BullMQ workers) retry forever, as BullMQ requires, and reconnect by themselves when Redis comes back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { HeftyError } from '../errors.ts';

export type ConnectionRole = 'command' | 'blocking';

export function connect(url: string, role: ConnectionRole, name: string): Redis {
  const options: RedisOptions =
    role === 'command'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: name }
      : { maxRetriesPerRequest: null, connectionName: name };
  const redis = new Redis(url, {
    ...options,
    // Reconnect quickly at first, then every 2 s at most.
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
  // ioredis reports connection failures as 'error' events too; an unhandled one would end the process.
  redis.on('error', () => undefined);
  return redis;
}

/** Connection-level failures (refused, reset, closed, offline) as the service's 503. */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    e.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|connect E|Reached the max retries/.test(e.message)
  );
}

export function unavailable(e: unknown): HeftyError {
  return new HeftyError('E_UNAVAILABLE', 'the shared store (Redis) cannot be reached', { cause: e });
}

/** Runs a Redis operation, turning connection failures into E_UNAVAILABLE. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof HeftyError) throw e;
    if (isConnectionError(e)) throw unavailable(e);
    throw e;
  }
}
