/**
 * The key-set store shared by every node of a deployment, in Redis (or Valkey): the same contract as the local
 * KeyStore (keyset-store.ts). Envelopes are content-addressed blobs split into chunks of at most `chunkBytes`
 * (1 MiB) per key and shared across tenants; records are per tenant. Reference counting, quota reservations,
 * rotation and removal run as Lua scripts (redis-keystore-scripts.ts), each atomic in Redis, so a delete, sweep or
 * rotation on one node can never take a blob an upload on another node relies on.
 *
 * An upload: reserve quota (script) → pin the blob (script; creates its entry when new) → write missing chunks
 * with an expiry → mark complete (script; chunks made permanent) → commit the record (script; reference taken,
 * pin and reservation dropped, same-name key set rotated). A process that dies midway leaves a pin and a
 * reservation that lapse, chunks that expire, and an entry the sweep collects.
 *
 * A compute worker reads a key set by (tenant, id) with read(): one round trip for the record, one pipelined
 * round trip for the chunks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { byPosition } from './keyset-pages.ts';
import { HeftyError } from '../errors.ts';
import {
  keySetIds,
  keySetTtl,
  type KeySetRecord,
  type KeySetStore,
  type KeySetStoreLimits,
  type PutMeta,
  type Reservation,
} from './keyset-store.ts';
import type { RedisConnection } from './redis-connection.ts';
import { COLLECT, COMMIT, COMPLETE, PIN, RELEASE, REMOVE, RESERVE } from './redis-keystore-scripts.ts';

export interface RedisKeyStoreOptions extends KeySetStoreLimits {
  connection: RedisConnection;
  /** Prefix of every key (default 'hefty:'); deployments sharing one Redis use different prefixes. */
  prefix?: string;
  /** Largest value written per key (default 1 MiB). */
  chunkBytes?: number;
  /** How long a reservation or upload pin holds without its upload finishing (default 10 min). */
  leaseMs?: number;
  /** Sweep period (default 60 s); 0 disables the timer (tests sweep by hand). */
  sweepIntervalMs?: number;
  /** Whether close() also closes the connection (default false: whoever opened it closes it). */
  ownsConnection?: boolean;
}

const TENANT = /^[A-Za-z0-9_-]{1,64}$/;
const WRITE_BATCH_CHUNKS = 16;
const SWEEP_PAGE = 500;

function notFound(id: string): never {
  throw new HeftyError('E_NOT_FOUND', `no key set ${id}`);
}

function checkTenant(tenant: string): void {
  if (!TENANT.test(tenant)) throw new HeftyError('E_INVALID_ARGUMENT', `tenant "${tenant}" is not a valid name`);
}

/** The fields of a record that never change once written (expiry and replacement live beside it). */
type StoredRecord = Omit<KeySetRecord, 'expiresAt' | 'replacedBy'>;

class RedisReservation implements Reservation {
  readonly tenant: string;
  readonly id: string;
  readonly token: string;
  private released = false;
  private readonly releaseNow: () => Promise<void>;

  constructor(tenant: string, id: string, token: string, releaseNow: () => Promise<void>) {
    this.tenant = tenant;
    this.id = id;
    this.token = token;
    this.releaseNow = releaseNow;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // When Redis cannot be reached the reservation lapses at its lease end instead.
    await this.releaseNow().catch(() => undefined);
  }
}

