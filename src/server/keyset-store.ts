/**
 * The key-set store the service (and any compute worker) talks to. Two implementations keep the same contract:
 * `KeyStore` (keystore.ts, a local directory: the embedded default) and `RedisKeyStore` (redis-keystore.ts, shared
 * by every node of a deployment). test/server/keyset-store-contract.ts runs one suite against both.
 *
 * Contract: ids are derived from (tenant, content), so the same bytes from the same tenant give the same id;
 * blobs are content-addressed and shared across tenants, and no delete, expiry sweep or rotation ever removes a
 * blob an acknowledged upload relies on; quotas (bytes and records of live key sets, rotated ones included) are
 * reserved before anything is written, so concurrent uploads count against each other; expired, deleted and other
 * tenants' key sets answer E_NOT_FOUND; stored bytes are checked against their SHA-256 when read (E_INTERNAL).
 */
import { createHash } from 'node:crypto';

export interface KeySetRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /** SHA-256 (hex) of the stored envelope: the blob's address. */
  readonly digest: string;
  readonly size: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set when a newer key set took this one's name; it stays readable until expiresAt. */
  readonly replacedBy?: string;
  /** What the service learned when it checked the key set (parameters, keys present). */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** Quota held for an upload between its check and its write; release() is idempotent. */
export interface Reservation {
  readonly tenant: string;
  readonly id: string;
  release(): Promise<void>;
}

export interface PutMeta {
  /** Uploading under a name a live key set holds rotates it (replacedBy, expiry within the grace period). */
  name?: string;
  ttlMs?: number;
  info?: Record<string, unknown>;
  /** Quota taken earlier with reserve(); put releases it. Without one, put reserves itself. */
  reservation?: Reservation;
}

/** What both stores are configured with (the local one adds its directory, the Redis one its connection). */
export interface KeySetStoreLimits {
  tenantQuotaBytes: number;
  /** Live key sets (rotated ones included) allowed per tenant. */
  tenantMaxKeySets?: number;
  rotationGraceMs: number;
  defaultTtlMs: number;
  maxTtlMs: number;
  /** Clock, for tests of expiry. */
  now?: () => number;
}

export interface KeySetStore {
  /** 'local' or 'redis': for metrics and logs. */
  readonly kind: 'local' | 'redis';
  /** Whether the store can serve now (the Redis store: connected); /readyz reports it. */
  readonly available: boolean;
  /** Takes quota for storing `bytes` as a key set of `tenant`, or rejects with E_QUOTA_EXCEEDED. */
  reserve(tenant: string, bytes: Uint8Array): Promise<Reservation>;
  /** Stores a key set (idempotent per tenant and content); see PutMeta for names (rotation) and quota. */
  put(tenant: string, bytes: Uint8Array, meta?: PutMeta): Promise<KeySetRecord>;
  /** The live record, or E_NOT_FOUND when absent, expired or another tenant's. */
  get(tenant: string, id: string): Promise<KeySetRecord>;
  /** The tenant's live records in page order: creation time, then id (keyset-pages.ts). */
  list(tenant: string): Promise<KeySetRecord[]>;
  /** The key-set bytes, checked against their digest. What a compute worker loads by (tenant, id). */
  read(tenant: string, id: string): Promise<Uint8Array>;
  /** Bytes of the tenant's live key sets. */
  usedBytes(tenant: string): Promise<number>;
  /** Removes a live key set (E_NOT_FOUND otherwise); its blob goes when nothing else references it. */
  delete(tenant: string, id: string): Promise<void>;
  /** Removes expired records and the blobs nothing references any more. */
  sweep(): Promise<void>;
  /** Waits for in-flight writes. */
  flush(): Promise<void>;
  /** Stops the periodic sweep, flushes, releases connections. */
  close(): Promise<void>;
}

/** A key set's address (SHA-256 of the bytes) and its id for `tenant` (the same for both stores). */
export function keySetIds(tenant: string, bytes: Uint8Array): { digest: string; id: string } {
  const digest = createHash('sha256').update(bytes).digest('hex');
  return { digest, id: `ks_${createHash('sha256').update(`${tenant}\0${digest}`).digest('hex').slice(0, 32)}` };
}

/** The lifetime a key set gets: the asked TTL (or the default), never past the maximum. */
export function keySetTtl(limits: KeySetStoreLimits, ttlMs: number | undefined): number {
  return Math.min(ttlMs ?? limits.defaultTtlMs, limits.maxTtlMs);
}

export const KEYSET_ID = /^ks_[0-9a-f]{32}$/;
