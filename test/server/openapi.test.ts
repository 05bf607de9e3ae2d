/**
 * The service's documentation: /docs/json is a valid OpenAPI 3 document in which every route has an operationId,
 * a tag and each response it can give (errors with the error schema, at the status the error table assigns);
 * /docs serves the UI without an API key; fields the schemas forbid are refused with 400, not dropped.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { auth, octet, tempDir, testApp } from './fixtures.ts';

type Parameter = { in: string; name: string; required?: boolean; description?: string; schema?: unknown };
type Operation = {
  operationId?: string;
  tags?: string[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

let app: HeftyApp;
let document: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
const dir = tempDir();

beforeAll(async () => {
  app = await testApp(dir.path, { executor: 'inline' });
  const response = await app.inject({ url: '/docs/json' });
  expect(response.statusCode).toBe(200);
  document = response.json();
});
afterAll(async () => {
  await app?.close();
  dir.remove();
});

const operations = (): [string, Operation][] =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]),
  );

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3', async () => {
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('documents every route the service has, each with an operationId and a tag', () => {
    const routes = app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((line) => /\/(v1|healthz|readyz|metrics)/.test(line));
    expect(routes.length).toBeGreaterThan(0);
    expect(Object.keys(document.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/readyz',
      '/v1/keysets',
      '/v1/keysets/{id}',
      '/v1/keysets/{id}/batch',
      '/v1/keysets/{id}/ciphertexts',
      '/v1/keysets/{id}/eval',
    ]);
    const ids = operations().map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [name, op] of operations()) expect(op.tags?.length, name).toBeGreaterThan(0);
  });

  it('gives each error response the error schema and lists its codes at the status they get', () => {
    for (const [name, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${name} ${status}`).not.toBe('Default Response');
        // /readyz answers 503 with its status report, not an error.
        if (Number(status) < 400 || name === 'GET /readyz') continue;
        expect(response.content?.['application/json']?.schema, `${name} ${status}`).toEqual({
          $ref: '#/components/schemas/Error',
        });
        const codes = response.description.match(/E_[A-Z_]+/g) ?? [];
        expect(codes.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(ERROR_CODES[code as keyof typeof ERROR_CODES].httpStatus).toBe(Number(status));
      }
    }
    const evaluate = document.paths['/v1/keysets/{id}/eval'].post;
    for (const status of ['400', '401', '404', '413', '415', '429', '500', '503', '504'])
      expect(Object.keys(evaluate.responses)).toContain(status);
  });

  it('describes binary and multipart uploads and the program', () => {
    expect(Object.keys(document.paths['/v1/keysets'].post.requestBody?.content ?? {}).sort()).toEqual([
      'application/octet-stream',
      'multipart/form-data',
    ]);
    expect(Object.keys(document.paths['/v1/keysets/{id}/eval'].post.requestBody?.content ?? {}).sort()).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
    expect(Object.keys(document.paths['/v1/keysets/{id}/eval'].post.responses['200'].content ?? {}).sort()).toEqual([
      'application/json',
      'application/octet-stream',
    ]);
    expect(document.components.schemas).toHaveProperty('Program.properties.steps.items.oneOf');
  });

  it('documents the Idempotency-Key header of eval and batch', () => {
    for (const path of ['/v1/keysets/{id}/eval', '/v1/keysets/{id}/batch']) {
      const parameters = (document.paths[path].post as Operation & { parameters?: Parameter[] }).parameters ?? [];
      const header = parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      expect(header, path).toMatchObject({ required: false, schema: { type: 'string', pattern: expect.any(String) } });
      expect(header?.description, path).toMatch(/retry/);
    }
  });

  it('serves the Swagger UI at /docs without an API key', async () => {
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
    const initializer = await app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(initializer.statusCode).toBe(200);
  });
});

describe('schemas are enforced', () => {
  it('refuses unknown body fields with 400 instead of dropping them', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/keysets/ks_${'0'.repeat(32)}/eval`,
      headers: auth(),
      payload: { program: { inputs: {}, steps: [], outputs: ['x'] }, inputs: {}, fromat: 'seal' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining('additional') });
  });

  it('checks the Idempotency-Key header of eval and batch against its schema', async () => {
    const keySet = `/v1/keysets/ks_${'0'.repeat(32)}`;
    const program = { inputs: {}, steps: [], outputs: ['x'] };
    const requests = [
      { url: `${keySet}/eval`, payload: { program, inputs: {} } },
      { url: `${keySet}/batch`, payload: { program, items: [{}] } },
    ];
    for (const { url, payload } of requests) {
      for (const key of ['', 'has space', 'é', 'k'.repeat(129)]) {
        const refused = await app.inject({
          method: 'POST',
          url,
          headers: { ...auth(), 'idempotency-key': key },
          payload,
        });
        expect(refused.statusCode, `${url} ${JSON.stringify(key)}`).toBe(400);
        expect(refused.json()).toEqual({
          code: 'E_INVALID_ARGUMENT',
          message: expect.stringContaining('idempotency-key'),
        });
      }
      // A well-formed key passes validation: the request gets as far as looking up the (absent) key set.
      const accepted = await app.inject({
        method: 'POST',
        url,
        headers: { ...auth(), 'idempotency-key': 'retry-7:ok' },
        payload,
      });
      expect(accepted.statusCode, url).toBe(404);
    }
  });

  it('refuses unknown query fields with 400', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/keysets?nmae=prod',
      headers: { ...auth(), ...octet },
      payload: Buffer.from([1, 2, 3]),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('E_INVALID_ARGUMENT');
  });
});