export class RedisKeyStore implements KeySetStore {
  readonly kind = 'redis';
  readonly options: RedisKeyStoreOptions;
  private readonly connection: RedisConnection;
  private readonly prefix: string;
  private readonly chunkBytes: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly pending = new Set<Promise<unknown>>();
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(options: RedisKeyStoreOptions) {
    this.options = options;
    this.connection = options.connection;
    this.prefix = options.prefix ?? 'hefty:';
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.leaseMs = options.leaseMs ?? 600_000;
    this.now = options.now ?? Date.now;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes <= 0)
      throw new HeftyError('E_INVALID_ARGUMENT', 'chunkBytes must be a positive integer');
  }

  /**
   * Opens the store on a connection (see RedisConnection.open) and starts its periodic sweep. Refuses a Redis
   * that may evict any key when full (maxmemory-policy allkeys-*): that would drop stored key sets.
   */
  static async open(options: RedisKeyStoreOptions): Promise<RedisKeyStore> {
    const store = new RedisKeyStore(options);
    const policy = await options.connection.evictionPolicy();
    if (policy?.startsWith('allkeys')) {
      throw new HeftyError(
        'E_INVALID_ARGUMENT',
        `Redis maxmemory-policy is ${policy}, which may evict stored key sets: use noeviction or a volatile-* policy`,
      );
    }
    const interval = options.sweepIntervalMs ?? 60_000;
    if (interval > 0) {
      // Every node sweeps; the scripts make concurrent sweeps harmless. An outage just skips a round.
      store.sweeper = setInterval(() => void store.sweep().catch(() => undefined), interval);
      store.sweeper.unref();
    }
    return store;
  }

  /** Whether Redis is reachable now. */
  get available(): boolean {
    return this.connection.up;
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = (): void => void this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  async reserve(tenant: string, bytes: Uint8Array): Promise<Reservation> {
    checkTenant(tenant);
    const { id } = keySetIds(tenant, bytes);
    const token = randomBytes(12).toString('hex');
    const now = this.now();
    const maxRecords = this.options.tenantMaxKeySets ?? -1;
    const verdict = await this.connection.run((redis) =>
      RESERVE.run(redis, [
        this.prefix,
        tenant,
        id,
        bytes.length,
        now,
        this.options.tenantQuotaBytes,
        maxRecords,
        token,
        now + this.leaseMs,
      ]),
    );
    if (verdict === 'bytes') {
      throw new HeftyError(
        'E_QUOTA_EXCEEDED',
        `storing ${bytes.length} bytes would exceed the tenant quota of ${this.options.tenantQuotaBytes} bytes`,
      );
    }
    if (verdict === 'records') {
      throw new HeftyError('E_QUOTA_EXCEEDED', `the tenant quota of ${maxRecords} key sets is reached`);
    }
    return new RedisReservation(tenant, id, token, () =>
      this.connection.run((redis) => RELEASE.run(redis, [this.prefix, tenant, token])).then(() => undefined),
    );
  }

  put(tenant: string, bytes: Uint8Array, meta: PutMeta = {}): Promise<KeySetRecord> {
    return this.track(this.putNow(tenant, bytes, meta));
  }

  private async putNow(tenant: string, bytes: Uint8Array, meta: PutMeta): Promise<KeySetRecord> {
    const reservation = meta.reservation ?? (await this.reserve(tenant, bytes));
    try {
      const { digest, id } = keySetIds(tenant, bytes);
      if (!(reservation instanceof RedisReservation) || reservation.tenant !== tenant || reservation.id !== id) {
        throw new HeftyError('E_INVALID_ARGUMENT', 'the reservation is for other bytes or tenant');
      }
      const now = this.now();
      const stored: StoredRecord = {
        id,
        tenant,
        name: meta.name ?? id,
        digest,
        size: bytes.length,
        createdAt: now,
        ...(meta.info ? { info: meta.info } : {}),
      };
      const expiresAt = now + keySetTtl(this.options, meta.ttlMs);
      const pin = randomBytes(12).toString('hex');
      // A retry is needed only when the blob vanished between pin and commit (a lease outlived by a slow upload).
      for (let attempt = 0; attempt < 3; attempt++) {
        await this.storeBlob(digest, bytes, pin);
        const verdict = await this.connection.run((redis) =>
          COMMIT.run(redis, [
            this.prefix,
            tenant,
            id,
            digest,
            JSON.stringify(stored),
            stored.name,
            bytes.length,
            expiresAt,
            this.now(),
            this.options.rotationGraceMs,
            pin,
            reservation.token,
          ]),
        );
        if (verdict === 'ok') return { ...stored, expiresAt };
      }
      throw new HeftyError('E_UNAVAILABLE', `key set ${id} could not be stored (its blob kept vanishing); retry`);
    } finally {
      await reservation.release();
    }
  }

  /** Pins the blob and, unless it is already complete, writes its chunks and marks it complete. */
  private async storeBlob(digest: string, bytes: Uint8Array, pin: string): Promise<void> {
    const now = this.now();
    const chunks = Math.max(1, Math.ceil(bytes.length / this.chunkBytes));
    const [complete, chunkText] = (await this.connection.run((redis) =>
      PIN.run(redis, [this.prefix, digest, pin, now + this.leaseMs, now, bytes.length, chunks, this.chunkBytes]),
    )) as [string, string];
    if (complete === '1') return;
    // An entry another upload created keeps its own chunk size.
    const chunkBytes = Number(chunkText);
    const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let first = 0; first < count; first += WRITE_BATCH_CHUNKS) {
      await this.connection.run(async (redis) => {
        const pipeline = redis.pipeline();
        for (let i = first; i < Math.min(count, first + WRITE_BATCH_CHUNKS); i++) {
          // NX: a chunk already there (same digest, same bytes) is left alone — rewriting it would put an
          // expiry back on a chunk another upload has already made permanent.
          const chunk = view.subarray(i * chunkBytes, (i + 1) * chunkBytes);
          pipeline.set(this.key('blob', digest, String(i)), chunk, 'PX', this.leaseMs, 'NX');
        }
        for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
      });
    }
    await this.connection.run((redis) => COMPLETE.run(redis, [this.prefix, digest]));
  }

  async get(tenant: string, id: string): Promise<KeySetRecord> {
    checkTenant(tenant);
    const [json, expires, replacedBy] = await this.connection.run(async (redis) => {
      const base = this.key('ks', tenant);
      const replies = await redis
        .pipeline()
        .hget(`${base}:rec`, id)
        .zscore(`${base}:exp`, id)
        .hget(`${base}:repl`, id)
        .exec();
      return (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value as string | null;
      });
    });
    if (json === null || expires === null || Number(expires) <= this.now()) notFound(id);
    return this.record(json, Number(expires), replacedBy);
  }

  private record(json: string, expiresAt: number, replacedBy: string | null): KeySetRecord {
    const stored = JSON.parse(json) as StoredRecord;
    return { ...stored, expiresAt, ...(replacedBy ? { replacedBy } : {}) };
  }

  /** Ids and expiry of the tenant's live key sets. */
  private async liveIds(tenant: string): Promise<{ ids: string[]; expires: number[] }> {
    const flat = await this.connection.run((redis) =>
      redis.zrangebyscore(this.key('ks', tenant, 'exp'), `(${this.now()}`, '+inf', 'WITHSCORES'),
    );
    const ids: string[] = [];
    const expires: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i]);
      expires.push(Number(flat[i + 1]));
    }
    return { ids, expires };
  }

  async list(tenant: string): Promise<KeySetRecord[]> {
    checkTenant(tenant);
    const { ids, expires } = await this.liveIds(tenant);
    if (ids.length === 0) return [];
    const base = this.key('ks', tenant);
    const [jsons, replaced] = await this.connection.run(async (redis) => {
      const replies = await redis
        .pipeline()
        .hmget(`${base}:rec`, ...ids)
        .hmget(`${base}:repl`, ...ids)
        .exec();
      return (replies ?? []).map(([error, value]) => {
        if (error) throw error;
        return value as (string | null)[];
      });
    });
    const records: KeySetRecord[] = [];
    ids.forEach((_id, i) => {
      if (jsons[i] !== null) records.push(this.record(jsons[i] as string, expires[i], replaced[i]));
    });
    return records.sort(byPosition);
  }

  async usedBytes(tenant: string): Promise<number> {
    checkTenant(tenant);
    const { ids } = await this.liveIds(tenant);
    if (ids.length === 0) return 0;
    const sizes = await this.connection.run((redis) => redis.hmget(this.key('ks', tenant, 'size'), ...ids));
    return sizes.reduce((sum, size) => sum + Number(size ?? 0), 0);
  }

  async read(tenant: string, id: string): Promise<Uint8Array> {
    const record = await this.get(tenant, id);
    const chunks = await this.connection.run(async (redis) => {
      const blob = this.key('blob', record.digest);
      const [count, chunkBytes] = await redis.hmget(blob, 'chunks', 'chunkBytes');
      if (count === null || chunkBytes === null) return undefined;
      const pipeline = redis.pipeline();
      for (let i = 0; i < Number(count); i++) pipeline.getBuffer(`${blob}:${i}`);
      return ((await pipeline.exec()) ?? []).map(([error, value]) => {
        if (error) throw error;
        return value as Buffer | null;
      });
    });
    if (!chunks || chunks.some((chunk) => chunk === null)) {
      // Deleted (or expired) while we read: that is "not found"; a live record without its blob is not.
      await this.get(tenant, id);
      throw new HeftyError('E_INTERNAL', `stored key set ${id} is missing part of its blob`);
    }
    const bytes = Buffer.concat(chunks as Buffer[]);
    if (createHash('sha256').update(bytes).digest('hex') !== record.digest) {
      throw new HeftyError('E_INTERNAL', `stored key set ${id} failed its integrity check`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  delete(tenant: string, id: string): Promise<void> {
    return this.track(
      (async () => {
        await this.get(tenant, id);
        await this.connection.run((redis) => REMOVE.run(redis, [this.prefix, tenant, id, 0, this.now()]));
      })(),
    );
  }

  async sweep(): Promise<void> {
    const now = this.now();
    for (;;) {
      const due = await this.connection.run((redis) =>
        redis.zrangebyscore(this.key('ks', 'exp'), '-inf', now, 'LIMIT', 0, SWEEP_PAGE),
      );
      let removed = 0;
      for (const entry of due) {
        const [tenant, id] = entry.split('\n');
        // Only if still expired: a re-upload may have renewed it since the page was read.
        removed += Number(await this.connection.run((redis) => REMOVE.run(redis, [this.prefix, tenant, id, 1, now])));
      }
      if (due.length < SWEEP_PAGE || removed === 0) break;
    }
    const orphans = await this.connection.run((redis) => redis.zrange(this.key('blob', 'orphans'), 0, -1));
    for (const digest of orphans) {
      await this.connection.run((redis) => COLLECT.run(redis, [this.prefix, digest, now]));
    }
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.flush();
    if (this.options.ownsConnection) await this.connection.close();
  }
}
