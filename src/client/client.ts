/**
 * HeftyClient: talks to a hefty service so users never hand-craft requests. Works with hefty key sets and
 * vectors, or with bare SEAL bytes from node-seal. Errors come back as HeftyError with the service's code;
 * E_OVERLOADED (503) is retried after the server's Retry-After, a bounded number of times. A service that cannot
 * be reached is E_UNAVAILABLE: refused connections (nothing was sent) are retried for every request, other
 * network failures only for requests that are safe to repeat (GET, DELETE); a request past timeoutMs is E_TIMEOUT.
 */
import { HeftyError, isHeftyErrorCode } from '../errors.ts';
import { encodeKeySet, type KeySetBundle } from '../api/bundle.ts';
import type { Program } from '../api/program.ts';

export interface HeftyClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiKey: string;
  /** Retries of 503 E_OVERLOADED responses (default 2). */
  overloadRetries?: number;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
  /** Retries of network failures where repeating is safe (default 2; 0.25 s, then doubling). */
  networkRetries?: number;
}

/** Methods that can be repeated after a failure mid-request: the service treats them as idempotent. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'DELETE']);
const NETWORK_RETRY_BASE_MS = 250;

/** fetch's failure as a HeftyError; `sent` is false when the connection was refused (no byte went out). */
function networkError(error: unknown, url: string, timeoutMs: number): { error: HeftyError; sent: boolean } {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError')
    return { error: new HeftyError('E_TIMEOUT', `no response from ${url} within ${timeoutMs} ms`), sent: true };
  const code = e?.cause?.code ?? e?.name;
  const detail = e?.cause?.message ?? e?.message ?? String(error);
  return {
    error: new HeftyError('E_UNAVAILABLE', `cannot reach ${url}: ${detail}`, { cause: error }),
    sent: code !== 'ECONNREFUSED',
  };
}

export interface KeySetInfo {
  id: string;
  name: string;
  size: number;
  digest: string;
  createdAt: string;
  expiresAt: string;
  replacedBy?: string;
  info?: Record<string, unknown>;
}

export interface KeySetPage {
  keysets: KeySetInfo[];
  /** Cursor of the next page; absent on the last page. */
  next?: string;
}

/** An operand for eval: ciphertext bytes (sent as binary), an uploaded ciphertext id, or plaintext numbers. */
export type ClientInput =
  Uint8Array | { ciphertext: string } | number | readonly number[] | readonly (readonly number[])[];

export interface EvalOptions {
  /** 'seal': single-ciphertext outputs come back as bare SEAL bytes (for node-seal). */
  format?: 'hefty' | 'seal';
  /**
   * Sent as Idempotency-Key: the service runs a request once per key, so the request may be retried after a
   * network failure (here, or through another API node of a distributed deployment) without running twice.
   */
  idempotencyKey?: string;
}

export type BatchResult = { outputs: Record<string, Uint8Array> } | { error: { code: string; message: string } };

function idempotencyHeader(options: EvalOptions): Record<string, string> {
  return options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey };
}

function fromBase64Record(record: Record<string, string>): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
}

