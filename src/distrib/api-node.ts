/**
 * The roles `hefty serve` takes when Redis is configured: a stateless API node whose evaluations go to the
 * shard queues (QueueExecutor), and, with `--workers N` (N > 0), also a compute node of N evaluation threads in
 * the same process, reading key sets through the service's own store.
 */
import type { ServerOptions } from '../server/config.ts';
import type { KeySetStore } from '../server/keyset-store.ts';
import { distributedOptions } from './options.ts';
import { QueueExecutor } from './queue-executor.ts';
import { WorkerNode, type JobEvent } from './worker-node.ts';

export interface DistributedRoles {
  readonly executor: QueueExecutor;
  /** Present when this node computes too. */
  readonly worker?: WorkerNode;
  /** Drains the compute role, then stops taking requests' jobs. */
  close(): Promise<void>;
}

export async function startDistributedRoles(
  redisUrl: string,
  prefix: string,
  options: ServerOptions,
  store: KeySetStore,
  {
    env = process.env,
    onStep,
    onJob,
  }: {
    env?: NodeJS.ProcessEnv;
    onStep?: (op: string, backend: string, milliseconds: number) => void;
    onJob?: (event: JobEvent) => void;
  } = {},
): Promise<DistributedRoles> {
  const distributed = distributedOptions({}, env);
  const executor = await QueueExecutor.create({
    redisUrl,
    prefix,
    shards: distributed.shards,
    jobTimeoutMs: options.jobTimeoutMs,
    resultTtlMs: distributed.resultTtlMs,
    backend: options.backend,
  });
  let worker: WorkerNode | undefined;
  if (options.workers > 0) {
    try {
      worker = await WorkerNode.start({
        ...distributed,
        redisUrl,
        prefix,
        readKeySet: (tenant, id) => store.read(tenant, id),
        slots: options.workers,
        backend: options.backend,
        registry: executor.metricsRegistry,
        onStep,
        onJob,
      });
    } catch (e) {
      await executor.close();
      throw e;
    }
  }
  return {
    executor,
    worker,
    close: async () => {
      await worker?.drain();
      await executor.close();
    },
  };
}
