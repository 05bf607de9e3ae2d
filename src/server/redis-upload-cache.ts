/**
 * The uploaded-ciphertext cache in Redis, shared by every node: the same bounds as TenantCaches (upload-cache.ts)
 * — per-tenant bytes with LRU eviction of the tenant's own entries, a total across tenants where the largest
 * tenant gives way, a TTL from upload. Each decision runs as one Lua script, so concurrent uploads on different
 * nodes never overshoot a bound. Entries also carry a Redis expiry, so nothing outlives its TTL even if no node
 * touches the tenant again.
 *
 *   P ct:SCOPE/ID   hash b (bytes) h (SHA-256) c (ciphertext chunks, when the uploader counted them), expires
 *                   with the TTL
 *   P ctl:T         zset entry → last use tick (LRU)       P ctx:T  zset entry → expiry
 *   P cts:T         hash entry → bytes                P ctt    zset tenant → bytes held
 *   P ctsum         hash bytes, entries (all tenants)   P ctuse  counter: recency ticks (strictly increasing)
 */
import { HeftyError } from '../errors.ts';
import { contentId, sha256, sharedCopy, type CacheEntry, type CacheStats } from '../pool/cache.ts';
import { LuaScript, type RedisConnection } from './redis-connection.ts';
import { tenantOf, type StoredUpload, type UploadCache, type UploadCacheOptions } from './upload-cache.ts';

const MAX_ID_LENGTH = 256;

/** Removes one entry and its accounting (returns 1 when it was there). */
const DROP_FUNCTIONS = `
local function drop(p, t, k)
  local size = redis.call('HGET', p .. 'cts:' .. t, k)
  if not size then return 0 end
  redis.call('DEL', p .. 'ct:' .. k)
  redis.call('ZREM', p .. 'ctl:' .. t, k)
  redis.call('ZREM', p .. 'ctx:' .. t, k)
  redis.call('HDEL', p .. 'cts:' .. t, k)
  if tonumber(redis.call('ZINCRBY', p .. 'ctt', -tonumber(size), t)) <= 0 then redis.call('ZREM', p .. 'ctt', t) end
  redis.call('HINCRBY', p .. 'ctsum', 'bytes', -tonumber(size))
  redis.call('HINCRBY', p .. 'ctsum', 'entries', -1)
  return 1
end
local function purge(p, t, now)
  local n = 0
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', p .. 'ctx:' .. t, '-inf', now)) do n = n + drop(p, t, k) end
  return n
end
local function totals(p)
  local sum = redis.call('HMGET', p .. 'ctsum', 'bytes', 'entries')
  return { tonumber(sum[1] or '0') or 0, tonumber(sum[2] or '0') or 0 }
end
`;

/**
 * ARGV: prefix, tenant, entry, bytes, hash, now, ttl, tenantMax, totalMax, chunks ('' when not counted) →
 * { evictions, bytes, entries }.
 * The same entry again replaces itself (fresh TTL and recency) without counting as an eviction.
 */
const PUT = new LuaScript(`${DROP_FUNCTIONS}
local p, t, k = ARGV[1], ARGV[2], ARGV[3]
local size = string.len(ARGV[4])
local now, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
local tenantMax, totalMax = tonumber(ARGV[8]), tonumber(ARGV[9])
local evicted = purge(p, t, now)
drop(p, t, k)
while tonumber(redis.call('ZSCORE', p .. 'ctt', t) or '0') + size > tenantMax do
  local oldest = redis.call('ZRANGE', p .. 'ctl:' .. t, 0, 0)[1]
  if not oldest then break end
  evicted = evicted + drop(p, t, oldest)
end
while totals(p)[1] + size > totalMax do
  local largest = redis.call('ZREVRANGE', p .. 'ctt', 0, 0)[1]
  if not largest then break end
  local expired = purge(p, largest, now)
  evicted = evicted + expired
  if expired == 0 then
    local oldest = redis.call('ZRANGE', p .. 'ctl:' .. largest, 0, 0)[1]
    if not oldest then
      redis.call('ZREM', p .. 'ctt', largest)
    else
      evicted = evicted + drop(p, largest, oldest)
    end
  end
end
redis.call('HSET', p .. 'ct:' .. k, 'b', ARGV[4], 'h', ARGV[5])
if ARGV[10] ~= '' then redis.call('HSET', p .. 'ct:' .. k, 'c', ARGV[10]) end
redis.call('PEXPIRE', p .. 'ct:' .. k, ttl)
redis.call('ZADD', p .. 'ctl:' .. t, redis.call('INCR', p .. 'ctuse'), k)
redis.call('ZADD', p .. 'ctx:' .. t, now + ttl, k)
redis.call('HSET', p .. 'cts:' .. t, k, size)
redis.call('ZINCRBY', p .. 'ctt', size, t)
redis.call('HINCRBY', p .. 'ctsum', 'bytes', size)
redis.call('HINCRBY', p .. 'ctsum', 'entries', 1)
local sum = totals(p)
return { evicted, sum[1], sum[2] }
`);

/**
 * The named fields of entry k when it is live (the first field must be there), renewing its recency; nil after
 * dropping it when it expired or lost its bytes. GET and LOCATE read entries through it.
 */
const LIVE_FUNCTION = `
local function live(p, t, k, now, ...)
  local expires = redis.call('ZSCORE', p .. 'ctx:' .. t, k)
  if not expires then return nil end
  if tonumber(expires) <= now then
    drop(p, t, k)
    return nil
  end
  local entry = redis.call('HMGET', p .. 'ct:' .. k, ...)
  if not entry[1] then
    drop(p, t, k)
    return nil
  end
  return entry
end
local function touch(p, t, k)
  redis.call('ZADD', p .. 'ctl:' .. t, redis.call('INCR', p .. 'ctuse'), k)
end
`;

