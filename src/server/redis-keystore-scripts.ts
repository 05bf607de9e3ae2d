/**
 * The Lua scripts of RedisKeyStore. Each runs atomically in Redis, so every decision about a blob (is it
 * complete, does anything reference it, may it go) and about a tenant's quota is made with no other client in
 * between. Keys are built from ARGV[1] (the prefix), so the layout needs one Redis (or Valkey) primary, not a
 * Redis Cluster. Times are the caller's clock in ms (passed in, so tests can move it).
 *
 *   P ks:T:rec     hash  id → record JSON (immutable fields)      P blob:D          hash size chunks chunkBytes
 *   P ks:T:name    hash  id → name                                                        complete refs
 *   P ks:T:size    hash  id → bytes                               P blob:D:I        chunk I of the blob
 *   P ks:T:digest  hash  id → blob digest                         P blob:D:pins     zset upload token → lease end
 *   P ks:T:repl    hash  id → id of the key set that replaced it  P blob:orphans    zset digest → when refs hit 0
 *   P ks:T:exp     zset  id → expiresAt                           P ks:exp          zset "T\nid" → expiresAt
 *   P ks:T:resv    zset  reservation token → lease end            P ks:T:resvq      hash token → "bytes:records"
 *
 * `refs` counts the records (any tenant's) pointing at the blob; a pin is an upload between "the blob is there"
 * and its record. A blob goes only when refs is 0 and no pin is live.
 */
import { LuaScript } from './redis-connection.ts';

/** Deletes blob D when nothing references or pins it; else leaves it listed as an orphan candidate or unlists it. */
const COLLECT_FUNCTION = `
local function collect(p, d, now)
  local m = p .. 'blob:' .. d
  local orphans = p .. 'blob:orphans'
  if redis.call('EXISTS', m) == 0 then
    redis.call('ZREM', orphans, d)
    return 0
  end
  redis.call('ZREMRANGEBYSCORE', m .. ':pins', '-inf', now)
  if tonumber(redis.call('HGET', m, 'refs') or '0') > 0 then
    redis.call('ZREM', orphans, d)
    return 0
  end
  if redis.call('ZCARD', m .. ':pins') > 0 then
    redis.call('ZADD', orphans, 'NX', now, d)
    return 0
  end
  local chunks = tonumber(redis.call('HGET', m, 'chunks') or '0')
  for i = 0, chunks - 1 do redis.call('UNLINK', m .. ':' .. i) end
  redis.call('DEL', m, m .. ':pins')
  redis.call('ZREM', orphans, d)
  return 1
end
`;

/** ARGV: prefix, tenant, id, size, now, quotaBytes, maxRecords (-1: none), token, lease end → ok|bytes|records */
export const RESERVE = new LuaScript(`
local p, t, id = ARGV[1], ARGV[2], ARGV[3]
local size, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local quota, maxRecords = tonumber(ARGV[6]), tonumber(ARGV[7])
local base = p .. 'ks:' .. t
local rz, rq = base .. ':resv', base .. ':resvq'
for _, token in ipairs(redis.call('ZRANGEBYSCORE', rz, '-inf', now)) do redis.call('HDEL', rq, token) end
redis.call('ZREMRANGEBYSCORE', rz, '-inf', now)
local live = redis.call('ZRANGEBYSCORE', base .. ':exp', '(' .. now, '+inf')
local used = 0
for _, other in ipairs(live) do used = used + tonumber(redis.call('HGET', base .. ':size', other) or '0') end
local heldBytes, heldRecords = size, 1
local expires = redis.call('ZSCORE', base .. ':exp', id)
if expires and tonumber(expires) > now then heldBytes, heldRecords = 0, 0 end
local takenBytes, takenRecords = 0, 0
for _, v in ipairs(redis.call('HVALS', rq)) do
  local b, r = string.match(v, '^(%d+):(%d+)$')
  takenBytes = takenBytes + tonumber(b)
  takenRecords = takenRecords + tonumber(r)
end
if used + takenBytes + heldBytes > quota then return 'bytes' end
if maxRecords >= 0 and #live + takenRecords + heldRecords > maxRecords then return 'records' end
redis.call('HSET', rq, ARGV[8], string.format('%d:%d', heldBytes, heldRecords))
redis.call('ZADD', rz, ARGV[9], ARGV[8])
return 'ok'
`);

/** ARGV: prefix, tenant, token. Idempotent. */
export const RELEASE = new LuaScript(`
local base = ARGV[1] .. 'ks:' .. ARGV[2]
redis.call('HDEL', base .. ':resvq', ARGV[3])
redis.call('ZREM', base .. ':resv', ARGV[3])
return 1
`);

/**
 * ARGV: prefix, digest, pin token, lease end, now, size, chunks, chunkBytes → { complete, chunkBytes }.
 * Pins the blob for an upload (creating its entry when new) so that nothing removes it before the record lands.
 */
