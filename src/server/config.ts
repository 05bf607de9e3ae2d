/**
 * Service configuration: one options object, validated, with HEFTY_* environment overrides. Every limit a
 * hostile client could push against has an explicit bound here.
 */
import { HeftyError } from '../errors.ts';
import type { BackendChoice } from '../backend/load.ts';

export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  backend: BackendChoice;
  /** API key → tenant. Empty means "dev mode": a random key is generated, and only loopback binds are allowed. */
  apiKeys: Record<string, string>;
  /** Largest key-set upload (envelope or multipart total); also the global body limit. */
  maxKeySetBytes: number;
  /** Largest ciphertext upload and largest eval/batch body. */
  maxCiphertextBytes: number;
  maxEvalBodyBytes: number;
  maxBatchItems: number;
  /** Stored key-set bytes allowed per tenant. */
  tenantQuotaBytes: number;
  /** Stored key sets (records, rotated ones included) allowed per tenant. */
  tenantMaxKeySets: number;
  /** Uploaded-ciphertext cache bytes one tenant may hold; its uploads past this evict only its own entries. */
  tenantCacheBytes: number;
  /** Evaluations one tenant may have in flight (reading, queued or running); its excess gets 429. */
  tenantMaxInFlight: number;
  /** Outputs one program may name, and the estimated bytes of one response's outputs. */
  maxOutputs: number;
  maxOutputBytes: number;
  /** Largest estimated cost of one request, and the cost a tenant may spend per minute (src/server/cost.ts). */
  maxRequestCost: number;
  tenantCostPerMinute: number;
  /** A whole request (headers and body) must arrive within this; then 408 and the connection is closed. */
  requestTimeoutMs: number;
  /** Headers must arrive within this. */
  headersTimeoutMs: number;
  /** A socket idle (no bytes either way) this long is closed. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Failed authentications allowed per client address per minute before 429. */
  authFailuresPerMinute: number;
  /** How long a replaced (rotated) key set stays readable. */
  rotationGraceMs: number;
  /** Default and largest key-set lifetime. */
  defaultKeySetTtlMs: number;
  maxKeySetTtlMs: number;
  /** Uploaded-ciphertext cache: bytes and TTL. */
  cacheBytes: number;
  cacheTtlMs: number;
  /** Loaded (deserialized) key sets kept hot in memory. */
  maxLoadedKeySets: number;
  /** Evaluations queued beyond the running ones before E_OVERLOADED. */
  maxQueue: number;
  /** Where evaluations run: 'pool' (worker threads, src/pool) or 'inline' (one at a time on the event loop). */
  executor: 'pool' | 'inline';
  /** Pool worker threads; 0 = one per core. */
  workers: number;
  /** Seconds sent in Retry-After with 503. */
  retryAfterSeconds: number;
  jobTimeoutMs: number;
  rateLimitPerMinute: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Accept key sets that contain a secret key (never in production). */
  allowSecretKeys: boolean;
  /**
   * redis:// or rediss:// URL of the shared state (key store, uploaded ciphertexts) of a distributed deployment;
   * '' (the default) keeps everything in this process and dataDir.
   */
  redisUrl: string;
  /** Prefix of every Redis key, so deployments can share one server. */
  redisPrefix: string;
}

