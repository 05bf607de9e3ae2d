/**
 * Key sets: upload (HFKS envelope as application/octet-stream, or multipart with one SEAL object per part),
 * list, read, delete. Uploads are parsed and checked (parameters ≥ 128-bit, keys load) before they are stored.
 */
import type { FastifyRequest } from 'fastify';
import { HeftyError } from '../../errors.ts';
import { decodeKeySet, encodeKeySet, type KeySetBundle } from '../../api/bundle.ts';
import type { KeySetRecord } from '../keyset-store.ts';
import { readParts } from '../multipart.ts';
import { pageOf } from '../keyset-pages.ts';
import {
  errorSchema,
  keySetListQuery,
  keySetListSchema,
  keySetParams,
  keySetQuery,
  keySetRecordSchema,
} from '../schemas.ts';
import { cacheScope, type ServicePlugin, type Services } from '../services.ts';

const PART_NAMES = ['params', 'publicKey', 'relinKeys', 'galoisKeys', 'secretKey'] as const;
type PartName = (typeof PART_NAMES)[number];

export function presentRecord(record: KeySetRecord): Record<string, unknown> {
  return {
    id: record.id,
    name: record.name,
    size: record.size,
    digest: record.digest,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    ...(record.replacedBy ? { replacedBy: record.replacedBy } : {}),
    ...(record.info ? { info: record.info } : {}),
  };
}

/** Reads a multipart upload into a bundle; readParts counts bytes against the key-set limit as parts stream in. */
async function readMultipart(request: FastifyRequest, limit: number): Promise<KeySetBundle | Uint8Array> {
  const sections: Partial<Record<PartName, Uint8Array>> = {};
  let envelope: Uint8Array | undefined;
  for await (const part of readParts(request, { totalBytes: limit, parts: PART_NAMES.length + 1 })) {
    if (part.kind !== 'file') continue;
    if (part.name === 'keyset') envelope = part.bytes;
    else if ((PART_NAMES as readonly string[]).includes(part.name)) {
      if (sections[part.name as PartName]) throw new HeftyError('E_INVALID_ARGUMENT', `duplicate part ${part.name}`);
      sections[part.name as PartName] = part.bytes;
    } else throw new HeftyError('E_INVALID_ARGUMENT', `unknown part "${part.name}"`);
  }
  if (envelope) return envelope;
  if (!sections.params) throw new HeftyError('E_INVALID_ARGUMENT', 'multipart key set needs a "params" part');
  return sections as KeySetBundle;
}

async function uploadedBundle(request: FastifyRequest, services: Services): Promise<KeySetBundle> {
  const allowSecretKey = services.options.allowSecretKeys;
  let bundle: KeySetBundle;
  if (request.isMultipart()) {
    const read = await readMultipart(request, services.options.maxKeySetBytes);
    bundle = read instanceof Uint8Array ? decodeKeySet(read, { allowSecretKey }) : read;
  } else {
    if (!(request.body instanceof Uint8Array)) {
      throw new HeftyError('E_UNSUPPORTED_MEDIA_TYPE', 'send the key set as application/octet-stream or multipart');
    }
    bundle = decodeKeySet(request.body, { allowSecretKey });
  }
  if (bundle.secretKey && !allowSecretKey) {
    throw new HeftyError('E_SECRET_KEY_REFUSED', 'this service does not accept secret keys');
  }
  // Even where secret keys are allowed in uploads, they are never stored.
  return {
    params: bundle.params,
    ...(bundle.publicKey ? { publicKey: bundle.publicKey } : {}),
    ...(bundle.relinKeys ? { relinKeys: bundle.relinKeys } : {}),
    ...(bundle.galoisKeys ? { galoisKeys: bundle.galoisKeys } : {}),
  };
}

export const keySetRoutes: ServicePlugin = async (app, { services }) => {
  const { store, executor, cache, options } = services;

  app.post(
    '/v1/keysets',
    {
      bodyLimit: options.maxKeySetBytes,
      schema: {
        summary: 'Upload evaluation keys (SEAL-format parameters, public/relin/galois keys; never a secret key)',
        consumes: ['application/octet-stream', 'multipart/form-data'],
        querystring: keySetQuery,
        response: { 201: keySetRecordSchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const query = request.query as { name?: string; ttlSeconds?: number };
      const bundle = await uploadedBundle(request, services);
      const bytes = encodeKeySet(bundle);
      // Quota is taken before the (slow) check, so concurrent uploads count against each other.
      const reservation = await store.reserve(request.tenant, bytes);
      try {
        const info = await executor.inspect(bytes);
        const record = await store.put(request.tenant, bytes, {
          name: query.name,
          ttlMs: query.ttlSeconds === undefined ? undefined : query.ttlSeconds * 1000,
          info: { ...info },
          reservation,
        });
        return reply.status(201).send(presentRecord(record));
      } finally {
        await reservation.release();
      }
    },
  );

  app.get(
    '/v1/keysets',
    {
      schema: {
        summary: "List this tenant's key sets, oldest first, a page at a time",
        querystring: keySetListQuery,
        response: { 200: keySetListSchema, '4xx': errorSchema },
      },
    },
    async (request) => {
      const { records, next } = pageOf(
        await store.list(request.tenant),
        request.query as { limit: number; cursor?: string },
      );
      return { keysets: records.map(presentRecord), ...(next ? { next } : {}) };
    },
  );

  app.get(
    '/v1/keysets/:id',
    { schema: { params: keySetParams, response: { 200: keySetRecordSchema, '4xx': errorSchema } } },
    async (request) => presentRecord(await store.get(request.tenant, (request.params as { id: string }).id)),
  );

  app.delete(
    '/v1/keysets/:id',
    { schema: { params: keySetParams, response: { '4xx': errorSchema } } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      await store.delete(request.tenant, id);
      executor.forget(`${request.tenant}/${id}`);
      await cache.dropScope(cacheScope(request.tenant, id));
      return reply.status(204).send();
    },
  );
};
