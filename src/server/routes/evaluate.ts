/**
 * Ciphertext uploads and evaluation. Encrypted operands arrive as uploaded ciphertext ids, inline base64 (JSON),
 * or binary parts (multipart: a "request" JSON field plus one file part per encrypted input). Results come back
 * as base64 JSON, or as raw bytes when the client accepts application/octet-stream and there is one output.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeftyError } from '../../errors.ts';
import type { CacheEntry } from '../../pool/cache.ts';
import { PROGRAM_LIMITS, validateProgram, type Program } from '../../api/program.ts';
import { decodeVector } from '../../api/vector-wire.ts';
import type { Scheme } from '../../backend/types.ts';
import type { KeySetRef, OutputFormat, WireInput } from '../executor.ts';
import type { KeySetRecord } from '../keystore.ts';
import { readParts } from '../multipart.ts';
import { batchBody, errorSchema, evalBody, keySetParams, outputsSchema } from '../schemas.ts';
import { cacheScope, type ServicePlugin, type Services } from '../services.ts';

type JsonInput = { ciphertext: string } | { bytes: string } | number | number[] | number[][];
interface EvalRequest {
  program: unknown;
  inputs: Record<string, JsonInput>;
  format?: OutputFormat;
}

function cachedCiphertext(services: Services, tenant: string, keySetId: string, id: string): CacheEntry {
  const entry = services.cache.get(id, cacheScope(tenant, keySetId));
  if (!entry) throw new HeftyError('E_NOT_FOUND', `no ciphertext ${id} for this key set (expired or never uploaded)`);
  return entry;
}

function keySetRef(services: Services, tenant: string, record: KeySetRecord): KeySetRef {
  return { key: `${tenant}/${record.id}`, read: () => services.store.read(tenant, record.id) };
}

/** Cheap structural check of ciphertext bytes against the key set's parameters; SEAL-level checks come at load. */
function checkCiphertext(record: KeySetRecord, bytes: Uint8Array): void {
  const scheme = (record.info?.scheme ?? 'ckks') as Scheme;
  const slots = Number(record.info?.slotCount ?? 1);
  decodeVector(bytes, scheme, slots);
}

function resolveInputs(
  services: Services,
  tenant: string,
  record: KeySetRecord,
  inputs: Record<string, JsonInput>,
  binary: Map<string, Uint8Array> = new Map(),
): Record<string, WireInput> {
  const resolved: Record<string, WireInput> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if ('ciphertext' in value) {
        // Cache entries go to the executor as they are: pool workers keep them loaded by content hash.
        const entry = cachedCiphertext(services, tenant, record.id, value.ciphertext);
        checkCiphertext(record, entry.bytes);
        resolved[name] = entry;
      } else {
        const bytes = new Uint8Array(Buffer.from(value.bytes, 'base64'));
        checkCiphertext(record, bytes);
        resolved[name] = bytes;
      }
    } else resolved[name] = value;
  }
  for (const [name, bytes] of binary) {
    if (Object.hasOwn(resolved, name)) throw new HeftyError('E_INVALID_ARGUMENT', `input "${name}" given twice`);
    checkCiphertext(record, bytes);
    resolved[name] = bytes;
  }
  return resolved;
}

/** Multipart eval: a "request" field with the JSON body and binary parts named after encrypted inputs. */
async function readMultipartEval(
  request: FastifyRequest,
  limit: number,
): Promise<{ body: EvalRequest; binary: Map<string, Uint8Array> }> {
  const binary = new Map<string, Uint8Array>();
  let body: EvalRequest | undefined;
  for await (const part of readParts(request, { totalBytes: limit, parts: PROGRAM_LIMITS.maxInputs + 1 })) {
    if (part.kind === 'file') {
      if (binary.has(part.name)) throw new HeftyError('E_INVALID_ARGUMENT', `duplicate part ${part.name}`);
      binary.set(part.name, part.bytes);
    } else if (part.name === 'request') {
      try {
        body = JSON.parse(part.value) as EvalRequest;
      } catch {
        throw new HeftyError('E_INVALID_ARGUMENT', 'the "request" part is not valid JSON');
      }
    }
  }
  if (!body || typeof body !== 'object' || typeof body.inputs !== 'object' || body.inputs === null) {
    throw new HeftyError('E_INVALID_ARGUMENT', 'multipart eval needs a "request" JSON part with program and inputs');
  }
  return { body, binary };
}

