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
import { estimateCost, type KeySetShape } from '../cost.ts';
import type { ItemResult, KeySetRef, OutputFormat, WireInput } from '../executor.ts';
import type { KeySetRecord } from '../keyset-store.ts';
import { readParts } from '../multipart.ts';
import { runOptions } from '../run-options.ts';
import { batchBody, errorSchema, evalBody, idempotencyHeaders, keySetParams, outputsSchema } from '../schemas.ts';
import { cacheScope, type ServicePlugin, type Services } from '../services.ts';
import { CostBudget, type Admission } from '../tenant-limits.ts';

type JsonInput = { ciphertext: string } | { bytes: string } | number | number[] | number[][];
interface EvalRequest {
  program: unknown;
  inputs: Record<string, JsonInput>;
  format?: OutputFormat;
}

async function cachedCiphertext(services: Services, tenant: string, keySetId: string, id: string): Promise<CacheEntry> {
  const entry = await services.cache.get(id, cacheScope(tenant, keySetId));
  if (!entry) throw new HeftyError('E_NOT_FOUND', `no ciphertext ${id} for this key set (expired or never uploaded)`);
  return entry;
}

function keySetRef(services: Services, tenant: string, record: KeySetRecord): KeySetRef {
  return { key: `${tenant}/${record.id}`, tenant, id: record.id, read: () => services.store.read(tenant, record.id) };
}

/**
 * Cheap structural check of ciphertext bytes against the key set's parameters (SEAL-level checks come at load);
 * returns the number of ciphertext chunks, for the cost estimate.
 */
function checkCiphertext(record: KeySetRecord, bytes: Uint8Array): number {
  const scheme = schemeOf(record) ?? 'ckks';
  const slots = Number(record.info?.slotCount ?? 1);
  return decodeVector(bytes, scheme, slots).chunks.length;
}

/** The key set's scheme as its record says (records from before `info` existed: unknown). */
function schemeOf(record: KeySetRecord): Scheme | undefined {
  const scheme = record.info?.scheme;
  return scheme === 'ckks' || scheme === 'bfv' || scheme === 'bgv' ? scheme : undefined;
}

/** The key set's size for cost estimates; records stored before `info` existed get a large default. */
function keySetShape(record: KeySetRecord): KeySetShape {
  const info = record.info ?? {};
  const bits = Array.isArray(info.coeffModulusBits) ? info.coeffModulusBits.length : 0;
  return {
    polyModulusDegree: Number(info.polyModulusDegree ?? 16384),
    slotCount: Number(info.slotCount ?? 8192),
    primes: bits > 0 ? bits : 8,
  };
}

interface ResolvedInputs {
  inputs: Record<string, WireInput>;
  /** Most ciphertext chunks of any encrypted input. */
  chunks: number;
}

