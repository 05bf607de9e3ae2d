/**
 * `hefty serve` / `npm start`: the embedded default service (key store under ./data, evaluation on a worker pool, no
 * external server). Without configured API keys it runs in dev mode: it refuses to bind anything but loopback,
 * and uses a random dev key kept in <dataDir>/dev-api-key (mode 0600, printed at start) so that nothing is
 * ever served without authentication. SIGINT/SIGTERM shut down gracefully: stop accepting, finish queued
 * evaluations, flush the key store.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { engineReport } from '../backend/engine-report.ts';
import { HeftyError } from '../errors.ts';
import { buildApp } from './app.ts';
import { isLoopback, resolveOptions, type ServerOptions } from './config.ts';
import type { Executor } from './executor.ts';
import { redactUrl } from './redis-connection.ts';

export const DEV_KEY_FILE = 'dev-api-key';

/** Reads or creates the dev key for a data directory. */
export function devApiKey(dataDir: string): string {
  const path = join(dataDir, DEV_KEY_FILE);
  try {
    const key = readFileSync(path, 'utf8').trim();
    if (key.length >= 16) return key;
  } catch {
    // first start: create it below
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = `hefty_dev_${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Set in dev mode: the key clients must send. */
  devKey?: string;
  close(): Promise<void>;
}

export async function startServer(
  options: Partial<ServerOptions> = {},
  {
    env = process.env,
    handleSignals = true,
    executor,
  }: { env?: NodeJS.ProcessEnv; handleSignals?: boolean; executor?: Executor } = {},
): Promise<RunningServer> {
  const resolved = resolveOptions(options, env);
  let devKey: string | undefined;
  if (Object.keys(resolved.apiKeys).length === 0) {
    if (!isLoopback(resolved.host)) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `refusing to listen on ${resolved.host} without API keys: set HEFTY_API_KEYS="key:tenant,..."`,
      );
    }
    devKey = devApiKey(resolved.dataDir);
    resolved.apiKeys = { [devKey]: 'dev' };
  }
  const app = await buildApp(resolved, { env: {}, executor });
  let url: string;
  try {
    url = await app.listen({ host: resolved.host, port: resolved.port });
  } catch (e) {
    await app.close(); // its worker pool would keep the process alive
    throw e;
  }
  const engine = await engineReport({ probeWasm: false });
  app.log.info(
    {
      url,
      version: engine.version,
      engine: engine.engine,
      engineSource: engine.reason,
      // With Redis, evaluations go to the shard queues; `workers` threads here make this node compute too.
      executor: resolved.redisUrl ? 'queue' : resolved.executor,
      workers: resolved.redisUrl
        ? resolved.workers
        : resolved.executor === 'pool'
          ? resolved.workers || availableParallelism()
          : 0,
      dataDir: resolve(resolved.dataDir),
      store: resolved.redisUrl ? redactUrl(resolved.redisUrl) : 'local',
      auth: devKey ? 'dev-key' : 'api-keys',
      tenants: new Set(Object.values(resolved.apiKeys)).size,
    },
    `hefty ${engine.version} listening on ${url} (${engine.engine} engine)`,
  );
  if (devKey) {
    app.log.warn(
      { keyFile: join(resolved.dataDir, DEV_KEY_FILE) },
      `dev mode (no HEFTY_API_KEYS): loopback only; API key: ${devKey}`,
    );
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close().then(() => undefined));
  if (handleSignals) {
    const onSignal = (signal: string): void => {
      app.log.info({ signal }, 'shutting down');
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { app, url, devKey, close };
}
