/**
 * API-key authentication. Each key maps to a tenant; requests carry it as `Authorization: Bearer <key>` or
 * `x-api-key`. Keys are compared by their SHA-256 digest (a map lookup on digests leaks nothing useful about
 * the keys through timing). Health, readiness, metrics and docs are open. Failed attempts are throttled per
 * client address (auth-throttle.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { HeftyError } from '../errors.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { appWide } from './services.ts';

const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/docs']);

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

export const authPlugin: FastifyPluginAsync<{ apiKeys: Record<string, string>; failuresPerMinute: number }> = appWide(
  async (app, opts) => {
    const tenants = new Map(Object.entries(opts.apiKeys).map(([key, tenant]) => [digest(key), tenant]));
    const throttle = new AuthThrottle(opts.failuresPerMinute);
    app.decorateRequest('tenant', '');
    app.addHook('onRequest', async (request) => {
      const path = request.url.split('?', 1)[0];
      if (OPEN_ROUTES.has(path) || path.startsWith('/docs/')) return;
      throttle.check(request.ip);
      const key = presentedKey(request);
      const tenant = key === undefined ? undefined : tenants.get(digest(key));
      if (tenant === undefined) {
        throttle.failed(request.ip);
        throw new HeftyError('E_UNAUTHORIZED', 'a valid API key is required');
      }
      request.tenant = tenant;
    });
  },
);
