/** Liveness, readiness and Prometheus metrics (the OpenAPI document and its UI: openapi.ts). */
import { Registry, type Metric } from 'prom-client';
import type { ServicePlugin } from '../services.ts';

function withoutMetrics(source: Registry, names: readonly string[]): Registry {
  const kept = new Registry();
  for (const metric of source.getMetricsAsArray())
    if (!names.includes(metric.name)) kept.registerMetric(metric as unknown as Metric);
  return kept;
}

export const operationsRoutes: ServicePlugin = async (app, { services }) => {
  const { executor, options, metrics, gate, store } = services;
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  app.get('/healthz', { schema: { summary: 'Liveness: the process is up' } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: accepting work (503 while shutting down, saturated, or cut off from Redis)',
      },
    },
    async (_request, reply) => {
      const stats = executor.stats();
      // Evaluations wait in the fair gate (the executor only ever holds about one per slot).
      const busy = closing || stats.queued >= options.maxQueue || gate.backlog >= options.maxQueue;
      const status = !store.available ? 'unavailable' : busy ? 'busy' : 'ready';
      return reply.status(status === 'ready' ? 200 : 503).send({
        status,
        ...stats,
        admissionBacklog: gate.backlog,
        ...(services.redis ? { redis: services.redis.up ? 'up' : 'down' } : {}),
      });
    },
  );

  // The executor may bring its own registry (the worker pool does); both are served as one exposition. Step
  // durations are the service's hefty_op_duration_seconds whatever the executor, so the pool's copy is left out.
  const registry = executor.metricsRegistry
    ? Registry.merge([metrics.registry, withoutMetrics(executor.metricsRegistry, ['hefty_pool_op_duration_seconds'])])
    : metrics.registry;
  app.get('/metrics', { schema: { summary: 'Prometheus metrics' } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
};