async function resolveInputs(
  services: Services,
  tenant: string,
  record: KeySetRecord,
  inputs: Record<string, JsonInput>,
  binary: Map<string, Uint8Array> = new Map(),
): Promise<ResolvedInputs> {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new HeftyError('E_INVALID_ARGUMENT', 'inputs must be an object of name → value');
  }
  const resolved: Record<string, WireInput> = {};
  let chunks = 1;
  for (const [name, value] of Object.entries(inputs)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // Own string properties only (the schema's removeAdditional can leave an empty object behind).
      const operand = value as Record<string, unknown>;
      if (Object.hasOwn(operand, 'ciphertext') && typeof operand.ciphertext === 'string') {
        // An executor whose compute nodes read uploads from the shared cache gets where the upload is, not its bytes.
        const stored = services.executor.readsStoredUploads
          ? await services.cache.locate?.(operand.ciphertext, cacheScope(tenant, record.id))
          : undefined;
        if (stored) {
          chunks = Math.max(chunks, stored.chunks);
          resolved[name] = stored;
          continue;
        }
        // Cache entries go to the executor as they are: pool workers keep them loaded by content hash.
        const entry = await cachedCiphertext(services, tenant, record.id, operand.ciphertext);
        chunks = Math.max(chunks, checkCiphertext(record, entry.bytes));
        resolved[name] = entry;
      } else if (Object.hasOwn(operand, 'bytes') && typeof operand.bytes === 'string') {
        const bytes = new Uint8Array(Buffer.from(operand.bytes, 'base64'));
        chunks = Math.max(chunks, checkCiphertext(record, bytes));
        resolved[name] = bytes;
      } else {
        throw new HeftyError('E_INVALID_ARGUMENT', `input "${name}" must be { ciphertext: id } or { bytes: base64 }`);
      }
    } else resolved[name] = value;
  }
  for (const [name, bytes] of binary) {
    if (Object.hasOwn(resolved, name)) throw new HeftyError('E_INVALID_ARGUMENT', `input "${name}" given twice`);
    chunks = Math.max(chunks, checkCiphertext(record, bytes));
    resolved[name] = bytes;
  }
  return { inputs: resolved, chunks };
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
  const { store, executor, cache, options, metrics, gate } = services;
  const binaryInputs = new WeakMap<object, Map<string, Uint8Array>>();
  const budget = new CostBudget(options.tenantCostPerMinute);
  const admissions = new WeakMap<object, Admission>();
  // Admitted before the body is read or parsed: a refusal costs almost nothing, and a tenant over its share is
  // refused alone. The admission is held until the response is done (or the connection dies).
  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const admission = gate.admit(request.tenant);
    admissions.set(request, admission);
    reply.raw.once('close', () => admission.release());
  };
  app.addHook('onResponse', async (request) => admissions.get(request)?.release());

  /** Output and cost limits, then the tenant's budget: all before anything is queued. */
  const checkCost = (tenant: string, record: KeySetRecord, program: Program, chunks: number, items = 1): void => {
    if (program.outputs.length > options.maxOutputs) {
      throw new HeftyError('E_INVALID_ARGUMENT', `at most ${options.maxOutputs} outputs per program`);
    }
    const estimate = estimateCost(program, keySetShape(record), chunks);
    if (estimate.outputBytes * items > options.maxOutputBytes) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `the outputs could reach ${estimate.outputBytes * items} bytes (limit ${options.maxOutputBytes})`,
      );
    }
    const units = estimate.units * items;
    if (units > options.maxRequestCost) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `the request is estimated at ${units} cost units (${estimate.keySwitches} key switches per item; limit ${options.maxRequestCost})`,
      );
    }
    if (units > options.tenantCostPerMinute) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `the request is estimated at ${units} cost units, more than the tenant's budget of ${options.tenantCostPerMinute} per minute`,
      );
    }
    budget.charge(tenant, units);
  };

  /** Waits for the request's fair turn, runs `work`, and frees the slot for the next tenant. */
  const inTurn = async <T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> => {
    const admission = admissions.get(request);
    if (!admission) throw new HeftyError('E_INTERNAL', 'evaluation without admission');
    try {
      await admission.turn();
      return await work();
    } finally {
      admission.release();
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
      const record = await store.get(request.tenant, (request.params as { id: string }).id);
      if (!(request.body instanceof Uint8Array)) {
        throw new HeftyError('E_UNSUPPORTED_MEDIA_TYPE', 'send ciphertext bytes as application/octet-stream');
      }
      const bytes = new Uint8Array(request.body);
      const chunks = checkCiphertext(record, bytes);
      const id = await cache.put(bytes, { scope: cacheScope(request.tenant, record.id), chunks });
      return reply.status(201).send({ id, size: bytes.length, ttlSeconds: Math.floor(options.cacheTtlMs / 1000) });
    },
  );

  app.post(
    '/v1/keysets/:id/eval',
    {
      bodyLimit: options.maxEvalBodyBytes,
      onRequest: admit,
      schema: {
        summary: 'Run a program over encrypted operands; returns the encrypted outputs',
        consumes: ['application/json', 'multipart/form-data'],
        produces: ['application/json', 'application/octet-stream'],
        params: keySetParams,
        headers: idempotencyHeaders,
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
      const record = await store.get(request.tenant, (request.params as { id: string }).id);
      const body = request.body as EvalRequest;
      const binary = binaryInputs.get(request);
      // Checked against the key set's scheme: an op it lacks is one 400, before any input is read.
      const program: Program = validateProgram(body.program, schemeOf(record));
      const { inputs, chunks } = await resolveInputs(services, request.tenant, record, body.inputs, binary);
      checkCost(request.tenant, record, program, chunks);
      const perRequest = runOptions(request, reply);
      const outputs = await inTurn(request, async () => {
        const stop = metrics.evalDuration.startTimer({ kind: 'eval' });
        const result = await executor.run(
          keySetRef(services, request.tenant, record),
          program,
          inputs,
          body.format ?? 'hefty',
          perRequest,
        );
        stop();
        return result;
      });
      return sendOutputs(request, reply, outputs);
    },
  );

  app.post(
    '/v1/keysets/:id/batch',
    {
      bodyLimit: options.maxEvalBodyBytes,
      onRequest: admit,
      schema: {
        summary: 'Run one program over many input sets; per-item results or errors, in order',
        params: keySetParams,
        headers: idempotencyHeaders,
        body: batchBody,
        response: { '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request, reply) => {
      const record = await store.get(request.tenant, (request.params as { id: string }).id);
      const body = request.body as { program: unknown; items: Record<string, JsonInput>[]; format?: OutputFormat };
      if (body.items.length > options.maxBatchItems) {
        throw new HeftyError('E_INVALID_ARGUMENT', `at most ${options.maxBatchItems} items per batch`);
      }
      const program = validateProgram(body.program, schemeOf(record));
      // A bad item (unknown ciphertext id, malformed bytes) fails alone; the others still run.
      const results: ItemResult[] = new Array(body.items.length);
      const runnable: { index: number; inputs: Record<string, WireInput> }[] = [];
      let chunks = 1;
      // Looked up together: with a shared (Redis) cache that is one round trip's wait, not one per item.
      const lookups = await Promise.allSettled(
        body.items.map((item) => resolveInputs(services, request.tenant, record, item)),
      );
      for (const [index, lookup] of lookups.entries()) {
        if (lookup.status === 'fulfilled') {
          chunks = Math.max(chunks, lookup.value.chunks);
          runnable.push({ index, inputs: lookup.value.inputs });
          continue;
        }
        const e: unknown = lookup.reason;
        // Redis unavailable fails the whole request (503), not one item.
        if (!(e instanceof HeftyError) || e.code === 'E_UNAVAILABLE') throw e;
        results[index] = { error: e.toJSON() };
      }
      if (runnable.length > 0) {
        checkCost(request.tenant, record, program, chunks, runnable.length);
        const perRequest = runOptions(request, reply);
        const ran = await inTurn(request, async () => {
          const stop = metrics.evalDuration.startTimer({ kind: 'batch' });
          const done = await executor.runBatch(
            keySetRef(services, request.tenant, record),
            program,
            runnable.map((r) => r.inputs),
            body.format ?? 'hefty',
            perRequest,
          );
          stop();
          return done;
        });
        runnable.forEach((r, i) => (results[r.index] = ran[i]));
      }
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
