/**
 * The native backend serves BGV: it reports the scheme, `auto` picks it for BGV, BGV parameters round-trip through
 * SEAL's EncryptionParameters bytes (scheme byte 3, as node-seal writes them), and the off-event-loop evaluator
 * variants give the same bytes as the synchronous ones.
 */
import { describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeEvaluator } from '../../src/backend/native.ts';
import { loadBackend } from '../../src/backend/load.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
import { SealBgv } from './seal-oracle.ts';

describe.runIf(await nativeAvailable())('the native backend serves BGV', () => {
  it('reports BGV, and auto picks native for it', async () => {
    const native = await createNativeBackend();
    expect(native.capabilities.schemes).toContain('bgv');
    expect((await loadBackend('auto', 'bgv')).name).toBe('native');
  });

  it("BGV parameters save as node-seal's bytes and load back", async () => {
    const native = await createNativeBackend();
    const params: B.ParamsSpec = {
      scheme: 'bgv',
      polyModulusDegree: 8192,
      coeffModulus: native.coeffModulusBfvDefault(8192, 128),
      plainModulus: native.plainModulusBatching(8192, 20),
    };
    const seal = await SealBgv.create(8192, params.coeffModulus, params.plainModulus as bigint);
    const bytes = native.saveParams(params);
    expect(Buffer.from(bytes).equals(Buffer.from(seal.paramsBytes()))).toBe(true);
    expect(native.loadParams(bytes)).toEqual({ ...params, coeffModulus: [...params.coeffModulus] });
    // The scheme byte enters the parms_id: BGV and BFV chains on the same primes differ.
    const bgv = native.createContext(params, 128);
    const bfv = native.createContext({ ...params, scheme: 'bfv' }, 128);
    expect(bgv.firstParmsId).not.toBe(bfv.firstParmsId);
    expect(bgv.slotCount).toBe(8192);
  });

  it('refuses what BGV does not have, with typed errors', async () => {
    const native = await createNativeBackend();
    const ctx = native.createContext(
      {
        scheme: 'bgv',
        polyModulusDegree: 4096,
        coeffModulus: native.coeffModulusBfvDefault(4096, 128),
        plainModulus: native.plainModulusBatching(4096, 20),
      },
      128,
    );
    const code = (fn: () => unknown): string => {
      try {
        fn();
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(HeftyError);
        return (e as HeftyError).code;
      }
    };
    expect(code(() => ctx.createCkksEncoder())).toBe('E_UNSUPPORTED');
    const gen = ctx.createKeyGenerator();
    const ct = ctx
      .createEncryptor({ secretKey: gen.secretKey() })
      .encryptSymmetric(ctx.createBatchEncoder().encode(BigInt64Array.from([1n, 2n])));
    const ev = ctx.createEvaluator();
    expect(code(() => ev.rescaleToNext(ct))).toBe('E_UNSUPPORTED');
    expect(code(() => ev.rotateVector(ct, 1, gen.createGaloisKeys([1])))).toBe('E_UNSUPPORTED');
    expect(code(() => ev.modSwitchToNext(ev.modSwitchToNext(ct)))).toBe('E_LEVEL_EXHAUSTED');
    expect(code(() => native.createContext({ ...ctx.params, plainModulus: undefined }, 128))).toBe('E_INVALID_PARAMS');
    expect(code(() => native.createContext({ ...ctx.params, plainModulus: 2n ** 61n }, 128))).toBe('E_INVALID_PARAMS');
  });

  it('async evaluator variants give the bytes of the synchronous ones', async () => {
    const native = await createNativeBackend();
    const ctx = native.createContext(
      {
        scheme: 'bgv',
        polyModulusDegree: 4096,
        coeffModulus: native.coeffModulusBfvDefault(4096, 128),
        plainModulus: native.plainModulusBatching(4096, 20),
      },
      128,
    );
    const gen = ctx.createKeyGenerator();
    const rk = gen.createRelinKeys();
    const plain = ctx.createBatchEncoder().encode(BigInt64Array.from({ length: 4096 }, (_, i) => BigInt(i % 9)));
    const ct = ctx.createEncryptor({ secretKey: gen.secretKey() }).encryptSymmetric(plain);
    const ev = ctx.createEvaluator() as NativeEvaluator;
    const same = (a: B.Ciphertext, b: B.Ciphertext): boolean => Buffer.from(a.save()).equals(Buffer.from(b.save()));
    expect(same(await ev.multiplyAsync(ct, ct), ev.multiply(ct, ct))).toBe(true);
    expect(same(await ev.squareAsync(ct), ev.square(ct))).toBe(true);
    expect(same(await ev.multiplyPlainAsync(ct, plain), ev.multiplyPlain(ct, plain))).toBe(true);
    const product = ev.multiply(ct, ct);
    expect(same(await ev.relinearizeAsync(product, rk), ev.relinearize(product, rk))).toBe(true);
  });
});
