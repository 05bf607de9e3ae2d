/**
 * Key-set affinity: which shard queue a key set's jobs go to, and which live worker is a shard's home.
 * Key sets map to shards by jump consistent hashing (Lamping & Veach), so changing the shard count moves only
 * the key sets that must move; shards map to workers by rendezvous (highest random weight) hashing, so a worker
 * joining or leaving moves only the shards it takes or gives up. Both are pure functions of their inputs: every
 * API node and worker agrees on them without talking.
 */
import { createHash } from 'node:crypto';

const LCG_MULTIPLIER = 2862933555777941757n;
const MASK64 = (1n << 64n) - 1n;

function hash64(text: string): bigint {
  return createHash('sha256').update(text).digest().readBigUInt64BE(0);
}

/** Jump consistent hash of `key` into [0, buckets). */
export function jumpHash(key: string, buckets: number): number {
  let k = hash64(key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * LCG_MULTIPLIER + 1n) & MASK64;
    j = Math.floor(((b + 1) * 2 ** 31) / Number((k >> 33n) + 1n));
  }
  return b;
}

export function shardOf(keySetKey: string, shards: number): number {
  return jumpHash(keySetKey, shards);
}

export function shardQueueName(shard: number): string {
  return `shard-${shard}`;
}

/** The live worker whose home a shard is (rendezvous hashing); undefined when no worker is live. */
export function shardHome(shard: number, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const worker of workers) {
    const score = hash64(`${shard}/${worker}`);
    if (score > bestScore || (score === bestScore && best !== undefined && worker < best)) {
      best = worker;
      bestScore = score;
    }
  }
  return best;
}

/** The shards whose home `worker` is, among `workers` (which includes it). */
export function homeShards(worker: string, workers: readonly string[], shards: number): number[] {
  const home: number[] = [];
  for (let s = 0; s < shards; s++) if (shardHome(s, workers) === worker) home.push(s);
  return home;
}
