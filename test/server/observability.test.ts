/**
 * What operators see: Prometheus conventions (counters end in _total, hefty_info names the engine), log lines
 * with one msg, a start-up line with engine, workers, data dir and auth mode, a taken port as one line with a
 * code; and what client code sees when the service is down: E_UNAVAILABLE, not `TypeError: fetch failed`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HeftyClient } from '../../src/client/client.ts';
import { HeftyError } from '../../src/errors.ts';
import { auth, tempDir, testApp } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

describe('metrics', () => {
  it('counters end in _total, and hefty_info names version, engine and SIMD path', async () => {
    const app = await testApp(dir.path, { executor: 'inline' });
    try {
      await app.inject({ url: `/v1/keysets/ks_${'0'.repeat(32)}`, headers: auth() });
      const text = (await app.inject({ url: '/metrics' })).body;
      const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }));
      const hefty = types.filter(({ name }) => name.startsWith('hefty_') && !name.startsWith('hefty_nodejs_'));
      expect(hefty.length).toBeGreaterThan(5);
      for (const { name, type } of hefty) expect(type === 'counter', name).toBe(name.endsWith('_total'));
      expect(text).toContain('# TYPE hefty_upload_cache_hits_total counter');
      expect(text).toMatch(
        /^hefty_info\{version="[\d.]+",engine="(native|wasm)",simd="[a-z0-9-]+",node="[\d.]+"\} 1$/m,
      );
    } finally {
      await app.close();
    }
  });
});

describe('hefty serve', () => {
  it('logs one start-up line with engine, workers, data dir and auth mode, and JSON lines with one msg', async () => {
    const data = `${dir.path}/serve`;
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', data, '--workers', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (line.includes('"url"')) break;
      }
      const startup = JSON.parse(lines.at(-1) as string);
      expect(startup).toMatchObject({
        level: 30,
        engine: expect.stringMatching(/^(native|wasm)$/),
        workers: 1,
        executor: 'pool',
        dataDir: data,
        auth: 'dev-key',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
      expect(startup.msg).toMatch(/^hefty [\d.]+ listening on http/);
      // A refused request logs its reason in the one msg.
      await fetch(`${startup.url}/v1/keysets`);
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (line.includes('request refused')) break;
      }
      for (const line of lines) expect(line.match(/"msg":/g)?.length ?? 1, line).toBe(1);
      expect(lines.at(-1)).toContain('request refused: a valid API key is required');
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });

  it('a taken port is one line with a code and exit status 1', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as { port: number };
      const run = spawnSync(
        process.execPath,
        [CLI, 'serve', '--port', String(port), '--data-dir', `${dir.path}/taken`],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^hefty: E_UNAVAILABLE: cannot listen: .*EADDRINUSE/),
      ]);
    } finally {
      blocker.close();
    }
  });
});

describe('client', () => {
  it('a service that is down is E_UNAVAILABLE, after retries', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    closed.close();
    await once(closed, 'close');
    const client = new HeftyClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'x'.repeat(20), networkRetries: 1 });
    const error = await client.listKeySets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeftyError);
    expect(error).toMatchObject({ code: 'E_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
  });
});
