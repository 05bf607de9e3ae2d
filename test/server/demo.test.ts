/** The private-scoring demo end to end over loopback HTTP, and the embedded default's dev-mode rules. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeftyError } from '../../src/errors.ts';
import { runDemo } from '../../src/demo.ts';
import { HeftyClient } from '../../src/client/client.ts';
import { resolveOptions } from '../../src/server/config.ts';
import { DEV_KEY_FILE, startServer } from '../../src/server/main.ts';
import { tempDir } from './fixtures.ts';

describe('demo and embedded default', () => {
  it('runs the private-scoring demo: decrypted scores match the float64 reference', async () => {
    const lines: string[] = [];
    expect(await runDemo({ log: (line) => lines.push(line) })).toBe(true);
    expect(lines.join('\n')).toMatch(/max \|error\| = .* → OK/);
  });

  it('dev mode: loopback only, with a generated key kept private in the data directory', async () => {
    const dir = tempDir();
    try {
      await expect(
        startServer({ host: '0.0.0.0', dataDir: dir.path }, { env: {}, handleSignals: false }),
      ).rejects.toThrow(HeftyError);
      const server = await startServer(
        { host: '127.0.0.1', port: 0, dataDir: dir.path, logLevel: 'silent' },
        { env: {}, handleSignals: false },
      );
      try {
        const keyFile = join(dir.path, DEV_KEY_FILE);
        expect(existsSync(keyFile)).toBe(true);
        expect(statSync(keyFile).mode & 0o077).toBe(0);
        expect(readFileSync(keyFile, 'utf8').trim()).toBe(server.devKey);
        const anonymous = await fetch(`${server.url}/v1/keysets`);
        expect(anonymous.status).toBe(401);
        const client = new HeftyClient({ baseUrl: server.url, apiKey: server.devKey as string });
        expect(await client.listKeySets()).toEqual({ keysets: [] });
      } finally {
        await server.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('validates options and applies HEFTY_* overrides', () => {
    const options = resolveOptions(
      { port: 9000 },
      { HEFTY_PORT: '9100', HEFTY_API_KEYS: 'abcdefghijklmnop1234:team-a', HEFTY_BACKEND: 'wasm' },
    );
    expect(options).toMatchObject({ port: 9100, backend: 'wasm', apiKeys: { abcdefghijklmnop1234: 'team-a' } });
    expect(() => resolveOptions({ port: -1 }, {})).toThrow(HeftyError);
    expect(() => resolveOptions({ apiKeys: { short: 'a' } }, {})).toThrow(/16 characters/);
    expect(() => resolveOptions({ nonsense: 1 } as never, {})).toThrow(/unknown option/);
    expect(() => resolveOptions({}, { HEFTY_BACKEND: 'gpu' })).toThrow(HeftyError);
  });
});
