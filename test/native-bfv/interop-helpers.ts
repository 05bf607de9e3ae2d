/** What the native ⇄ node-seal interop suites of the integer schemes (BFV, BGV) share. */
import type * as B from '../../src/backend/types.ts';

/** Chains small enough for shared CI machines at large N, with room for two multiplications from N = 8192 on. */
export const CHAINS: Record<number, (b: B.Backend) => bigint[]> = {
  4096: (b) => b.coeffModulusBfvDefault(4096, 128),
  8192: (b) => b.coeffModulusBfvDefault(8192, 128),
  16384: (b) => b.coeffModulusCreate(16384, [50, 50, 50, 50]),
  32768: (b) => b.coeffModulusCreate(32768, [55, 55, 55, 55]),
};

/** The steps given Galois keys (0: the column rotation); +3 has none and is composed from -1 and +4. */
export const STEPS = [1, -1, 4, 0];

/** Both batching rows of `v` rotated left by `steps`. */
export function rotateRows(v: bigint[], steps: number): bigint[] {
  const half = v.length / 2;
  return v.map((_, i) => {
    const row = i < half ? 0 : half;
    return v[row + ((((i - row + steps) % half) + half) % half)];
  });
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Who makes the keys and inputs the other engine loads, and whether the keys travel seeded. */
export const MAKERS = [
  { label: 'node-seal keys (seeded) and inputs', makerIsSeal: true, seeded: true },
  { label: 'node-seal keys (full) and inputs', makerIsSeal: true, seeded: false },
  { label: 'native keys (seeded) and inputs', makerIsSeal: false, seeded: true },
  { label: 'native keys (full) and inputs', makerIsSeal: false, seeded: false },
];
