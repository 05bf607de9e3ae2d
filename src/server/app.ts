/**
 * buildApp(options) → the Fastify instance: security headers, request ids, auth, per-tenant rate limits, body
 * parsing with limits enforced before parsing, routes, metrics, errors. Nothing listens until the caller does.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import { engineReport } from '../backend/engine-report.ts';
import { HeftyError } from '../errors.ts';
import { authPlugin } from './auth.ts';
import { resolveOptions, type ServerOptions } from './config.ts';
import { errorPlugin } from './error-handler.ts';
import { InProcessExecutor, type Executor } from './executor.ts';
import { createStoreMetrics, InstrumentedKeySetStore, InstrumentedUploadCache } from './store-metrics.ts';
import { openStores } from './stores.ts';
import { PoolExecutor } from './pool-executor.ts';
import { startDistributedRoles, type DistributedRoles } from '../distrib/api-node.ts';
import type { JobEvent } from '../distrib/worker-node.ts';
import { createServerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { evaluateRoutes } from './routes/evaluate.ts';
import { keySetRoutes } from './routes/keysets.ts';
import { operationsRoutes } from './routes/operations.ts';
import type { Services } from './services.ts';
import { FairGate } from './tenant-limits.ts';

export interface BuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces the executor that options.executor names. */
  executor?: Executor;
}

export type HeftyApp = FastifyInstance & { services: Services };

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function buildApp(options: Partial<ServerOptions> = {}, build: BuildOptions = {}): Promise<HeftyApp> {
  const resolved = resolveOptions(options, build.env ?? {});
  if (Object.keys(resolved.apiKeys).length === 0) {
    throw new HeftyError('E_INVALID_ARGUMENT', 'buildApp needs at least one API key (startServer makes a dev key)');
  }
  // With a Redis URL, key sets and uploaded ciphertexts are shared by every node; without, they stay here.
  const stores = await openStores(resolved);
  const { redis } = stores;
  // Gauges read executor stats at scrape time, so the metrics can exist before the executor.
  const metrics = createServerMetrics({
    executor: () => executor.stats(),
    cache: () => stores.cache.stats(),
    engine: () => engineReport({ probeWasm: false }),
  });
  const storeMetrics = createStoreMetrics(metrics.registry, () => redis);
  const store = new InstrumentedKeySetStore(stores.store, storeMetrics);
  const cache = new InstrumentedUploadCache(stores.cache, storeMetrics);
  const executorOptions = {
    backend: resolved.backend,
    maxLoadedKeySets: resolved.maxLoadedKeySets,
    maxQueue: resolved.maxQueue,
    jobTimeoutMs: resolved.jobTimeoutMs,
    onStep: (op: string, backend: string, ms: number) => metrics.opDuration.observe({ op, backend }, ms / 1000),
  };
  // With Redis this node is a stateless API node: evaluations go to the shard queues, and `workers` > 0 makes it
  // a compute node as well. Job lines are logged once the logger exists.
  const jobLog: { write?: (event: JobEvent) => void } = {};
  let roles: DistributedRoles | undefined;
  let executor: Executor;
  try {
    roles =
      !build.executor && resolved.redisUrl
        ? await startDistributedRoles(resolved.redisUrl, resolved.redisPrefix, resolved, stores.store, {
            env: { ...process.env, ...build.env },
            onStep: executorOptions.onStep,
            onJob: (event) => jobLog.write?.(event),
          })
        : undefined;
    executor =
      build.executor ??
      roles?.executor ??
      (resolved.executor === 'pool'
        ? await PoolExecutor.create({ ...executorOptions, workers: resolved.workers })
        : new InProcessExecutor(executorOptions));
  } catch (error) {
    await stores.close();
    throw error;
  }
  const gate = new FairGate({
    slots: () => Math.max(1, executor.stats().capacity),
    maxQueued: resolved.maxQueue,
    tenantMaxInFlight: resolved.tenantMaxInFlight,
    waitTimeoutMs: resolved.jobTimeoutMs,
  });
  const services: Services = { options: resolved, store, executor, cache, metrics, gate, redis };

  const app = Fastify({
    logger: { level: resolved.logLevel },
    bodyLimit: resolved.maxKeySetBytes,
    // Slow or stalled clients must not hold sockets, memory or file descriptors: a whole request must arrive
    // within requestTimeoutMs (408), headers within headersTimeoutMs, and silent sockets are closed.
    requestTimeout: resolved.requestTimeoutMs,
    connectionTimeout: resolved.connectionTimeoutMs,
    keepAliveTimeout: resolved.keepAliveTimeoutMs,
    http: {
      headersTimeout: resolved.headersTimeoutMs,
      // Node checks the two timeouts above on this period (30 s by default, too coarse for short limits).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(resolved.headersTimeoutMs / 4))),
    },
    // The id header is read by genReqId alone, which accepts only well-formed ids (never echoes raw input).
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Fastify's default (removeAdditional: true) silently drops fields the schemas forbid: a misspelt
    // "fromat" would be ignored. Refuse them with 400 instead, as the schemas say.
    ajv: { customOptions: { removeAdditional: false } },
  });

  await app.register(errorPlugin, { retryAfterSeconds: resolved.retryAfterSeconds });
  await app.register(helmet, { global: true });
  const started = new WeakMap<object, number>();
  app.addHook('onRequest', async (request, reply) => {
    started.set(request, performance.now());
    reply.header('x-request-id', request.id);
    // Request bodies are never inflated here: compressed uploads would be a decompression-bomb vector.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      throw new HeftyError('E_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not accepted`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    const since = started.get(request);
    if (since !== undefined)
      metrics.httpDuration.observe({ method: request.method, route }, (performance.now() - since) / 1000);
  });
  await app.register(authPlugin, {
    apiKeys: resolved.apiKeys,
    failuresPerMinute: resolved.authFailuresPerMinute,
  });
  await app.register(rateLimit, {
    global: true,
    max: resolved.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.tenant || request.ip,
    allowList: (request) => request.tenant === '',
  });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  await app.register(multipart, {
    limits: {
      fileSize: resolved.maxKeySetBytes,
      files: 8,
      fields: 4,
      fieldSize: resolved.maxEvalBodyBytes,
      parts: 12,
      headerPairs: 64,
    },
  });
  await registerOpenApi(app);
  await app.register(operationsRoutes, { services });
  await app.register(keySetRoutes, { services });
  await app.register(evaluateRoutes, { services });

  // While shutting down, responses to in-flight requests close their connection so that keep-alive sockets do
  // not hold the process open until keepAliveTimeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  jobLog.write = (event) => app.log.debug(event, 'job');
  app.addHook('onClose', async () => {
    await (roles ? roles.close() : executor.close());
    await stores.close();
  });
  return Object.assign(app, { services }) as unknown as HeftyApp;
}
