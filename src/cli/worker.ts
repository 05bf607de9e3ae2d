/**
 * `hefty worker`: a compute node of the distributed mode. It takes evaluation jobs from Redis (BullMQ shard
 * queues) and runs them on its worker-thread pool; SIGTERM drains it (running jobs finish, no new ones start).
 */
import { HeftyError } from '../errors.ts';
import { integer, oneOf, parseCommand } from './args.ts';

const HELP = `usage: hefty worker --redis URL [options]

Runs a compute node: takes evaluation jobs that API nodes (hefty serve with the same Redis) queued, keeps the key
sets it uses loaded, and answers through Redis. SIGTERM or SIGINT drains it: running jobs finish, then it exits.

  --redis URL          Redis (or Valkey) of the deployment (env HEFTY_REDIS_URL), e.g. redis://10.0.0.5:6379
  --workers N          evaluation threads = jobs at once, 0 = one per core (env HEFTY_WORKERS, default 0)
  --backend NAME       native, wasm or auto (env HEFTY_BACKEND, default auto)
  --metrics-port N     serve /metrics, /healthz and /readyz on this port (0 picks a free one; default: none)
  --metrics-host ADDR  address for the metrics port (default 127.0.0.1)
  --log-level L        fatal, error, warn, info, debug, trace or silent (env HEFTY_LOG_LEVEL, default info)
  -h, --help           this help
  -v, --version        hefty's version

Tuning (environment; the same on API nodes): HEFTY_REDIS_PREFIX ('hefty:'), HEFTY_SHARDS (8), HEFTY_JOB_LOCK_MS (10000),
HEFTY_STALLED_INTERVAL_MS (5000), HEFTY_RESULT_TTL_MS (60000), HEFTY_STEAL_AFTER_MS (250),
HEFTY_WORKER_KEYSET_BYTES (1 GiB), HEFTY_WORKER_OPERAND_BYTES (256 MiB), HEFTY_HEARTBEAT_MS (1000),
HEFTY_WORKER_PREFETCH (1: jobs taken beyond the slots, their operands read while the slots run),
HEFTY_NATIVE_THREADS (intra-op threads per evaluation thread).`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export async function workerCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    {
      name: 'worker',
      help: HELP,
      options: {
        redis: { type: 'string' },
        workers: { type: 'string' },
        backend: { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'log-level': { type: 'string' },
      },
    },
    argv,
  );
  if (!parsed) return;
  const { values } = parsed;
  const env = process.env;
  const redisUrl = values.redis ?? env.HEFTY_REDIS_URL;
  if (!redisUrl) throw new HeftyError('E_INVALID_ARGUMENT', 'hefty worker needs --redis URL (or HEFTY_REDIS_URL)');
  const { startWorker } = await import('../distrib/worker-main.ts');
  await startWorker({
    redisUrl,
    ...(env.HEFTY_REDIS_PREFIX ? { prefix: env.HEFTY_REDIS_PREFIX } : {}),
    workers: integer(values.workers ?? env.HEFTY_WORKERS, '--workers', 0, 1024) ?? 0,
    backend: oneOf(values.backend ?? env.HEFTY_BACKEND, ['native', 'wasm', 'auto'], '--backend') ?? 'auto',
    metricsPort: integer(values['metrics-port'], '--metrics-port', 0, 65535),
    metricsHost: values['metrics-host'],
    logLevel: oneOf(values['log-level'] ?? env.HEFTY_LOG_LEVEL, LOG_LEVELS, '--log-level') ?? 'info',
  });
}
