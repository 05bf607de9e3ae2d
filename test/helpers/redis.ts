/**
 * Suites that need Redis: `describeWithRedis` runs them against real redis-server processes (redis-server.ts).
 * Under CI (`CI` set, or HEFTY_REQUIRE_REDIS=1 as .ci/run sets) a missing Redis fails the suite; elsewhere the
 * suite is skipped with the reason.
 */
import { describe, it, expect } from 'vitest';
import { redisBinary } from './redis-server.ts';

export {
  redisBinary,
  startRedis,
  type RedisBinary,
  type RedisServer,
  type RedisServerOptions,
} from './redis-server.ts';

/** Whether a missing Redis is a failure here (CI) rather than a skip. */
export function redisRequired(): boolean {
  const ci = process.env.CI;
  return (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') || process.env.HEFTY_REQUIRE_REDIS === '1';
}

/**
 * `describe` for suites that need Redis: runs `body` when a redis-server binary is available; otherwise one
 * failing test under CI, or an explicit skip saying why.
 */
export function describeWithRedis(name: string, body: (binary: string) => void): void {
  const binary = redisBinary();
  if ('path' in binary) {
    describe(name, () => body(binary.path));
    return;
  }
  describe(name, () => {
    if (redisRequired()) {
      it('redis-server is required (CI)', () => {
        expect.fail(`no redis-server: ${binary.missing}`);
      });
    } else {
      it.skip(`skipped: no redis-server (${binary.missing})`, () => {});
    }
  });
}
