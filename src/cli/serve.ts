/**
 * `hefty serve`: the HTTP service. Flags override the HEFTY_* environment (which overrides the defaults), so
 * a deployment's environment can be adjusted on the command line.
 */
import type { ServerOptions } from '../server/config.ts';
import { HeftyError } from '../errors.ts';
import { integer, oneOf, parseCommand } from './args.ts';

const HELP = `usage: hefty serve [options]

Starts the HTTP service (API docs at /docs). Without HEFTY_API_KEYS it runs in dev mode: loopback only, with a
random API key kept in <data-dir>/dev-api-key and printed at start.

  --port N           TCP port (env HEFTY_PORT, default 8080; 0 picks a free one)
  --host ADDR        address to bind (env HEFTY_HOST, default 127.0.0.1)
  --data-dir DIR     key store and dev key (env HEFTY_DATA_DIR, default ./data)
  --redis URL        keep key sets and uploaded ciphertexts in Redis (redis://host:6379), shared by every
                     node; unset (the default) keeps them in this process and --data-dir (env HEFTY_REDIS_URL)
  --workers N        evaluation worker threads, 0 = one per core (env HEFTY_WORKERS, default 0); with --redis
                     this node is an API node that queues evaluations for \`hefty worker\` nodes, and N > 0
                     makes it a compute node too, with N threads
  --executor E       pool (worker threads, default) or inline (env HEFTY_EXECUTOR)
  --backend NAME     native, wasm or auto (env HEFTY_BACKEND, default auto)
  --log-level L      fatal, error, warn, info, debug, trace or silent (env HEFTY_LOG_LEVEL, default info)
  -h, --help         this help
  -v, --version      hefty's version

Other settings come from the environment: HEFTY_API_KEYS="key:tenant,...", HEFTY_MAX_KEYSET_BYTES,
HEFTY_TENANT_QUOTA_BYTES, HEFTY_CACHE_BYTES, HEFTY_MAX_QUEUE, HEFTY_RATE_LIMIT, HEFTY_JOB_TIMEOUT_MS.`;

/** Flag → the option it sets and the environment variable it overrides. */
const FLAGS = {
  port: ['port', 'HEFTY_PORT'],
  host: ['host', 'HEFTY_HOST'],
  'data-dir': ['dataDir', 'HEFTY_DATA_DIR'],
  workers: ['workers', 'HEFTY_WORKERS'],
  executor: ['executor', 'HEFTY_EXECUTOR'],
  backend: ['backend', 'HEFTY_BACKEND'],
  'log-level': ['logLevel', 'HEFTY_LOG_LEVEL'],
  redis: ['redisUrl', 'HEFTY_REDIS_URL'],
} as const satisfies Record<string, readonly [keyof ServerOptions, string]>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export async function serveCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    {
      name: 'serve',
      help: HELP,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        workers: { type: 'string' },
        executor: { type: 'string' },
        backend: { type: 'string' },
        'log-level': { type: 'string' },
        redis: { type: 'string' },
      },
    },
    argv,
  );
  if (!parsed) return;
  const { values } = parsed;
  const options: Partial<ServerOptions> = {
    port: integer(values.port, '--port', 0, 65535),
    host: values.host,
    dataDir: values['data-dir'],
    workers: integer(values.workers, '--workers', 0, 1024),
    executor: oneOf(values.executor, ['pool', 'inline'], '--executor'),
    backend: oneOf(values.backend, ['native', 'wasm', 'auto'], '--backend'),
    logLevel: oneOf(values['log-level'], LOG_LEVELS, '--log-level'),
    redisUrl: values.redis,
  };
  const env = { ...process.env };
  for (const [flag, [key, variable]] of Object.entries(FLAGS)) {
    if (values[flag as keyof typeof values] === undefined) delete options[key];
    else delete env[variable];
  }
  const { startServer } = await import('../server/main.ts');
  try {
    await startServer(options, { env });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new HeftyError(
        'E_UNAVAILABLE',
        `cannot listen: ${(e as Error).message} (--port or HEFTY_PORT picks another port)`,
      );
    }
    throw e;
  }
}
