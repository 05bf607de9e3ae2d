/**
 * The Redis test harness itself (test/helpers/redis.ts): private servers on distinct loopback ports, ready when
 * started, data gone without persistence and kept with AOF across a restart, directory removed on stop.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';

describeWithRedis('redis test harness', (binary) => {
  const servers: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function client(server: RedisServer): Promise<Redis> {
    const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    return redis;
  }

  it('starts two servers on distinct loopback ports, each answering at once', async () => {
    servers.push(await startRedis(binary), await startRedis(binary));
    const [a, b] = servers;
    expect(a.port).not.toBe(b.port);
    expect(a.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const [ra, rb] = [await client(a), await client(b)];
    await ra.set('k', 'a');
    expect(await rb.get('k')).toBeNull();
    expect(await ra.get('k')).toBe('a');
    ra.disconnect();
    rb.disconnect();
  });

  it('without persistence a restart is empty; with AOF the data survives', async () => {
    const plain = await startRedis(binary);
    const durable = await startRedis(binary, { appendOnly: true });
    servers.push(plain, durable);
    for (const server of [plain, durable]) {
      const redis = await client(server);
      await redis.set('k', 'v');
      redis.disconnect();
      await server.halt();
      expect(server.running).toBe(false);
      await server.start();
      expect(server.running).toBe(true);
    }
    const [rp, rd] = [await client(plain), await client(durable)];
    expect(await rp.get('k')).toBeNull();
    expect(await rd.get('k')).toBe('v');
    rp.disconnect();
    rd.disconnect();
  });

  it('stop() ends the process and removes its directory; a refused start reports the server output', async () => {
    const server = await startRedis(binary);
    await server.stop();
    expect(server.running).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await expect(startRedis(binary, { config: { 'no-such-directive': 'x' } })).rejects.toThrow(/no-such-directive/i);
  });
});
