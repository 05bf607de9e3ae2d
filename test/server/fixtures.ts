/** Shared setup for the service tests: a temp data dir, two tenants, a small CKKS client with its key set. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext, encodeKeySet, programGaloisSteps, type Program } from '../../src/index.ts';
import type { HeftyContext } from '../../src/api/context.ts';
import type { CKKSVector } from '../../src/api/ckks-vector.ts';
import { buildApp, type HeftyApp } from '../../src/server/app.ts';
import type { ServerOptions } from '../../src/server/config.ts';

export const ALICE = 'alice-key-0123456789abcdef';
export const BOB = 'bob-key-0123456789abcdef00';
export const API_KEYS = { [ALICE]: 'alice', [BOB]: 'bob' };
export const auth = (key: string = ALICE): Record<string, string> => ({ authorization: `Bearer ${key}` });
export const octet = { 'content-type': 'application/octet-stream' };

export const dotProgram: Program = {
  inputs: { x: 'vector', w: 'plain' },
  steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
  outputs: ['z'],
};

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'hefty-server-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function testApp(dataDir: string, options: Partial<ServerOptions> = {}): Promise<HeftyApp> {
  return buildApp({ dataDir, apiKeys: API_KEYS, logLevel: 'silent', ...options });
}

/** N=4096 client with the galois keys a dot product needs; keySet is the HFKS envelope to upload. */
export async function smallClient(galois: boolean = true): Promise<{ ctx: HeftyContext; keySet: Uint8Array }> {
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
  ctx.keygen(galois ? { galois: programGaloisSteps(dotProgram, ctx.slotCount) } : {});
  return { ctx, keySet: encodeKeySet(ctx.exportKeySet()) };
}

export function decryptFirst(ctx: HeftyContext, bytes: Uint8Array, count: number): number[] {
  // A plain Uint8Array copy: node-seal's embind layer refuses Buffer views.
  const v = ctx.loadVector(new Uint8Array(bytes)) as CKKSVector;
  try {
    // The exact decoding: these checks measure the service's arithmetic; nothing is shared.
    return Array.from(v.decrypt({ protection: 'raw' })).slice(0, count);
  } finally {
    v.dispose();
  }
}

export const dotReference = (x: number[], w: number[]): number => x.reduce((s, v, i) => s + v * w[i], 0);