export class HeftyClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #retries: number;
  readonly #timeoutMs: number;
  readonly #networkRetries: number;

  constructor(options: HeftyClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || typeof options.apiKey !== 'string') {
      throw new HeftyError('E_INVALID_ARGUMENT', 'HeftyClient needs { baseUrl, apiKey }');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#retries = options.overloadRetries ?? 2;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#networkRetries = options.networkRetries ?? 2;
  }

  /** fetch, with network failures as HeftyError and retried where that is safe. */
  async #fetch(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
      } catch (e) {
        const { error, sent } = networkError(e, url, this.#timeoutMs);
        const idempotent = IDEMPOTENT.has(init.method ?? 'GET') || new Headers(init.headers).has('idempotency-key');
        const safe = error.code === 'E_UNAVAILABLE' && (!sent || idempotent);
        if (!safe || attempt >= this.#networkRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, NETWORK_RETRY_BASE_MS * 2 ** attempt));
      }
    }
  }

  async #request(
    method: string,
    path: string,
    body?: RequestInit['body'],
    headers: Record<string, string> = {},
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${this.#apiKey}`, ...headers },
      });
      if (response.ok) return response;
      const retryAfter = Number(response.headers.get('retry-after') ?? '1');
      const error = await HeftyClient.#error(response);
      if (error.code !== 'E_OVERLOADED' || attempt >= this.#retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(30, Math.max(0, retryAfter)) * 1000));
    }
  }

  static async #error(response: Response): Promise<HeftyError> {
    const text = await response.text();
    try {
      const { code, message } = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (isHeftyErrorCode(code)) return new HeftyError(code, String(message));
    } catch {
      // not a hefty error body: fall through
    }
    return new HeftyError('E_INTERNAL', `HTTP ${response.status}: ${text.slice(0, 200)}`);
  }

  async #json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response =
      body === undefined
        ? await this.#request(method, path, undefined, headers)
        : await this.#request(method, path, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
    return (await response.json()) as T;
  }

  /** Uploads evaluation keys (a hefty key-set bundle or its HFKS envelope). `name` enables rotation. */
  async uploadKeySet(
    keySet: KeySetBundle | Uint8Array,
    options: { name?: string; ttlSeconds?: number } = {},
  ): Promise<KeySetInfo> {
    const bytes = keySet instanceof Uint8Array ? keySet : encodeKeySet(keySet);
    const query = new URLSearchParams();
    if (options.name !== undefined) query.set('name', options.name);
    if (options.ttlSeconds !== undefined) query.set('ttlSeconds', String(options.ttlSeconds));
    const qs = query.size > 0 ? `?${query}` : '';
    const response = await this.#request('POST', `/v1/keysets${qs}`, bytes as Uint8Array<ArrayBuffer>, {
      'content-type': 'application/octet-stream',
    });
    return (await response.json()) as KeySetInfo;
  }

  /** Uploads SEAL-format objects as separate multipart parts (what a node-seal client has at hand). */
  async uploadSealKeys(
    parts: { params: Uint8Array; publicKey?: Uint8Array; relinKeys?: Uint8Array; galoisKeys?: Uint8Array },
    options: { name?: string } = {},
  ): Promise<KeySetInfo> {
    const form = new FormData();
    for (const [name, bytes] of Object.entries(parts)) {
      if (bytes) form.append(name, new Blob([bytes as Uint8Array<ArrayBuffer>]), name);
    }
    const qs = options.name !== undefined ? `?name=${encodeURIComponent(options.name)}` : '';
    return (await (await this.#request('POST', `/v1/keysets${qs}`, form)).json()) as KeySetInfo;
  }

  /** One page of this tenant's key sets, oldest first; pass the page's `next` as `cursor` for the following one. */
  listKeySets(options: { limit?: number; cursor?: string } = {}): Promise<KeySetPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const qs = query.size > 0 ? `?${query}` : '';
    return this.#json('GET', `/v1/keysets${qs}`);
  }

  /** Every key set of this tenant, oldest first, fetched a page at a time. */
  async *keySets(options: { pageSize?: number } = {}): AsyncGenerator<KeySetInfo> {
    let cursor: string | undefined;
    do {
      const page = await this.listKeySets({ limit: options.pageSize, cursor });
      yield* page.keysets;
      cursor = page.next;
    } while (cursor !== undefined);
  }

  getKeySet(id: string): Promise<KeySetInfo> {
    return this.#json('GET', `/v1/keysets/${encodeURIComponent(id)}`);
  }

  async deleteKeySet(id: string): Promise<void> {
    await this.#request('DELETE', `/v1/keysets/${encodeURIComponent(id)}`);
  }

  /** Uploads an encrypted operand once; returns the id to use as `{ ciphertext: id }`. */
  async uploadCiphertext(keySetId: string, bytes: Uint8Array): Promise<string> {
    const response = await this.#request(
      'POST',
      `/v1/keysets/${encodeURIComponent(keySetId)}/ciphertexts`,
      bytes as Uint8Array<ArrayBuffer>,
      { 'content-type': 'application/octet-stream' },
    );
    return ((await response.json()) as { id: string }).id;
  }

  /**
   * Runs a program on the service. Ciphertext bytes travel as binary multipart parts; a single output comes
   * back as raw bytes. Returns the outputs by name.
   */
  async eval(
    keySetId: string,
    program: Program,
    inputs: Readonly<Record<string, ClientInput>>,
    options: EvalOptions = {},
  ): Promise<Record<string, Uint8Array>> {
    const json: Record<string, unknown> = {};
    const form = new FormData();
    let binary = false;
    for (const [name, value] of Object.entries(inputs)) {
      if (value instanceof Uint8Array) {
        form.append(name, new Blob([value as Uint8Array<ArrayBuffer>]), name);
        binary = true;
      } else json[name] = value;
    }
    const body = { program, inputs: json, ...(options.format ? { format: options.format } : {}) };
    const single = program.outputs.length === 1;
    const accept = {
      accept: single ? 'application/octet-stream' : 'application/json',
      ...idempotencyHeader(options),
    };
    const path = `/v1/keysets/${encodeURIComponent(keySetId)}/eval`;
    let response: Response;
    if (binary) {
      form.append('request', JSON.stringify(body));
      response = await this.#request('POST', path, form, accept);
    } else {
      response = await this.#request('POST', path, JSON.stringify(body), {
        ...accept,
        'content-type': 'application/json',
      });
    }
    if (response.headers.get('content-type')?.startsWith('application/octet-stream')) {
      const name = response.headers.get('x-hefty-output') ?? program.outputs[0];
      return { [name]: new Uint8Array(await response.arrayBuffer()) };
    }
    return fromBase64Record(((await response.json()) as { outputs: Record<string, string> }).outputs);
  }

  /** Runs one program over many input sets (ciphertexts inline as base64); per-item results or errors. */
  async batch(
    keySetId: string,
    program: Program,
    items: readonly Readonly<Record<string, ClientInput>>[],
    options: EvalOptions = {},
  ): Promise<BatchResult[]> {
    const encoded = items.map((item) =>
      Object.fromEntries(
        Object.entries(item).map(([k, v]) => [
          k,
          v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('base64') } : v,
        ]),
      ),
    );
    const { results } = await this.#json<{
      results: ({ outputs: Record<string, string> } | { error: { code: string; message: string } })[];
    }>(
      'POST',
      `/v1/keysets/${encodeURIComponent(keySetId)}/batch`,
      { program, items: encoded, ...(options.format ? { format: options.format } : {}) },
      idempotencyHeader(options),
    );
    return results.map((r) => ('outputs' in r ? { outputs: fromBase64Record(r.outputs) } : r));
  }

  async health(): Promise<boolean> {
    const response = await this.#fetch(`${this.baseUrl}/healthz`, { method: 'GET' });
    return response.ok;
  }
}