export const DEFAULT_OPTIONS: ServerOptions = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  backend: 'auto',
  apiKeys: {},
  // Holds the largest key set the planner plans by default (he/planner.ts KEY_BUDGET_BYTES, seeded+zstd).
  maxKeySetBytes: 256 << 20,
  maxCiphertextBytes: 16 << 20,
  maxEvalBodyBytes: 32 << 20,
  maxBatchItems: 256,
  tenantQuotaBytes: 1 << 30,
  tenantMaxKeySets: 256,
  tenantCacheBytes: 128 << 20,
  tenantMaxInFlight: 16,
  maxOutputs: 32,
  maxOutputBytes: 64 << 20,
  maxRequestCost: 200_000,
  tenantCostPerMinute: 1_000_000,
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 10_000,
  connectionTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  authFailuresPerMinute: 30,
  rotationGraceMs: 24 * 3600_000,
  defaultKeySetTtlMs: 30 * 24 * 3600_000,
  maxKeySetTtlMs: 365 * 24 * 3600_000,
  cacheBytes: 512 << 20,
  cacheTtlMs: 3600_000,
  maxLoadedKeySets: 8,
  maxQueue: 64,
  executor: 'pool',
  workers: 0,
  retryAfterSeconds: 1,
  jobTimeoutMs: 60_000,
  rateLimitPerMinute: 6000,
  logLevel: 'info',
  allowSecretKeys: false,
  redisUrl: '',
  redisPrefix: 'hefty:',
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** HEFTY_API_KEYS="key1:tenantA,key2:tenantB" (a key without ":tenant" maps to tenant "default"). */
export function parseApiKeys(text: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf(':');
    const [key, tenant] = at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : [entry, 'default'];
    keys[key] = tenant;
  }
  return keys;
}

function envOverrides(env: NodeJS.ProcessEnv): Partial<ServerOptions> {
  const out: Record<string, unknown> = {};
  const num = (name: string, key: keyof ServerOptions): void => {
    if (env[name] !== undefined && env[name] !== '') out[key] = Number(env[name]);
  };
  if (env.HEFTY_HOST) out.host = env.HEFTY_HOST;
  num('HEFTY_PORT', 'port');
  if (env.HEFTY_DATA_DIR) out.dataDir = env.HEFTY_DATA_DIR;
  if (env.HEFTY_BACKEND) out.backend = env.HEFTY_BACKEND;
  if (env.HEFTY_API_KEYS) out.apiKeys = parseApiKeys(env.HEFTY_API_KEYS);
  num('HEFTY_MAX_KEYSET_BYTES', 'maxKeySetBytes');
  num('HEFTY_TENANT_QUOTA_BYTES', 'tenantQuotaBytes');
  num('HEFTY_TENANT_MAX_KEYSETS', 'tenantMaxKeySets');
  num('HEFTY_TENANT_CACHE_BYTES', 'tenantCacheBytes');
  num('HEFTY_TENANT_MAX_IN_FLIGHT', 'tenantMaxInFlight');
  num('HEFTY_MAX_OUTPUTS', 'maxOutputs');
  num('HEFTY_MAX_OUTPUT_BYTES', 'maxOutputBytes');
  num('HEFTY_MAX_REQUEST_COST', 'maxRequestCost');
  num('HEFTY_TENANT_COST_PER_MINUTE', 'tenantCostPerMinute');
  num('HEFTY_REQUEST_TIMEOUT_MS', 'requestTimeoutMs');
  num('HEFTY_HEADERS_TIMEOUT_MS', 'headersTimeoutMs');
  num('HEFTY_CONNECTION_TIMEOUT_MS', 'connectionTimeoutMs');
  num('HEFTY_KEEP_ALIVE_TIMEOUT_MS', 'keepAliveTimeoutMs');
  num('HEFTY_AUTH_FAILURES_PER_MINUTE', 'authFailuresPerMinute');
  num('HEFTY_CACHE_BYTES', 'cacheBytes');
  num('HEFTY_MAX_QUEUE', 'maxQueue');
  if (env.HEFTY_EXECUTOR) out.executor = env.HEFTY_EXECUTOR;
  num('HEFTY_WORKERS', 'workers');
  num('HEFTY_RATE_LIMIT', 'rateLimitPerMinute');
  num('HEFTY_JOB_TIMEOUT_MS', 'jobTimeoutMs');
  if (env.HEFTY_LOG_LEVEL) out.logLevel = env.HEFTY_LOG_LEVEL;
  if (env.HEFTY_REDIS_URL !== undefined) out.redisUrl = env.HEFTY_REDIS_URL;
  if (env.HEFTY_REDIS_PREFIX) out.redisPrefix = env.HEFTY_REDIS_PREFIX;
  return out as Partial<ServerOptions>;
}

