/**
 * Cursor pagination of a tenant's key-set list. Key sets are ordered by creation time, ties by id, so the order
 * never changes while a client pages through it; a cursor names the last key set served and the next page starts
 * after it. A key set present for the whole listing appears exactly once; one uploaded (or re-uploaded, which
 * renews its creation time) meanwhile appears at the end. Cursors are opaque to clients.
 */
import { check } from '../errors.ts';
import type { KeySetRecord } from './keyset-store.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

interface Position {
  readonly createdAt: number;
  readonly id: string;
}

const POSITION = /^(\d{1,16})\.(ks_[0-9a-f]{32})$/;

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt}.${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  check(match, 'cursor is not one this service issued');
  return { createdAt: Number(match[1]), id: match[2] };
}

const before = (a: Position, b: Position): boolean =>
  a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);

export function byPosition(a: Position, b: Position): number {
  return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/** One page of `records` (already in position order) after `cursor`, and the cursor of the next page if any. */
export function pageOf(
  records: readonly KeySetRecord[],
  options: { limit?: number; cursor?: string },
): { records: KeySetRecord[]; next?: string } {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  check(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_SIZE, `limit must be 1…${MAX_PAGE_SIZE}`);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const start = after === undefined ? 0 : records.findIndex((record) => before(after, record));
  const rest = start === -1 ? [] : records.slice(start);
  const page = rest.slice(0, limit);
  return rest.length > limit ? { records: page, next: encodeCursor(page[page.length - 1]) } : { records: page };
}