export const PIN = new LuaScript(`
local p, d = ARGV[1], ARGV[2]
local m = p .. 'blob:' .. d
redis.call('ZREMRANGEBYSCORE', m .. ':pins', '-inf', ARGV[5])
redis.call('ZADD', m .. ':pins', ARGV[4], ARGV[3])
if redis.call('EXISTS', m) == 0 then
  redis.call('HSET', m, 'size', ARGV[6], 'chunks', ARGV[7], 'chunkBytes', ARGV[8], 'complete', '0', 'refs', '0')
  redis.call('ZADD', p .. 'blob:orphans', 'NX', ARGV[5], d)
end
return { redis.call('HGET', m, 'complete'), redis.call('HGET', m, 'chunkBytes') }
`);

/**
 * ARGV: prefix, digest → 1 when every chunk is there (they are made permanent and the blob marked complete), else
 * 0. Chunks are written with an expiry, so those of an upload that died never outlive it for long.
 */
export const COMPLETE = new LuaScript(`
local m = ARGV[1] .. 'blob:' .. ARGV[2]
local chunks = tonumber(redis.call('HGET', m, 'chunks') or '-1')
if chunks < 0 then return 0 end
if redis.call('HGET', m, 'complete') == '1' then return 1 end
for i = 0, chunks - 1 do
  if redis.call('EXISTS', m .. ':' .. i) == 0 then return 0 end
end
for i = 0, chunks - 1 do redis.call('PERSIST', m .. ':' .. i) end
redis.call('HSET', m, 'complete', '1')
return 1
`);

/**
 * ARGV: prefix, tenant, id, digest, record JSON, name, size, expiresAt, now, rotation grace, pin token,
 * reservation token ('' for none) → ok|retry. Writes the record (taking a reference on the complete blob), drops
 * the pin and the reservation, and rotates the tenant's other live key set of the same name — all at once.
 */
export const COMMIT = new LuaScript(`
local p, t, id, d = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, grace = tonumber(ARGV[9]), tonumber(ARGV[10])
local m = p .. 'blob:' .. d
if redis.call('HGET', m, 'complete') ~= '1' then return 'retry' end
local base = p .. 'ks:' .. t
if redis.call('HSET', base .. ':rec', id, ARGV[5]) == 1 then redis.call('HINCRBY', m, 'refs', 1) end
redis.call('HSET', base .. ':name', id, ARGV[6])
redis.call('HSET', base .. ':size', id, ARGV[7])
redis.call('HSET', base .. ':digest', id, d)
redis.call('HDEL', base .. ':repl', id)
redis.call('ZADD', base .. ':exp', ARGV[8], id)
redis.call('ZADD', p .. 'ks:exp', ARGV[8], t .. '\\n' .. id)
redis.call('ZREM', p .. 'blob:orphans', d)
redis.call('ZREM', m .. ':pins', ARGV[11])
if ARGV[12] ~= '' then
  redis.call('HDEL', base .. ':resvq', ARGV[12])
  redis.call('ZREM', base .. ':resv', ARGV[12])
end
local names = redis.call('HGETALL', base .. ':name')
for i = 1, #names, 2 do
  local other = names[i]
  if other ~= id and names[i + 1] == ARGV[6] and redis.call('HEXISTS', base .. ':repl', other) == 0 then
    local expires = tonumber(redis.call('ZSCORE', base .. ':exp', other) or '0')
    if expires > now then
      local rotated = string.format('%d', math.min(expires, now + grace))
      redis.call('HSET', base .. ':repl', other, id)
      redis.call('ZADD', base .. ':exp', rotated, other)
      redis.call('ZADD', p .. 'ks:exp', rotated, t .. '\\n' .. other)
    end
  end
end
return 'ok'
`);

/**
 * ARGV: prefix, tenant, id, only-if-expired (1|0), now → 1 when removed. Drops the record and its reference; the
 * blob goes with it when that was the last reference and no upload has it pinned.
 */
export const REMOVE = new LuaScript(`${COLLECT_FUNCTION}
local p, t, id = ARGV[1], ARGV[2], ARGV[3]
local now = tonumber(ARGV[5])
local base = p .. 'ks:' .. t
local d = redis.call('HGET', base .. ':digest', id)
if not d then
  redis.call('ZREM', p .. 'ks:exp', t .. '\\n' .. id)
  return 0
end
if ARGV[4] == '1' and tonumber(redis.call('ZSCORE', base .. ':exp', id) or '0') > now then return 0 end
for _, field in ipairs({ ':rec', ':name', ':size', ':digest', ':repl' }) do redis.call('HDEL', base .. field, id) end
redis.call('ZREM', base .. ':exp', id)
redis.call('ZREM', p .. 'ks:exp', t .. '\\n' .. id)
local m = p .. 'blob:' .. d
if redis.call('EXISTS', m) == 1 and redis.call('HINCRBY', m, 'refs', -1) <= 0 then collect(p, d, now) end
return 1
`);

/** ARGV: prefix, digest, now → 1 when the blob was deleted (unreferenced, unpinned). */
export const COLLECT = new LuaScript(`${COLLECT_FUNCTION}
return collect(ARGV[1], ARGV[2], tonumber(ARGV[3]))
`);
