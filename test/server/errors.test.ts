/** Every HeftyError code leaves the service with its documented status and a { code, message } body. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HeftyError, type HeftyErrorCode } from '../../src/errors.ts';
import { errorPlugin } from '../../src/server/error-handler.ts';
import { auth, BOB, tempDir, testApp } from './fixtures.ts';

describe('error mapping', () => {
  it('maps every code to its status; internals do not leak', async () => {
    const app = Fastify({ logger: false });
    await app.register(errorPlugin, { retryAfterSeconds: 3 });
    app.get('/throw/:code', async (request) => {
      const { code } = request.params as { code: HeftyErrorCode };
      throw new HeftyError(code, `secret detail for ${code}`);
    });
    app.get('/crash', async () => {
      throw new TypeError('undefined is not a function at /srv/internal/path.ts');
    });
    for (const code of Object.keys(ERROR_CODES) as HeftyErrorCode[]) {
      const response = await app.inject({ url: `/throw/${code}` });
      expect(response.statusCode, code).toBe(ERROR_CODES[code].httpStatus);
      expect(response.json().code).toBe(code);
      if (code === 'E_OVERLOADED') expect(response.headers['retry-after']).toBe('3');
      if (code === 'E_INTERNAL') expect(response.json().message).toBe('internal error');
    }
    const crash = await app.inject({ url: '/crash' });
    expect(crash.statusCode).toBe(500);
    expect(crash.json()).toEqual({ code: 'E_INTERNAL', message: 'internal error' });
    expect((await app.inject({ url: '/nowhere' })).json().code).toBe('E_NOT_FOUND');
    await app.close();
  });

  it('rate-limits per tenant with 429 E_RATE_LIMITED', async () => {
    const dir = tempDir();
    const app = await testApp(dir.path, { rateLimitPerMinute: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/v1/keysets', headers: auth() })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await app.inject({ url: '/v1/keysets', headers: auth() });
      expect(limited.json().code).toBe('E_RATE_LIMITED');
      expect((await app.inject({ url: '/v1/keysets', headers: auth(BOB) })).statusCode).toBe(200);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });
});
