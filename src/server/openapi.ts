/**
 * The service's OpenAPI document (JSON at /docs/json, a Swagger UI at /docs). Routes keep their validation
 * schemas; this module adds what only documents them, per route: operationId, tag, request bodies for binary and
 * multipart uploads, and every response with its status, media types and the error schema. Error responses are
 * derived from the error-code table (src/errors.ts), so a code's documented status is always the one it gets.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES, type HeftyErrorCode } from '../errors.ts';
import { PROGRAM_LIMITS } from '../api/program.ts';
import { VERSION } from '../version.ts';

type Schema = Record<string, unknown>;

const ref = (id: string): Schema => ({ $ref: `${id}#` });

const NAME = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$', maxLength: PROGRAM_LIMITS.maxNameLength };
const numbers = { type: 'array', items: { type: 'number' }, minItems: 1 };
const operand = {
  description: 'A value name, or an inline constant',
  oneOf: [
    NAME,
    {
      type: 'object',
      properties: { const: { oneOf: [{ type: 'number' }, numbers] } },
      required: ['const'],
      additionalProperties: false,
    },
  ],
};
const step = (ops: string[], args: Schema, extra: Record<string, Schema> = {}): Schema => ({
  type: 'object',
  properties: {
    out: NAME,
    op: { type: 'string', enum: ops },
    args,
    reusable: { type: 'boolean', description: 'Keep the result cached for later batches (pool and service)' },
    ...extra,
  },
  required: ['out', 'op', 'args', ...Object.keys(extra)],
  additionalProperties: false,
});
const oneName = { type: 'array', items: NAME, minItems: 1, maxItems: 1 };

/** Shared schemas, served as components/schemas. */
const SCHEMAS: Schema[] = [
  {
    $id: 'Error',
    description: 'Every failure: a stable code (see the error responses of each operation) and a message',
    type: 'object',
    properties: {
      code: { type: 'string', enum: Object.keys(ERROR_CODES) },
      message: { type: 'string' },
    },
    required: ['code', 'message'],
  },
  {
    $id: 'Program',
    description:
      'A JSON op graph over named inputs. The first argument of every op is an encrypted vector; binary ops ' +
      'take a second vector, plain vector or scalar.',
    type: 'object',
    properties: {
      inputs: {
        type: 'object',
        description: 'Input name → kind: vector (encrypted), plain (numbers), scalar (a number), matrix (rows)',
        maxProperties: PROGRAM_LIMITS.maxInputs,
        additionalProperties: { type: 'string', enum: ['vector', 'plain', 'scalar', 'matrix'] },
      },
      steps: {
        type: 'array',
        maxItems: PROGRAM_LIMITS.maxSteps,
        items: {
          oneOf: [
            step(['add', 'sub', 'mul', 'dot'], { type: 'array', items: operand, minItems: 2, maxItems: 2 }),
            step(['negate', 'square', 'sum', 'rotateColumns'], oneName),
            step(['rotate'], oneName, { steps: { type: 'integer' } }),
            step(['polyval'], oneName, {
              coeffs: { ...numbers, maxItems: PROGRAM_LIMITS.maxPolyDegree + 1, description: 'c0 + c1 x + …' },
            }),
            step(['matvec'], oneName, {
              matrix: {
                description: 'Inline rows, or the name of a matrix input',
                oneOf: [NAME, { type: 'array', items: numbers, maxItems: PROGRAM_LIMITS.maxMatrixRows }],
              },
            }),
          ],
        },
      },
      outputs: { type: 'array', items: NAME, minItems: 1 },
    },
    required: ['inputs', 'steps', 'outputs'],
    additionalProperties: false,
  },
  {
    $id: 'KeySet',
    type: 'object',
    properties: {
      id: { type: 'string', pattern: '^ks_[0-9a-f]{32}$' },
      name: { type: 'string' },
      size: { type: 'integer', description: 'Stored bytes' },
      digest: { type: 'string', description: 'SHA-256 of the stored envelope' },
      createdAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
      replacedBy: { type: 'string', description: 'Set once a newer upload with the same name replaced it' },
      info: { type: 'object', additionalProperties: true, description: 'Scheme, degree, levels, slots, keys' },
    },
    required: ['id', 'size', 'digest', 'createdAt', 'expiresAt'],
  },
  {
    $id: 'Outputs',
    type: 'object',
    properties: {
      outputs: {
        type: 'object',
        description: 'Output name → base64 ciphertext (hefty vector envelope, or bare SEAL bytes with format seal)',
        additionalProperties: { type: 'string', format: 'byte' },
      },
    },
    required: ['outputs'],
  },
];

