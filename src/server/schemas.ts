/** JSON schemas for the routes: validation and the OpenAPI document (/docs) come from the same objects. */
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './keyset-pages.ts';

export const errorSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

export const keySetParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^ks_[0-9a-f]{32}$' } },
  required: ['id'],
} as const;

export const keySetQuery = {
  type: 'object',
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'Rotation name: a new upload replaces the older key set with this name',
    },
    ttlSeconds: { type: 'integer', minimum: 1, description: 'Lifetime; capped by the server' },
  },
  additionalProperties: false,
} as const;

export const keySetListQuery = {
  type: 'object',
  properties: {
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: DEFAULT_PAGE_SIZE,
      description: `Key sets per page (at most ${MAX_PAGE_SIZE})`,
    },
    cursor: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{1,128}$',
      description: "The previous page's `next`; omit for the first page",
    },
  },
  additionalProperties: false,
} as const;

export const keySetRecordSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    size: { type: 'integer' },
    digest: { type: 'string' },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    replacedBy: { type: 'string' },
    info: { type: 'object', additionalProperties: true },
  },
} as const;

export const keySetListSchema = {
  type: 'object',
  properties: {
    keysets: { type: 'array', items: keySetRecordSchema },
    next: { type: 'string', description: 'Cursor of the next page; absent on the last page' },
  },
  required: ['keysets'],
} as const;

/** An encrypted operand: an uploaded ciphertext id or inline base64 bytes (hefty vector or SEAL ciphertext). */
const ciphertextOperand = {
  type: 'object',
  properties: {
    ciphertext: { type: 'string', pattern: '^ct_[0-9a-f]{40}$' },
    bytes: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$' },
  },
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
} as const;

const numbers = { type: 'array', items: { type: 'number' } } as const;

export const programInputs = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: {
    anyOf: [ciphertextOperand, { type: 'number' }, numbers, { type: 'array', items: numbers }],
  },
} as const;

const format = {
  type: 'string',
  enum: ['hefty', 'seal'],
  description: "'seal' returns one-ciphertext results as bare SEAL bytes (for node-seal clients)",
} as const;

/**
 * Headers of the eval and batch routes: the client's Idempotency-Key (src/server/run-options.ts), so that a retry
 * with the same key through any API node never runs the work twice.
 */
export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,128}$',
      description:
        'Optional, 1 to 128 printable ASCII characters. In the distributed mode (Redis) a retry with the same key ' +
        'and request, through any API node, joins the work already done or under way instead of running it ' +
        'again, and the same key with a different request is refused (400); the single-process mode accepts the ' +
        'key and runs every request',
    },
  },
} as const;

export const evalBody = {
  type: 'object',
  properties: {
    program: { type: 'object', description: 'A hefty program (inputs, steps, outputs); see src/api/program.ts' },
    inputs: programInputs,
    format,
  },
  required: ['program', 'inputs'],
  additionalProperties: false,
} as const;

export const batchBody = {
  type: 'object',
  properties: {
    program: { type: 'object' },
    items: { type: 'array', minItems: 1, items: programInputs },
    format,
  },
  required: ['program', 'items'],
  additionalProperties: false,
} as const;

export const outputsSchema = {
  type: 'object',
  properties: {
    outputs: { type: 'object', additionalProperties: { type: 'string', description: 'base64 ciphertext bytes' } },
  },
} as const;
