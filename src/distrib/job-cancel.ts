/**
 * Stopping jobs whose client went away (E_CANCELLED) or whose request's deadline passed on the API node
 * (E_TIMEOUT). The API node marks each job (RedisKeys.cancel, checked by a worker when it starts one, in the read
 * it does anyway) and then names them on the `cancelled` channel; a worker aborts the signal of each named job it
 * is running, so the pool drops the job's items not started yet (pool batches stop between runs) and the job ends
 * with that error, without writing outputs. Mark first, message second: a worker registers a job before it reads
 * the mark, so a job is either found marked or hears the message.
 */
import type { Redis } from 'ioredis';
import { HeftyError } from '../errors.ts';
import type { RedisKeys } from './protocol.ts';

export type CancelReason = 'E_CANCELLED' | 'E_TIMEOUT';

const MESSAGES: Record<CancelReason, string> = {
  E_CANCELLED: 'the client went away while the job ran',
  E_TIMEOUT: "the request's deadline passed while the job ran",
};

/** Marks `jobIds` cancelled (for `ttlMs`) and tells the workers running any of them. */
export async function cancelJobs(
  redis: Redis,
  keys: RedisKeys,
  jobIds: readonly string[],
  reason: CancelReason,
  ttlMs: number,
): Promise<void> {
  if (jobIds.length === 0) return;
  const mark = redis.multi();
  for (const id of jobIds) mark.set(keys.cancel(id), '1', 'PX', ttlMs);
  await mark.exec();
  // "<reason> <job id> …": BullMQ job ids never hold spaces (ours are UUID- or hash-based).
  await redis.publish(keys.cancelled, [reason, ...jobIds].join(' '));
}

/** The abort signals of the jobs a worker runs, fired by messages on the `cancelled` channel. */
export class RunningJobs {
  private readonly controllers = new Map<string, AbortController>();

  /** Registers a job as it starts; its signal aborts if its client goes away. */
  start(jobId: string): AbortSignal {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller.signal;
  }

  finish(jobId: string): void {
    this.controllers.delete(jobId);
  }

  /** A `cancelled` message: aborts the named jobs running here. */
  cancel(message: string): void {
    const [reason, ...jobIds] = message.split(' ');
    if (!Object.hasOwn(MESSAGES, reason)) return;
    const error = new HeftyError(reason as CancelReason, MESSAGES[reason as CancelReason]);
    for (const jobId of jobIds) this.controllers.get(jobId)?.abort(error);
  }
}