const binary = { type: 'string', format: 'binary' };
const json = (schema: Schema): Schema => ({ 'application/json': { schema } });

/** Responses for the codes a route can fail with, grouped by HTTP status; the description lists the codes. */
function errorResponses(codes: HeftyErrorCode[]): Record<string, Schema> {
  const byStatus = new Map<number, HeftyErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code].httpStatus;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((code) => `${code}: ${ERROR_CODES[code].summary}`).join(' '),
        content: json(ref('Error')),
      },
    ]),
  );
}

/** Codes every authenticated route can answer with. */
const AUTHENTICATED: HeftyErrorCode[] = ['E_UNAUTHORIZED', 'E_RATE_LIMITED', 'E_INTERNAL'];
const KEYSET_ID: HeftyErrorCode[] = ['E_INVALID_ARGUMENT', 'E_NOT_FOUND'];
const EVALUATION: HeftyErrorCode[] = [
  ...AUTHENTICATED,
  ...KEYSET_ID,
  'E_BAD_PROGRAM',
  'E_BAD_SERIALIZATION',
  'E_LENGTH_MISMATCH',
  'E_NOT_FINITE',
  'E_LEVEL_EXHAUSTED',
  'E_MISSING_GALOIS_KEY',
  'E_MISSING_KEY',
  'E_PARAMS_MISMATCH',
  'E_SCALE_OUT_OF_BOUNDS',
  'E_UNSUPPORTED',
  'E_BODY_TOO_LARGE',
  'E_UNSUPPORTED_MEDIA_TYPE',
  'E_CANCELLED',
  'E_WORKER_LOST',
  'E_OVERLOADED',
  'E_TIMEOUT',
];

interface RouteDoc {
  operationId: string;
  tags: string[];
  description?: string;
  body?: Schema;
  response: Record<string, Schema>;
}

const evalRequest = {
  type: 'object',
  properties: {
    program: ref('Program'),
    inputs: {
      type: 'object',
      description:
        'Input name → value: {"ciphertext": id} (uploaded), {"bytes": base64} (inline), a number, numbers, or rows',
      additionalProperties: true,
    },
    format: { type: 'string', enum: ['hefty', 'seal'] },
  },
  required: ['program', 'inputs'],
  additionalProperties: false,
};

