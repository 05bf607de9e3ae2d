/**
 * startWorker(): a compute node as a process role (`hefty worker`): the WorkerNode, an optional metrics
 * listener (/metrics, /healthz, /readyz), logs, and SIGTERM/SIGINT → graceful drain (finish running jobs,
 * take no new ones) → exit 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { pino, type Level } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BackendChoice } from '../backend/load.ts';
import { distributedOptions } from './options.ts';
import { openKeySetReader } from './keyset-reader.ts';
import { WorkerNode, type KeySetReader } from './worker-node.ts';

export interface WorkerProcessOptions {
  redisUrl: string;
  /** Prefix of the deployment's keys (HEFTY_REDIS_PREFIX, default 'hefty:'). */
  prefix?: string;
  /** Pool threads (jobs at once); 0 = one per core. */
  workers: number;
  backend: BackendChoice;
  /** Port for /metrics, /healthz and /readyz (0 picks a free one); none when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  logLevel: Level | 'silent';
  env?: NodeJS.ProcessEnv;
  handleSignals?: boolean;
  /** Where key sets are read (default: the Redis key store at redisUrl). */
  readKeySet?: KeySetReader;
  /** Metrics registry to share (a node that is also an API node); the node's own otherwise. */
  registry?: Registry;
}

export interface RunningWorker {
  readonly node: WorkerNode;
  /** The metrics listener's base URL, when one was asked for. */
  readonly metricsUrl?: string;
  /** Graceful: finish running jobs, then stop. */
  drain(): Promise<void>;
}

export async function startWorker(options: WorkerProcessOptions): Promise<RunningWorker> {
  const env = options.env ?? process.env;
  const log = pino({ level: options.logLevel, base: { role: 'worker' } });
  const distributed = distributedOptions({}, env);
  const prefix = options.prefix ?? 'hefty:';
  const reader = options.readKeySet ? undefined : await openKeySetReader(options.redisUrl, prefix);
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry, prefix: 'hefty_' });
  const slots = options.workers > 0 ? options.workers : availableParallelism();
  let node: WorkerNode;
  try {
    node = await WorkerNode.start({
      ...distributed,
      redisUrl: options.redisUrl,
      prefix,
      readKeySet: options.readKeySet ?? reader!.read,
      slots,
      backend: options.backend,
      registry,
      onJob: (event) => log.debug(event, 'job'),
    });
  } catch (e) {
    await reader?.close();
    throw e;
  }
  let server: Server | undefined;
  let draining = false;
  let metricsUrl: string | undefined;
  if (options.metricsPort !== undefined) {
    server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        void registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          () => response.writeHead(500).end(),
        );
      } else if (path === '/healthz') response.writeHead(200).end('ok\n');
      else if (path === '/readyz') response.writeHead(draining ? 503 : 200).end(draining ? 'draining\n' : 'ok\n');
      else response.writeHead(404).end();
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.metricsPort, options.metricsHost ?? '127.0.0.1', () => resolve());
    });
    const address = listening.address() as AddressInfo;
    metricsUrl = `http://${address.address}:${address.port}`;
  }
  log.info(
    { worker: node.id, slots, shards: distributed.shards, metricsUrl },
    `hefty worker ${node.id} ready: ${slots} slots, ${distributed.shards} shards${metricsUrl ? `, metrics at ${metricsUrl}/metrics` : ''}`,
  );
  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> =>
    (drained ??= (async () => {
      draining = true;
      await node.drain();
      await reader?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    })());
  if (options.handleSignals !== false) {
    const onSignal = (signal: string): void => {
      log.info({ signal }, 'draining: finishing running jobs');
      drain().then(
        () => {
          log.info('drained');
          process.exit(0);
        },
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { node, metricsUrl, drain };
}