function sendOutputs(request: FastifyRequest, reply: FastifyReply, outputs: Record<string, Uint8Array>): unknown {
  const names = Object.keys(outputs);
  const accept = request.headers.accept ?? '';
  if (names.length === 1 && accept.includes('application/octet-stream') && !accept.includes('application/json')) {
    return reply
      .type('application/octet-stream')
      .header('x-hefty-output', names[0])
      .send(Buffer.from(outputs[names[0]]));
  }
  return { outputs: Object.fromEntries(names.map((n) => [n, Buffer.from(outputs[n]).toString('base64')])) };
}

export const evaluateRoutes: ServicePlugin = async (app, { services }) => {
  const { store, executor, cache, options, metrics } = services;
  const binaryInputs = new WeakMap<object, Map<string, Uint8Array>>();
  // Shed before the body is read or parsed: under overload a refusal must cost almost nothing.
  const shedWhenFull = async (): Promise<void> => {
    if (executor.stats().queued >= options.maxQueue) {
      throw new HeftyError('E_OVERLOADED', `the evaluation queue is full (${options.maxQueue})`);
    }
  };

  app.post(
    '/v1/keysets/:id/ciphertexts',
    {
      bodyLimit: options.maxCiphertextBytes,
      schema: {
        summary: 'Upload an encrypted operand (hefty vector or SEAL ciphertext bytes); returns its id',
        consumes: ['application/octet-stream'],
        params: keySetParams,
        response: { '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const record = store.get(request.tenant, (request.params as { id: string }).id);
      if (!(request.body instanceof Uint8Array)) {
        throw new HeftyError('E_UNSUPPORTED_MEDIA_TYPE', 'send ciphertext bytes as application/octet-stream');
      }
      const bytes = new Uint8Array(request.body);
      checkCiphertext(record, bytes);
      const id = cache.put(bytes, { scope: cacheScope(request.tenant, record.id) });
      return reply.status(201).send({ id, size: bytes.length, ttlSeconds: Math.floor(options.cacheTtlMs / 1000) });
    },
  );

  app.post(
    '/v1/keysets/:id/eval',
    {
      bodyLimit: options.maxEvalBodyBytes,
      onRequest: shedWhenFull,
      schema: {
        summary: 'Run a program over encrypted operands; returns the encrypted outputs',
        consumes: ['application/json', 'multipart/form-data'],
        produces: ['application/json', 'application/octet-stream'],
        params: keySetParams,
        body: evalBody,
        response: { 200: outputsSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
      // Multipart bodies are read before validation, so the JSON part is checked by the same schema.
      preValidation: async (request) => {
        if (!request.isMultipart()) return;
        const { body, binary } = await readMultipartEval(request, options.maxEvalBodyBytes);
        request.body = body;
        binaryInputs.set(request, binary);
      },
    },
    async (request, reply) => {
      const record = store.get(request.tenant, (request.params as { id: string }).id);
      const body = request.body as EvalRequest;
      const binary = binaryInputs.get(request);
      const program: Program = validateProgram(body.program);
      const inputs = resolveInputs(services, request.tenant, record, body.inputs, binary);
      const stop = metrics.evalDuration.startTimer({ kind: 'eval' });
      const outputs = await executor.run(
        keySetRef(services, request.tenant, record),
        program,
        inputs,
        body.format ?? 'hefty',
      );
      stop();
      return sendOutputs(request, reply, outputs);
    },
  );

  app.post(
    '/v1/keysets/:id/batch',
    {
      bodyLimit: options.maxEvalBodyBytes,
      onRequest: shedWhenFull,
      schema: {
        summary: 'Run one program over many input sets; per-item results or errors, in order',
        params: keySetParams,
        body: batchBody,
        response: { '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request) => {
      const record = store.get(request.tenant, (request.params as { id: string }).id);
      const body = request.body as { program: unknown; items: Record<string, JsonInput>[]; format?: OutputFormat };
      if (body.items.length > options.maxBatchItems) {
        throw new HeftyError('E_INVALID_ARGUMENT', `at most ${options.maxBatchItems} items per batch`);
      }
      const program = validateProgram(body.program);
      const items = body.items.map((item) => resolveInputs(services, request.tenant, record, item));
      const stop = metrics.evalDuration.startTimer({ kind: 'batch' });
      const results = await executor.runBatch(
        keySetRef(services, request.tenant, record),
        program,
        items,
        body.format ?? 'hefty',
      );
      stop();
      return {
        results: results.map((r) =>
          'outputs' in r
            ? {
                outputs: Object.fromEntries(
                  Object.entries(r.outputs).map(([n, b]) => [n, Buffer.from(b).toString('base64')]),
                ),
              }
            : r,
        ),
      };
    },
  );
};