/** Documentation of each route, by "METHOD url" as Fastify registers it. */
const ROUTES: Record<string, RouteDoc> = {
  'GET /healthz': {
    operationId: 'getHealth',
    tags: ['operations'],
    response: { 200: { description: 'The process is up', content: json({ type: 'object' }) } },
  },
  'GET /readyz': {
    operationId: 'getReadiness',
    tags: ['operations'],
    response: {
      200: { description: 'Accepting work', content: json({ type: 'object', additionalProperties: true }) },
      503: { description: 'Shutting down or saturated', content: json({ type: 'object', additionalProperties: true }) },
    },
  },
  'GET /metrics': {
    operationId: 'getMetrics',
    tags: ['operations'],
    response: {
      200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } },
    },
  },
  'POST /v1/keysets': {
    operationId: 'uploadKeySet',
    tags: ['key sets'],
    description:
      'A hefty key-set envelope (hefty keygen writes keys/keyset.hfks; encodeKeySet in the library), or SEAL ' +
      'objects as multipart parts (what node-seal clients have). Parameters must meet 128-bit security; ' +
      'secret keys are refused.',
    body: {
      content: {
        'application/octet-stream': { schema: { ...binary, description: 'HFKS key-set envelope' } },
        'multipart/form-data': {
          schema: {
            type: 'object',
            description: 'Either one "keyset" envelope part, or "params" plus SEAL key parts',
            properties: {
              keyset: binary,
              params: { ...binary, description: 'SEAL EncryptionParameters' },
              publicKey: binary,
              relinKeys: binary,
              galoisKeys: binary,
            },
          },
        },
      },
    },
    response: {
      201: { description: 'Stored', content: json(ref('KeySet')) },
      ...errorResponses([
        ...AUTHENTICATED,
        'E_INVALID_ARGUMENT',
        'E_BAD_SERIALIZATION',
        'E_INVALID_PARAMS',
        'E_INSECURE_PARAMS',
        'E_SECRET_KEY_REFUSED',
        'E_QUOTA_EXCEEDED',
        'E_BODY_TOO_LARGE',
        'E_UNSUPPORTED_MEDIA_TYPE',
      ]),
    },
  },
  'GET /v1/keysets': {
    operationId: 'listKeySets',
    tags: ['key sets'],
    response: {
      200: {
        description: "A page of the tenant's key sets, oldest first (ties by id); `next` fetches the following page",
        content: json({
          type: 'object',
          properties: {
            keysets: { type: 'array', items: ref('KeySet') },
            next: { type: 'string', description: 'Pass as `cursor` for the next page; absent on the last page' },
          },
          required: ['keysets'],
        }),
      },
      ...errorResponses([...AUTHENTICATED, 'E_INVALID_ARGUMENT']),
    },
  },
  'GET /v1/keysets/:id': {
    operationId: 'getKeySet',
    tags: ['key sets'],
    response: {
      200: { description: 'The key set', content: json(ref('KeySet')) },
      ...errorResponses([...AUTHENTICATED, ...KEYSET_ID]),
    },
  },
  'DELETE /v1/keysets/:id': {
    operationId: 'deleteKeySet',
    tags: ['key sets'],
    response: { 204: { description: 'Deleted' }, ...errorResponses([...AUTHENTICATED, ...KEYSET_ID]) },
  },
  'POST /v1/keysets/:id/ciphertexts': {
    operationId: 'uploadCiphertext',
    tags: ['evaluation'],
    description: 'Upload an operand once and refer to it as {"ciphertext": id} in later evaluations.',
    body: {
      content: { 'application/octet-stream': { schema: { ...binary, description: 'hefty vector or SEAL bytes' } } },
    },
    response: {
      201: {
        description: 'Cached',
        content: json({
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^ct_[0-9a-f]{40}$' },
            size: { type: 'integer' },
            ttlSeconds: { type: 'integer' },
          },
          required: ['id', 'size', 'ttlSeconds'],
        }),
      },
      ...errorResponses([
        ...AUTHENTICATED,
        ...KEYSET_ID,
        'E_BAD_SERIALIZATION',
        'E_BODY_TOO_LARGE',
        'E_UNSUPPORTED_MEDIA_TYPE',
      ]),
    },
  },
  'POST /v1/keysets/:id/eval': {
    operationId: 'evaluate',
    tags: ['evaluation'],
    description:
      'JSON with inline or uploaded operands, or multipart: a "request" field holding that JSON plus one binary ' +
      'part per encrypted input, named after it. With Accept: application/octet-stream and one output, the ' +
      'result comes back as raw bytes (its name in X-Hefty-Output).',
    body: {
      content: {
        'application/json': { schema: evalRequest },
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: { request: { type: 'string', description: 'The JSON request' } },
            additionalProperties: binary,
            required: ['request'],
          },
        },
      },
    },
    response: {
      200: {
        description: 'The encrypted outputs',
        content: { ...json(ref('Outputs')), 'application/octet-stream': { schema: binary } },
      },
      ...errorResponses(EVALUATION),
    },
  },
  'POST /v1/keysets/:id/batch': {
    operationId: 'evaluateBatch',
    tags: ['evaluation'],
    body: {
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              program: ref('Program'),
              items: { type: 'array', minItems: 1, items: evalRequest.properties.inputs },
              format: evalRequest.properties.format,
            },
            required: ['program', 'items'],
            additionalProperties: false,
          },
        },
      },
    },
    response: {
      200: {
        description: 'One result per item, in order: outputs, or that item’s error',
        content: json({
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: { oneOf: [ref('Outputs'), { type: 'object', properties: { error: ref('Error') } }] },
            },
          },
        }),
      },
      ...errorResponses(EVALUATION),
    },
  },
};

/** Registers the shared schemas, the OpenAPI document and the UI at /docs (JSON at /docs/json). */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'hefty',
        version: VERSION,
        description:
          'Homomorphic-encryption compute service (SEAL-compatible CKKS). Clients upload evaluation keys once, then ' +
          'send encrypted operands with JSON programs; the service never sees secret keys or plaintexts. ' +
          'Authenticate with `Authorization: Bearer <API key>`.',
      },
      tags: [
        { name: 'key sets', description: 'Evaluation keys: upload, list, read, delete' },
        { name: 'evaluation', description: 'Programs over encrypted operands' },
        { name: 'operations', description: 'Health, readiness, metrics (no API key needed)' },
      ],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (schema, _base, _fragment, i) => String(schema.$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const doc = ROUTES[`${route.method} ${url}`];
      const open = route.url.startsWith('/healthz') || route.url === '/readyz' || route.url === '/metrics';
      // Documentation only: validation keeps the route's own schema (Fastify compiled it already).
      const documented = doc
        ? {
            ...schema,
            operationId: doc.operationId,
            tags: doc.tags,
            ...(doc.description ? { description: doc.description } : {}),
            ...(doc.body ? { body: doc.body } : {}),
            response: doc.response,
          }
        : schema;
      return { schema: open ? { ...documented, security: [] } : documented, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
}
