/**
 * The batch encoder's slot values cross into the addon as a BigInt64Array and come back as one (the addon checks
 * the range (-t/2, t/2] and maps values to residues below t and back). For BFV and BGV: the edges of the range,
 * ±1, 0 and the largest plain modulus (60 bits) encode to node-seal's plaintext bytes and decode back exactly;
 * values just outside the range and the int64 extremes fail with E_VALUE_OUT_OF_RANGE naming the value.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { HeftyError } from '../../src/errors.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

const N = 4096;
const SCHEMES: B.Scheme[] = ['bfv', 'bgv'];

function encoderOf(backend: B.Backend, scheme: B.Scheme, plainBits: number): { encoder: B.BatchEncoder; t: bigint } {
  const plainModulus = backend.plainModulusBatching(N, plainBits);
  const ctx = backend.createContext(
    { scheme, polyModulusDegree: N, coeffModulus: backend.coeffModulusBfvDefault(N, 128), plainModulus },
    128,
  );
  return { encoder: ctx.createBatchEncoder(), t: plainModulus };
}

/** The range's edges and a spread of values inside it, cycled over all slots. */
function edgeValues(t: bigint): BigInt64Array {
  const half = t / 2n;
  const picks = [half, -half, 1n, -1n, 0n, half - 1n, -half + 1n, 12345n, -12345n];
  return BigInt64Array.from({ length: N }, (_, i) => picks[i % picks.length]);
}

describe.runIf(await nativeAvailable())('native batch encoder slot values', () => {
  let native: B.Backend;
  let seal: B.Backend;
  beforeAll(async () => {
    native = await createNativeBackend();
    seal = await createWasmBackend();
  });

  for (const scheme of SCHEMES) {
    for (const plainBits of [20, 60]) {
      it(`${scheme}, ${plainBits}-bit t: edge values encode to node-seal's bytes and decode back`, () => {
        const mine = encoderOf(native, scheme, plainBits);
        const oracle = encoderOf(seal, scheme, plainBits);
        expect(mine.t).toBe(oracle.t);
        const values = edgeValues(mine.t);
        const plain = mine.encoder.encode(values);
        expect(plain.save('none')).toEqual(oracle.encoder.encode(values).save('none'));
        expect(mine.encoder.decode(plain)).toEqual(values);
        // Fewer values than slots: the rest decode as zero.
        const short = values.slice(0, 10);
        const decoded = mine.encoder.decode(mine.encoder.encode(short));
        expect(decoded.length).toBe(N);
        expect(decoded.slice(0, 10)).toEqual(short);
        expect(decoded.slice(10).every((v) => v === 0n)).toBe(true);
      });

      it(`${scheme}, ${plainBits}-bit t: values outside (-t/2, t/2] fail with E_VALUE_OUT_OF_RANGE`, () => {
        const { encoder, t } = encoderOf(native, scheme, plainBits);
        const half = t / 2n;
        for (const bad of [half + 1n, -half - 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
          const values = new BigInt64Array(8);
          values[5] = bad;
          let error: unknown;
          try {
            encoder.encode(values);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(HeftyError);
          expect((error as HeftyError).code).toBe('E_VALUE_OUT_OF_RANGE');
          expect((error as HeftyError).message).toContain(`value ${bad} is outside (-t/2, t/2] for t = ${t}`);
        }
      });
    }
  }
});
