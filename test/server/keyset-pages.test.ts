/** GET /v1/keysets pages by cursor: stable order, bounded limit, every key set once, bad cursors are 400. */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeftyClient } from '../../src/client/client.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE } from '../../src/server/keyset-pages.ts';
import { ALICE, auth, BOB, tempDir, testApp } from './fixtures.ts';

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let stored: string[];

interface Page {
  keysets: { id: string; createdAt: string }[];
  next?: string;
}

const list = async (
  query: string,
  key: string = ALICE,
): Promise<{ status: number; body: Page & { code?: string } }> => {
  const response = await app.inject({ url: `/v1/keysets${query}`, headers: auth(key) });
  return { status: response.statusCode, body: response.json() };
};

/** Follows `next` from the first page to the last; `between` runs after each page. */
async function walk(limit: number, between: (page: number) => Promise<void> = async () => {}): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await list(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(status).toBe(200);
    expect(body.keysets.length).toBeLessThanOrEqual(limit);
    pages.push(body.keysets.map((k) => k.id));
    cursor = body.next;
    await between(pages.length);
  } while (cursor);
  return pages;
}

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path);
  // Stored directly: the store takes any bytes, and several land in the same millisecond (ties go by id).
  for (let i = 0; i < 7; i++) await app.services.store.put('alice', randomBytes(64));
  stored = (await app.services.store.list('alice')).map((r) => r.id);
});

afterAll(async () => {
  await app?.close();
  dir?.remove();
});

describe('GET /v1/keysets pagination', () => {
  it('serves every key set once, oldest first (ties by id), in pages of `limit` with a `next` cursor', async () => {
    const records = await app.services.store.list('alice');
    for (let i = 1; i < records.length; i++) {
      const [a, b] = [records[i - 1], records[i]];
      expect(a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id)).toBe(true);
    }
    const pages = await walk(3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(stored);
    // Without a limit one page holds them all and has no `next`.
    const all = await list('');
    expect(all.body.keysets.map((k) => k.id)).toEqual(stored);
    expect(all.body.next).toBeUndefined();
    // An exact multiple of the page size: the last full page has no `next`.
    expect((await walk(7)).map((p) => p.length)).toEqual([7]);
  });

  it('keeps its place while key sets come and go: nothing served twice, new ones at the end', async () => {
    let added = '';
    const pages = await walk(2, async (page) => {
      if (page !== 1) return;
      await app.services.store.delete('alice', stored[0]); // already served
      await app.services.store.delete('alice', stored[4]); // not yet served
      added = (await app.services.store.put('alice', randomBytes(64))).id;
    });
    const seen = pages.flat();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...stored.filter((id) => id !== stored[4]), added]);
    stored = (await app.services.store.list('alice')).map((r) => r.id);
  });

  it('lists only the caller’s key sets', async () => {
    const { status, body } = await list('?limit=5', BOB);
    expect(status).toBe(200);
    expect(body).toEqual({ keysets: [] });
  });

  it('refuses a limit out of range and a cursor it did not issue with 400 E_INVALID_ARGUMENT', async () => {
    const forged = Buffer.from('12.ks_nothex').toString('base64url');
    for (const query of [
      '?limit=0',
      `?limit=${MAX_PAGE_SIZE + 1}`,
      '?limit=x',
      '?cursor=%25%25',
      `?cursor=${forged}`,
    ]) {
      const { status, body } = await list(query);
      expect({ query, status, code: body.code }).toEqual({ query, status: 400, code: 'E_INVALID_ARGUMENT' });
    }
    expect((await list(`?limit=${MAX_PAGE_SIZE}`)).status).toBe(200);
  });

  it('round-trips a cursor and rejects garbage without throwing anything untyped', () => {
    const position = { createdAt: 1_764_000_000_123, id: stored[0] };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    for (const bad of ['', 'AAAA', Buffer.from(`1.${stored[0]}.x`).toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
    }
  });

  it('hefty/client pages through them: listKeySets({ limit, cursor }) and the keySets() iterator', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const client = new HeftyClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: ALICE });
    const first = await client.listKeySets({ limit: 4 });
    expect(first.keysets.map((k) => k.id)).toEqual(stored.slice(0, 4));
    const second = await client.listKeySets({ limit: 4, cursor: first.next });
    expect(second.keysets.map((k) => k.id)).toEqual(stored.slice(4));
    expect(second.next).toBeUndefined();
    const all: string[] = [];
    for await (const keySet of client.keySets({ pageSize: 2 })) all.push(keySet.id);
    expect(all).toEqual(stored);
  });
});
