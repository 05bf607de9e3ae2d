/**
 * Parameters on the native engine against the spec vectors and node-seal (the oracle) for N = 1024 … 32768:
 * CoeffModulus.Create, PlainModulus.Batching, BFVDefault, the security table (MaxBitCount) and SEAL's parms_id
 * of every chain level, for CKKS and BFV parameters alike.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { nativeAvailable } from './native-available.ts';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/seal-test-vectors.json', import.meta.url), 'utf8'));

const DEGREES = [1024, 2048, 4096, 8192, 16384, 32768];
const SECURITY = [128, 192, 256] as const;
/** Bit sizes per N that fit the 128-bit limit, with repeats (equal sizes come out in increasing order). */
const CHAINS: Record<number, number[]> = {
  1024: [27],
  2048: [20, 20],
  4096: [36, 36, 36],
  8192: [60, 40, 40, 60],
  16384: [60, 40, 40, 40, 40, 40, 40, 60],
  32768: [60, 50, 50, 50, 50, 60],
};

const hexWords = (words: string[]): string => words.map((w) => w.replace(/^0x/, '').padStart(16, '0')).join('');

describe.runIf(await nativeAvailable())('native parameters equal node-seal and the spec vectors', () => {
  let native: NativeBackend;
  let seal: B.Backend;
  beforeAll(async () => {
    native = await createNativeBackend();
    seal = await createWasmBackend();
  });

  it('CoeffModulus.Create: the spec vectors', () => {
    const created = VECTORS.coeff_modulus_create;
    expect(native.coeffModulusCreate(8192, [60, 40, 40, 60]).map(String)).toEqual(
      created['Create(8192,{60,40,40,60})'].map((p: { q: string }) => p.q),
    );
    expect(native.coeffModulusCreate(16384, [60, 40, 40, 40, 40, 40, 40, 60]).map(String)).toEqual(
      created['Create(16384,{60,40,40,40,40,40,40,60})'].map((p: { q: string }) => p.q),
    );
    expect(native.coeffModulusCreate(8192, [60, 60, 60]).map(String)).toEqual(
      created['Create(8192,{60,60,60}) (shows assignment order)'],
    );
  });

  it.each(DEGREES)('CoeffModulus.Create and PlainModulus.Batching at N=%i equal node-seal', (n) => {
    expect(native.coeffModulusCreate(n, CHAINS[n])).toEqual(seal.coeffModulusCreate(n, CHAINS[n]));
    const sizes = [17, 20, 24, 30, 36, 40, 45, 50, 55, 60];
    expect(native.coeffModulusCreate(n, sizes)).toEqual(seal.coeffModulusCreate(n, sizes));
    for (const bits of sizes) {
      expect([bits, native.plainModulusBatching(n, bits)]).toEqual([bits, seal.plainModulusBatching(n, bits)]);
    }
  });

  it('PlainModulus.Batching: the spec vectors', () => {
    for (const [call, value] of Object.entries(VECTORS.plain_modulus_batching as Record<string, string>)) {
      const [n, bits] = call.match(/\d+/g)!.map(Number);
      expect([call, String(native.plainModulusBatching(n, bits))]).toEqual([call, value]);
    }
  });

  it('the security table (CoeffModulus.MaxBitCount) and BFVDefault equal node-seal and the vectors', () => {
    const table = VECTORS.he_std_max_coeff_modulus_bits_tc128_tc192_tc256 as Record<string, number[]>;
    for (const n of [512, ...DEGREES, 65536]) {
      SECURITY.forEach((security, i) => {
        const bits = native.maxCoeffModulusBits(n, security);
        expect([n, security, bits]).toEqual([n, security, seal.maxCoeffModulusBits(n, security)]);
        expect(bits).toBe(table[n]?.[i] ?? 0);
      });
    }
    for (const n of DEGREES) {
      for (const security of SECURITY) {
        const primes = native.coeffModulusBfvDefault(n, security);
        expect(primes).toEqual(seal.coeffModulusBfvDefault(n, security));
        expect(primes.map(String)).toEqual(VECTORS.bfv_default_coeff_modulus[security][n]);
      }
    }
    expect(() => native.coeffModulusBfvDefault(65536, 128)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_PARAMS' }),
    );
  });

  it('parms_id of every level: the spec vectors (CKKS and BFV)', () => {
    const ids = VECTORS.parms_id;
    const ckks8192 = {
      scheme: 'ckks',
      polyModulusDegree: 8192,
      coeffModulus: native.coeffModulusCreate(8192, [60, 40, 40, 60]),
    } as const;
    expect(native.chainParmsIds(ckks8192)).toEqual(
      ids['ckks8192_{60,40,40,60}'].map((l: { parms_id_words_hex: string[] }) => hexWords(l.parms_id_words_hex)),
    );
    const ckks16384 = {
      scheme: 'ckks',
      polyModulusDegree: 16384,
      coeffModulus: native.coeffModulusCreate(16384, [60, 40, 40, 40, 40, 40, 40, 60]),
    } as const;
    expect(native.chainParmsIds(ckks16384)).toEqual(
      ids['ckks16384_{60,40x6,60}'].map((l: { parms_id_words_hex: string[] }) => hexWords(l.parms_id_words_hex)),
    );
    const bfv = {
      scheme: 'bfv',
      polyModulusDegree: 4096,
      coeffModulus: native.coeffModulusBfvDefault(4096, 128),
      plainModulus: native.plainModulusBatching(4096, 20),
    } as const;
    expect(native.chainParmsIds(bfv)).toEqual(
      ids['bfv4096_BFVDefault_t=Batching(4096,20)'].map((l: { parms_id_words_hex: string[] }) =>
        hexWords(l.parms_id_words_hex),
      ),
    );
  });

  it.each(DEGREES)('parms_id of every level at N=%i equals node-seal (CKKS and BFV)', (n) => {
    const cases: B.ParamsSpec[] = [
      { scheme: 'ckks', polyModulusDegree: n, coeffModulus: seal.coeffModulusCreate(n, CHAINS[n]) },
      {
        scheme: 'bfv',
        polyModulusDegree: n,
        // node-seal builds BFV contexts with many primes slowly (11 s at 32768): short chains at large N.
        coeffModulus: n <= 8192 ? seal.coeffModulusBfvDefault(n, 128) : seal.coeffModulusCreate(n, [50, 50, 50]),
        plainModulus: seal.plainModulusBatching(n, n === 1024 ? 14 : 20),
      },
    ];
    for (const params of cases) {
      const oracle = seal.createContext(params, 128);
      const expected = oracle.levels.map((l) => l.parmsId);
      oracle.dispose();
      expect(native.chainParmsIds(params), `${params.scheme} N=${n}`).toEqual(expected);
      if (params.scheme === 'ckks') {
        const ctx = native.createContext(params, 128);
        expect(ctx.levels.map((l) => l.parmsId)).toEqual(expected);
        expect(ctx.levels.map((l) => l.primes)).toEqual(
          expected.map((_, i) => params.coeffModulus.slice(0, params.coeffModulus.length - i)),
        );
        ctx.dispose();
      }
    }
  });
});
