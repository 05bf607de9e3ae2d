/** Shared pool-test setup: an N=8192 client with exactly the galois keys its programs need, and the programs. */
import { createContext, encodeKeySet, programGaloisSteps, type Program } from '../../src/index.ts';
import type { HeftyContext } from '../../src/api/context.ts';
import type { CKKSVector } from '../../src/api/ckks-vector.ts';
import { HeftyError } from '../../src/errors.ts';
import type { BatchItemResult, ItemOutputs } from '../../src/pool/pool.ts';

export const dotProgram: Program = {
  inputs: { x: 'vector', w: 'plain' },
  steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
  outputs: ['z'],
};

export const MATRIX = [
  [0.5, -1, 0.25, 2],
  [1, 1, -0.5, 0],
];

export const matvecProgram: Program = {
  inputs: { x: 'vector' },
  steps: [{ out: 'y', op: 'matvec', args: ['x'], matrix: MATRIX }],
  outputs: ['y'],
};

export interface Client {
  ctx: HeftyContext;
  keySet: Uint8Array;
}

export async function client(polyModulusDegree = 8192): Promise<Client> {
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree });
  ctx.keygen({ galois: programGaloisSteps(dotProgram, ctx.slotCount) });
  return { ctx, keySet: encodeKeySet(ctx.exportKeySet()) };
}

export function encryptBytes(ctx: HeftyContext, values: number[]): Uint8Array {
  const v = ctx.encrypt(values);
  try {
    return v.serialize();
  } finally {
    v.dispose();
  }
}

export function decrypt(ctx: HeftyContext, bytes: Uint8Array): number[] {
  const v = ctx.loadVector(new Uint8Array(bytes)) as CKKSVector;
  try {
    // The exact decoding: these checks measure the pool's arithmetic; nothing is shared.
    return Array.from(v.decrypt({ protection: 'raw' }));
  } finally {
    v.dispose();
  }
}

export const dot = (x: readonly number[], w: readonly number[]): number => x.reduce((s, v, i) => s + v * w[i], 0);
export const matvec = (m: readonly (readonly number[])[], x: readonly number[]): number[] =>
  m.map((row) => dot(row, x));

export function outputsOf(result: BatchItemResult): ItemOutputs {
  if (result instanceof HeftyError) throw result;
  return result;
}

export function codeOf(result: BatchItemResult): string {
  return result instanceof HeftyError ? result.code : 'ok';
}