function invalid(message: string): never {
  throw new HeftyError('E_INVALID_ARGUMENT', `server options: ${message}`);
}

/** Merges defaults ← options ← environment (env wins, as for any deployed service) and validates the result. */
export function resolveOptions(
  options: Partial<ServerOptions> = {},
  env: NodeJS.ProcessEnv = process.env,
): ServerOptions {
  if (options === null || typeof options !== 'object') invalid('expected an object');
  for (const key of Object.keys(options)) if (!(key in DEFAULT_OPTIONS)) invalid(`unknown option "${key}"`);
  const merged = { ...DEFAULT_OPTIONS, ...options, ...envOverrides(env) } as ServerOptions;
  if (typeof merged.host !== 'string' || merged.host === '') invalid('host must be a non-empty string');
  if (!Number.isInteger(merged.port) || merged.port < 0 || merged.port > 65535) invalid('port must be 0..65535');
  if (typeof merged.dataDir !== 'string' || merged.dataDir === '') invalid('dataDir must be a path');
  if (!['native', 'wasm', 'auto'].includes(merged.backend)) invalid('backend must be native, wasm or auto');
  if (!LOG_LEVELS.includes(merged.logLevel)) invalid(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  if (typeof merged.apiKeys !== 'object' || merged.apiKeys === null) invalid('apiKeys must map key → tenant');
  for (const [key, tenant] of Object.entries(merged.apiKeys)) {
    if (key.length < 16) invalid('API keys must be at least 16 characters');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) invalid(`tenant "${tenant}" must match [A-Za-z0-9_-]{1,64}`);
  }
  const positive: (keyof ServerOptions)[] = [
    'maxKeySetBytes',
    'maxCiphertextBytes',
    'maxEvalBodyBytes',
    'maxBatchItems',
    'tenantQuotaBytes',
    'tenantMaxKeySets',
    'tenantCacheBytes',
    'tenantMaxInFlight',
    'maxOutputs',
    'maxOutputBytes',
    'maxRequestCost',
    'tenantCostPerMinute',
    'requestTimeoutMs',
    'headersTimeoutMs',
    'connectionTimeoutMs',
    'keepAliveTimeoutMs',
    'authFailuresPerMinute',
    'rotationGraceMs',
    'defaultKeySetTtlMs',
    'maxKeySetTtlMs',
    'cacheBytes',
    'cacheTtlMs',
    'maxLoadedKeySets',
    'retryAfterSeconds',
    'jobTimeoutMs',
    'rateLimitPerMinute',
  ];
  for (const key of positive) {
    const v = merged[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) invalid(`${key} must be a positive integer`);
  }
  if (!Number.isSafeInteger(merged.maxQueue) || merged.maxQueue < 0) invalid('maxQueue must be ≥ 0');
  // A tenant's share can be at most the whole cache (a small cacheBytes alone shrinks it).
  merged.tenantCacheBytes = Math.min(merged.tenantCacheBytes, merged.cacheBytes);
  if (merged.headersTimeoutMs > merged.requestTimeoutMs) invalid('headersTimeoutMs must be at most requestTimeoutMs');
  if (merged.executor !== 'pool' && merged.executor !== 'inline') invalid('executor must be pool or inline');
  if (!Number.isSafeInteger(merged.workers) || merged.workers < 0) invalid('workers must be ≥ 0 (0 = one per core)');
  if (typeof merged.redisUrl !== 'string' || (merged.redisUrl !== '' && !/^rediss?:\/\/./.test(merged.redisUrl)))
    invalid('redisUrl must be a redis:// or rediss:// URL (or empty)');
  if (typeof merged.redisPrefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(merged.redisPrefix))
    invalid('redisPrefix must match [A-Za-z0-9_.:-]{1,64}');
  return merged;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}
