/**
 * The native NTT (spec §5) against the spec vectors (N = 8, 16, ramps at 8192/16384, SEAL's tables for the
 * Create(8192/16384) primes) and against the project's BigInt SEAL reference (src/gpu/ntt-tables.ts and
 * reference-ntt.ts, themselves checked against the spec vectors) for N = 1024 … 32768 on node-seal's primes: minimal root ψ, the full R/Rinv tables, forward outputs and the exact inverse.
 * node-seal has no NTT call; its CKKS encoder output (NTT form) must also equal the native encoder's bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { nttTables } from '../../src/gpu/ntt-tables.ts';
import { referenceForwardRow } from '../../src/gpu/reference-ntt.ts';
import { nativeAvailable } from './native-available.ts';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/seal-test-vectors.json', import.meta.url), 'utf8'));
const big = (values: string[]): bigint[] => values.map(BigInt);

function pseudoRandom(n: number, q: bigint, seed: number): BigUint64Array {
  let x = BigInt(seed) | 1n;
  return BigUint64Array.from({ length: n }, () => {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return x % q;
  });
}

const sha256Words = (words: BigUint64Array): string =>
  createHash('sha256')
    .update(new Uint8Array(words.buffer, words.byteOffset, words.byteLength))
    .digest('hex');

describe.runIf(await nativeAvailable())('native NTT', () => {
  let native: NativeBackend;
  let seal: B.Backend;
  beforeAll(async () => {
    native = await createNativeBackend();
    seal = await createWasmBackend();
  });

  it.each(['N=8', 'N=16'])('%s: tables, forward and inverse equal the spec vectors', (key) => {
    const v = VECTORS.ntt[key];
    const n = v.input.length;
    using ntt = native.createNtt(n, [BigInt(v.q)]);
    const tables = ntt.tables(0);
    expect(tables.psi).toBe(BigInt(v.psi));
    expect(tables.nInv).toBe(BigInt(v.n_inv));
    expect(Array.from(tables.rootPowers)).toEqual(big(v.root_powers));
    expect(Array.from(tables.invRootPowers)).toEqual(big(v.inv_root_powers));
    const words = BigUint64Array.from(big(v.input));
    ntt.forward(0, words);
    expect(Array.from(words)).toEqual(big(v.forward));
    ntt.inverse(0, words);
    expect(Array.from(words)).toEqual(big(v.inverse_of_forward));
  });

  it('SEAL tables of the Create(8192) and Create(16384) primes', () => {
    for (const [call, n] of [
      ['Create(8192,{60,40,40,60})', 8192],
      ['Create(16384,{60,40,40,40,40,40,40,60})', 16384],
    ] as const) {
      const primes = VECTORS.coeff_modulus_create[call] as Record<string, string & string[]>[];
      using ntt = native.createNtt(
        n,
        primes.map((p) => BigInt(p.q)),
      );
      primes.forEach((p, i) => {
        const t = ntt.tables(i);
        expect([call, i, t.psi, t.invRootPowers[1], t.nInv]).toEqual([
          call,
          i,
          BigInt(p.psi),
          BigInt(p.psi_inv),
          BigInt(p.n_inv),
        ]);
        expect(Array.from(t.rootPowers.subarray(0, 8))).toEqual(big(p.root_powers_0_7));
        expect(Array.from(t.invRootPowers.subarray(0, 8))).toEqual(big(p.inv_root_powers_0_7));
      });
    }
  });

  it.each(Object.keys(VECTORS.ntt).filter((k) => k.startsWith('ramp')))('%s: a[k] = k', (key) => {
    const v = VECTORS.ntt[key];
    using ntt = native.createNtt(v.N, [BigInt(v.q)]);
    const words = BigUint64Array.from({ length: v.N }, (_, i) => BigInt(i));
    ntt.forward(0, words);
    expect(Array.from(words.subarray(0, 8))).toEqual(big(v.forward_first8));
    expect(words[v.N - 1]).toBe(BigInt(v.forward_last));
    expect(sha256Words(words)).toBe(v.forward_sha256_le_u64);
    ntt.inverse(0, words);
    expect(words.every((w, i) => w === BigInt(i))).toBe(true);
  });

  it.each([1024, 2048, 4096, 8192, 16384, 32768])('N=%i on node-seal primes equals the BigInt model', (n) => {
    const bits = n === 1024 ? [27] : n === 2048 ? [54] : [60, 40];
    const primes = seal.coeffModulusCreate(n, bits);
    expect(native.coeffModulusCreate(n, bits)).toEqual(primes);
    using ntt = native.createNtt(n, primes);
    primes.forEach((q, i) => {
      const model = nttTables(n, q);
      const t = ntt.tables(i);
      expect(t.psi).toBe(model.psi);
      expect(Array.from(t.rootPowers)).toEqual(model.rootPowers);
      expect(Array.from(t.invRootPowers)).toEqual(model.invRootPowers);
      expect(t.nInv).toBe(model.nInv);
      const input = pseudoRandom(n, q, n + i);
      const words = input.slice();
      ntt.forward(i, words);
      const expected = input.slice();
      referenceForwardRow(expected, q);
      expect(words).toEqual(expected);
      ntt.inverse(i, words);
      expect(words).toEqual(input);
    });
  });

  it.each([1024, 2048, 4096, 8192, 16384, 32768])('N=%i: CKKS encodings (NTT form) equal node-seal bytes', (n) => {
    const bits = n === 1024 ? [27] : n === 2048 ? [30, 24] : n === 4096 ? [36, 36, 36] : [50, 40, 50];
    const params: B.ParamsSpec = {
      scheme: 'ckks',
      polyModulusDegree: n,
      coeffModulus: seal.coeffModulusCreate(n, bits),
    };
    const scale = 2 ** (n <= 2048 ? 20 : 40);
    const values = Float64Array.from({ length: n / 2 }, (_, i) => Math.sin(i) * 3);
    const sealCtx = seal.createContext(params, 128);
    const nativeCtx = native.createContext(params, 128);
    const expected = sealCtx.createCkksEncoder().encode(values, scale).save();
    expect(Buffer.from(nativeCtx.createCkksEncoder().encode(values, scale).save()).equals(Buffer.from(expected))).toBe(
      true,
    );
    sealCtx.dispose();
    nativeCtx.dispose();
  });

  it('refuses words that are not N residues of the prime', () => {
    using ntt = native.createNtt(16, [BigInt(VECTORS.ntt['N=16'].q)]);
    const code = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(code(() => ntt.forward(0, new BigUint64Array(15)))).toBe('E_LENGTH_MISMATCH');
    expect(code(() => ntt.forward(0, new BigUint64Array(16).fill(1n << 62n)))).toBe('E_INVALID_ARGUMENT');
    expect(code(() => ntt.inverse(1, new BigUint64Array(16)))).toBe('E_INVALID_ARGUMENT');
    expect(code(() => native.createNtt(16, [15n]))).toBe('E_INVALID_PARAMS');
  });
});