/** ARGV: prefix, tenant, entry, now → { bytes, hash } or {} (absent or expired; an expired one is dropped). */
const GET = new LuaScript(`${DROP_FUNCTIONS}${LIVE_FUNCTION}
local p, t, k = ARGV[1], ARGV[2], ARGV[3]
local entry = live(p, t, k, tonumber(ARGV[4]), 'b', 'h')
if not entry then return {} end
touch(p, t, k)
return entry
`);

/**
 * ARGV: prefix, tenant, entry, now → { hash, size, chunks } or {} (absent, expired, or stored without a chunk
 * count); like GET it renews the entry's recency, but leaves the bytes where they are.
 */
const LOCATE = new LuaScript(`${DROP_FUNCTIONS}${LIVE_FUNCTION}
local p, t, k = ARGV[1], ARGV[2], ARGV[3]
local entry = live(p, t, k, tonumber(ARGV[4]), 'h', 'c')
if not entry or not entry[2] then return {} end
touch(p, t, k)
return { entry[1], redis.call('HSTRLEN', p .. 'ct:' .. k, 'b'), tonumber(entry[2]) }
`);

/** ARGV: prefix, tenant, scope prefix ("scope/") → { bytes, entries } after dropping the scope's entries. */
const DROP_SCOPE = new LuaScript(`${DROP_FUNCTIONS}
local p, t, scope = ARGV[1], ARGV[2], ARGV[3]
for _, k in ipairs(redis.call('ZRANGE', p .. 'ctl:' .. t, 0, -1)) do
  if string.sub(k, 1, #scope) == scope then drop(p, t, k) end
end
local sum = totals(p)
return { sum[1], sum[2] }
`);

export interface RedisUploadCacheOptions extends UploadCacheOptions {
  connection: RedisConnection;
  /** Key prefix (default 'hefty:'), as for RedisKeyStore. */
  prefix?: string;
  now?: () => number;
  ownsConnection?: boolean;
}

export class RedisUploadCache implements UploadCache {
  readonly kind = 'redis';
  private readonly options: RedisUploadCacheOptions;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly counters = { hits: 0, misses: 0, evictions: 0 };
  private held = { bytes: 0, entries: 0 };

  constructor(options: RedisUploadCacheOptions) {
    for (const key of ['maxBytes', 'tenantMaxBytes', 'ttlMs'] as const) {
      if (!Number.isSafeInteger(options[key]) || options[key] <= 0)
        throw new HeftyError('E_INVALID_ARGUMENT', `cache ${key} must be a positive integer`);
    }
    if (options.tenantMaxBytes > options.maxBytes)
      throw new HeftyError('E_INVALID_ARGUMENT', 'a tenant cache cannot be larger than the whole cache');
    this.options = options;
    this.prefix = options.prefix ?? 'hefty:';
    this.now = options.now ?? Date.now;
  }

  async put(bytes: Uint8Array, options: { id?: string; scope: string; chunks?: number }): Promise<string> {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0)
      throw new HeftyError('E_INVALID_ARGUMENT', 'cache entries are non-empty byte arrays');
    if (bytes.byteLength > this.options.tenantMaxBytes) {
      throw new HeftyError(
        'E_QUOTA_EXCEEDED',
        `${bytes.byteLength} bytes exceed the per-tenant ciphertext cache of ${this.options.tenantMaxBytes} bytes`,
      );
    }
    if (options.id !== undefined && (!options.id || options.id.length > MAX_ID_LENGTH))
      throw new HeftyError('E_INVALID_ARGUMENT', `cache ids are strings of 1..${MAX_ID_LENGTH} characters`);
    const hash = sha256(bytes);
    const id = options.id ?? contentId(hash);
    const reply = (await this.options.connection.run((redis) =>
      PUT.run(redis, [
        this.prefix,
        tenantOf(options.scope),
        `${options.scope}/${id}`,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        hash,
        this.now(),
        this.options.ttlMs,
        this.options.tenantMaxBytes,
        this.options.maxBytes,
        options.chunks === undefined ? '' : String(options.chunks),
      ]),
    )) as number[];
    this.counters.evictions += reply[0];
    this.held = { bytes: reply[1], entries: reply[2] };
    return id;
  }

  async get(id: string, scope: string): Promise<CacheEntry | undefined> {
    const reply = (await this.options.connection.run((redis) =>
      GET.runBuffer(redis, [this.prefix, tenantOf(scope), `${scope}/${id}`, this.now()]),
    )) as Buffer[];
    if (reply.length < 2) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    // Workers take entries as shared memory, as from the local cache.
    return { bytes: sharedCopy(reply[0]), hash: reply[1].toString() };
  }

  async locate(id: string, scope: string): Promise<StoredUpload | undefined> {
    const key = `${scope}/${id}`;
    const reply = (await this.options.connection.run((redis) =>
      LOCATE.run(redis, [this.prefix, tenantOf(scope), key, this.now()]),
    )) as (string | number)[];
    // A miss is counted by the get() the caller falls back to.
    if (reply.length < 3) return undefined;
    this.counters.hits++;
    const [hash, size, chunks] = reply;
    return { location: `${this.prefix}ct:${key}`, hash: String(hash), size: Number(size), chunks: Number(chunks) };
  }

  async dropScope(scope: string): Promise<void> {
    const reply = (await this.options.connection.run((redis) =>
      DROP_SCOPE.run(redis, [this.prefix, tenantOf(scope), `${scope}/`]),
    )) as number[];
    this.held = { bytes: reply[0], entries: reply[1] };
  }

  stats(): CacheStats {
    return { ...this.counters, ...this.held };
  }

  async close(): Promise<void> {
    if (this.options.ownsConnection) await this.options.connection.close();
  }
}
