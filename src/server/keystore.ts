/**
 * Durable key-set store on local disk. Blobs are content-addressed (SHA-256) and shared; each tenant has its own
 * small JSON records pointing at blobs. Every file is written to a temp file, fsynced, atomically renamed and the
 * directory fsynced, blob before record: after a crash a record always points at a complete blob, and leftovers
 * (temp files, unreferenced blobs) are removed when the store opens.
 *
 * Everything that touches a blob (an upload deciding it exists or writing it, a delete or expiry deciding nothing
 * references it any more) runs under that blob's lock, so an acknowledged upload can never lose its blob to a
 * concurrent delete of the same content. Quotas (bytes and records) are reserved synchronously before anything
 * is written, so concurrent uploads cannot overshoot them.
 *
 *   dataDir/blobs/<sha256>            key-set envelope bytes
 *   dataDir/tenants/<tenant>/<id>.json  { id, tenant, name, digest, size, createdAt, expiresAt, replacedBy? }
 *   dataDir/tmp/                      in-flight writes
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HeftyError } from '../errors.ts';
import { byPosition } from './keyset-pages.ts';
import {
  KEYSET_ID,
  keySetIds,
  keySetTtl,
  type KeySetRecord,
  type KeySetStore,
  type KeySetStoreLimits,
  type PutMeta,
  type Reservation,
} from './keyset-store.ts';

export type { KeySetRecord, Reservation } from './keyset-store.ts';

export interface KeyStoreOptions extends KeySetStoreLimits {
  dataDir: string;
}

const DIGEST = /^[0-9a-f]{64}$/;
const SWEEP_INTERVAL_MS = 60_000;

function notFound(id: string): never {
  throw new HeftyError('E_NOT_FOUND', `no key set ${id}`);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class KeyStore implements KeySetStore {
  readonly kind = 'local';
  readonly available = true;
  readonly options: KeyStoreOptions;
  private readonly records = new Map<string, Map<string, KeySetRecord>>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Tail of each blob's lock chain (by digest). */
  private readonly locks = new Map<string, Promise<void>>();
  /** Bytes and records reserved by uploads in flight, per tenant. */
  private readonly reserved = new Map<string, { bytes: number; records: number }>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(options: KeyStoreOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Opens (creating if needed) the store, removes crash leftovers and expired records. */
  static async open(options: KeyStoreOptions): Promise<KeyStore> {
    const store = new KeyStore(options);
    await store.recover();
    store.sweeper = setInterval(() => void store.sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
    store.sweeper.unref();
    return store;
  }

  private dir(...parts: string[]): string {
    return join(this.options.dataDir, ...parts);
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir('blobs'), { recursive: true, mode: 0o700 });
    await mkdir(this.dir('tenants'), { recursive: true, mode: 0o700 });
    await rm(this.dir('tmp'), { recursive: true, force: true });
    await mkdir(this.dir('tmp'), { recursive: true, mode: 0o700 });
    const blobSizes = new Map<string, number>();
    for (const name of await readdir(this.dir('blobs'))) {
      if (!DIGEST.test(name)) {
        await unlink(this.dir('blobs', name));
        continue;
      }
      blobSizes.set(name, (await stat(this.dir('blobs', name))).size);
    }
    for (const tenant of await readdir(this.dir('tenants'))) {
      const map = new Map<string, KeySetRecord>();
      for (const file of await readdir(this.dir('tenants', tenant))) {
        const path = this.dir('tenants', tenant, file);
        const record = await this.readRecord(path);
        // A record is only trusted when its blob is complete; anything else is a crash leftover.
        if (!record || record.tenant !== tenant || blobSizes.get(record.digest) !== record.size) {
          await unlink(path);
          continue;
        }
        map.set(record.id, record);
      }
      this.records.set(tenant, map);
    }
    const referenced = new Set([...this.allRecords()].map((r) => r.digest));
    for (const digest of blobSizes.keys()) if (!referenced.has(digest)) await unlink(this.dir('blobs', digest));
    await this.sweep();
  }

  private async readRecord(path: string): Promise<KeySetRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(path, 'utf8')) as KeySetRecord;
      if (!KEYSET_ID.test(record.id) || !DIGEST.test(record.digest) || !Number.isSafeInteger(record.size))
        return undefined;
      if (path !== this.dir('tenants', record.tenant, `${record.id}.json`)) return undefined;
      return record;
    } catch {
      return undefined;
    }
  }

  private *allRecords(): Iterable<KeySetRecord> {
    for (const map of this.records.values()) yield* map.values();
  }

  /** Writes bytes durably to `path`: temp file, fsync, rename, fsync of the directory. */
  private async writeAtomic(dir: string, file: string, bytes: Uint8Array | string): Promise<void> {
    const temp = this.dir('tmp', `${file}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, file));
    await syncDir(dir);
  }

  /** Runs `work` once every earlier holder of `key`'s lock is done. */
  private withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return result;
  }

  /**
   * Takes quota for storing `bytes` as a new key set of `tenant`, or rejects with E_QUOTA_EXCEEDED. Decided
   * synchronously, so concurrent uploads are counted against each other. Re-uploading a live key set takes nothing.
   */
  async reserve(tenant: string, bytes: Uint8Array): Promise<Reservation> {
    return this.reserveNow(tenant, bytes);
  }

  private reserveNow(tenant: string, bytes: Uint8Array): Reservation {
    const { id } = keySetIds(tenant, bytes);
    const existing = this.records.get(tenant)?.get(id);
    const held =
      existing && existing.expiresAt > this.now() ? { bytes: 0, records: 0 } : { bytes: bytes.length, records: 1 };
    const taken = this.reserved.get(tenant) ?? { bytes: 0, records: 0 };
    const live = this.live(tenant);
    const usedBytes = live.reduce((sum, r) => sum + r.size, 0) + taken.bytes;
    if (usedBytes + held.bytes > this.options.tenantQuotaBytes) {
      throw new HeftyError(
        'E_QUOTA_EXCEEDED',
        `storing ${bytes.length} bytes would exceed the tenant quota of ${this.options.tenantQuotaBytes} bytes`,
      );
    }
    const maxRecords = this.options.tenantMaxKeySets ?? Number.POSITIVE_INFINITY;
    if (live.length + taken.records + held.records > maxRecords) {
      throw new HeftyError('E_QUOTA_EXCEEDED', `the tenant quota of ${maxRecords} key sets is reached`);
    }
    this.reserved.set(tenant, { bytes: taken.bytes + held.bytes, records: taken.records + held.records });
    let released = false;
    return {
      tenant,
      id,
      release: async () => {
        if (released) return;
        released = true;
        const now = this.reserved.get(tenant) ?? { bytes: 0, records: 0 };
        const left = { bytes: now.bytes - held.bytes, records: now.records - held.records };
        if (left.bytes === 0 && left.records === 0) this.reserved.delete(tenant);
        else this.reserved.set(tenant, left);
      },
    };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = (): void => void this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  private live(tenant: string): KeySetRecord[] {
    const now = this.now();
    return [...(this.records.get(tenant)?.values() ?? [])].filter((r) => r.expiresAt > now);
  }

  async usedBytes(tenant: string): Promise<number> {
    return this.live(tenant).reduce((sum, r) => sum + r.size, 0);
  }

  /**
   * Stores a key set for a tenant. Same bytes from the same tenant give the same id (idempotent). A name already
   * held by another live key set is rotated: the old one gets `replacedBy` and expires after the grace period.
   * Quota is checked here unless the caller passes the reservation it took earlier (which put releases).
   */
  put(tenant: string, bytes: Uint8Array, meta: PutMeta = {}): Promise<KeySetRecord> {
    let reservation: Reservation;
    try {
      reservation = meta.reservation ?? this.reserveNow(tenant, bytes);
    } catch (e) {
      return Promise.reject(e);
    }
    if (reservation.tenant !== tenant || reservation.id !== keySetIds(tenant, bytes).id) {
      void reservation.release();
      return Promise.reject(new HeftyError('E_INVALID_ARGUMENT', 'the reservation is for other bytes or tenant'));
    }
    const work = this.putNow(tenant, bytes, meta);
    const release = (): void => void reservation.release();
    work.then(release, release);
    return this.track(work);
  }

  private async putNow(
    tenant: string,
    bytes: Uint8Array,
    meta: { name?: string; ttlMs?: number; info?: Record<string, unknown> },
  ): Promise<KeySetRecord> {
    const { digest, id } = keySetIds(tenant, bytes);
    const name = meta.name ?? id;
    const ttl = keySetTtl(this.options, meta.ttlMs);
    const now = this.now();
    const record: KeySetRecord = {
      id,
      tenant,
      name,
      digest,
      size: bytes.length,
      createdAt: now,
      expiresAt: now + ttl,
      ...(meta.info ? { info: meta.info } : {}),
    };
    // Under the blob's lock no delete can decide the blob is unreferenced between our check and our record.
    await this.withLock(digest, async () => {
      const blobPath = this.dir('blobs', digest);
      const blobComplete = await stat(blobPath).then(
        (s) => s.size === bytes.length,
        () => false,
      );
      if (!blobComplete) await this.writeAtomic(this.dir('blobs'), digest, bytes);
      await mkdir(this.dir('tenants', tenant), { recursive: true, mode: 0o700 });
      await this.writeAtomic(this.dir('tenants', tenant), `${id}.json`, JSON.stringify(record));
      let map = this.records.get(tenant);
      if (!map) this.records.set(tenant, (map = new Map()));
      map.set(id, record);
    });
    for (const old of this.live(tenant)) {
      if (old.id === id || old.name !== name || old.replacedBy) continue;
      await this.withLock(old.digest, async () => {
        // A delete or sweep may have removed it meanwhile: never write a removed record back.
        const current = this.records.get(tenant)?.get(old.id);
        if (!current || current.replacedBy) return;
        const rotated: KeySetRecord = {
          ...current,
          replacedBy: id,
          expiresAt: Math.min(current.expiresAt, now + this.options.rotationGraceMs),
        };
        await this.writeAtomic(this.dir('tenants', tenant), `${old.id}.json`, JSON.stringify(rotated));
        this.records.get(tenant)?.set(old.id, rotated);
      });
    }
    return record;
  }

  /** The record, or E_NOT_FOUND when absent, expired or another tenant's. */
  async get(tenant: string, id: string): Promise<KeySetRecord> {
    return this.liveRecord(tenant, id);
  }

  private liveRecord(tenant: string, id: string): KeySetRecord {
    const record = this.records.get(tenant)?.get(id);
    if (!record || record.expiresAt <= this.now()) notFound(id);
    return record;
  }

  async list(tenant: string): Promise<KeySetRecord[]> {
    return this.live(tenant).sort(byPosition);
  }

  /** Reads the key-set bytes and checks them against their digest. */
  async read(tenant: string, id: string): Promise<Uint8Array> {
    const record = this.liveRecord(tenant, id);
    const bytes = await readFile(this.dir('blobs', record.digest));
    if (createHash('sha256').update(bytes).digest('hex') !== record.digest) {
      throw new HeftyError('E_INTERNAL', `stored key set ${id} failed its integrity check`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  delete(tenant: string, id: string): Promise<void> {
    try {
      this.liveRecord(tenant, id);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.track(this.remove(tenant, id));
  }

  private remove(tenant: string, id: string, onlyIfExpired: boolean = false): Promise<void> {
    const record = this.records.get(tenant)?.get(id);
    if (!record) return Promise.resolve();
    return this.withLock(record.digest, async () => {
      const current = this.records.get(tenant)?.get(id);
      // Re-uploaded (a fresh record with a new expiry) while the sweep waited for the lock: keep it.
      if (!current || (onlyIfExpired && current.expiresAt > this.now())) return;
      this.records.get(tenant)?.delete(id);
      await unlink(this.dir('tenants', tenant, `${id}.json`)).catch(() => undefined);
      await syncDir(this.dir('tenants', tenant));
      if (![...this.allRecords()].some((r) => r.digest === current.digest)) {
        await unlink(this.dir('blobs', current.digest)).catch(() => undefined);
      }
    });
  }

  /** Removes expired records (and blobs nothing points at any more). */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const record of [...this.allRecords()]) {
      if (record.expiresAt <= now) await this.track(this.remove(record.tenant, record.id, true));
    }
  }

  /** Waits for in-flight writes; called on shutdown. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.flush();
  }
}
