/**
 * Key sets on the wire: exportKeySet() ships SEAL's seeded form with zstd by default. node-seal (the oracle)
 * loads that key set, computes with it (relinearized product, rescale, rotation) and hefty decrypts the result;
 * the full and uncompressed forms stay available and load too.
 */
import SEAL from 'node-seal';
import { describe, expect, it } from 'vitest';
import { createContext, loadContext } from '../../src/api/context.ts';
import { decodeKeySet, encodeKeySet } from '../../src/api/bundle.ts';
import type { CKKSVector } from '../../src/api/ckks-vector.ts';
import { backendsUnderTest, maxAbsError, randomVector } from '../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const N = 8192;
const STEPS = [1, 3, -2];
const COMPR_MODE = { none: 0, zlib: 1, zstd: 2 };

/** compr_mode of a SEAL object (header byte 5). */
function comprMode(bytes: Uint8Array): number {
  expect([bytes[0], bytes[1]]).toEqual([0x5e, 0xa1]);
  return bytes[5];
}

function total(bundle: object): number {
  return Object.values(bundle).reduce((sum: number, b: Uint8Array) => sum + b.length, 0);
}

describe.each(await backendsUnderTest())('exported key sets (%s)', (backend) => {
  it('are seeded and zstd-compressed by default, about 2.3× smaller than the full form', async () => {
    using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend });
    ctx.keygen({ galois: STEPS });
    const wire = ctx.exportKeySet();
    for (const bytes of Object.values(wire)) expect(comprMode(bytes)).toBe(COMPR_MODE.zstd);
    const full = ctx.exportKeySet({ form: 'full', compression: 'none' });
    const seededRaw = ctx.exportKeySet({ compression: 'none' });
    // Seeded: every key-switching key keeps c0 and replaces c1 by a seed (spec §1.9): half the words.
    expect(seededRaw.galoisKeys!.length).toBeLessThan(full.galoisKeys!.length * 0.51);
    expect(seededRaw.relinKeys!.length).toBe(787_078); // spec §1.7 for N=8192, K=4
    expect(full.relinKeys!.length).toBe(1_573_267);
    // zstd packs the words below 2^60/2^40 primes: the default is well under half the full, uncompressed form.
    expect(total(wire)).toBeLessThan(total(full) * 0.46);
    // Every form loads and computes the same way.
    for (const bundle of [wire, full, seededRaw, ctx.exportKeySet({ form: 'full' })]) {
      using server = await loadContext(decodeKeySet(encodeKeySet(bundle)), { backend });
      const x = randomVector(64, 5);
      const result = server.loadVector(ctx.encrypt(x).serialize()) as CKKSVector;
      using rotated = result.rotate(3);
      const back = ctx.loadVector(rotated.serialize()) as CKKSVector;
      expect(maxAbsError(back.decrypt(RAW).subarray(0, 61), x.slice(3))).toBeLessThan(1e-4);
      result.dispose();
      back.dispose();
    }
  });

  it('load in node-seal, which computes with them; hefty decrypts the result', async () => {
    using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend });
    ctx.keygen({ galois: STEPS });
    const wire = ctx.exportKeySet();
    const seal = await SEAL();
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    parms.loadFromArray(wire.params);
    const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
    expect(context.parametersSet()).toBe(true);
    const publicKey = new seal.PublicKey();
    publicKey.loadFromArray(context, wire.publicKey!);
    const relinKeys = new seal.RelinKeys();
    relinKeys.loadFromArray(context, wire.relinKeys!);
    const galoisKeys = new seal.GaloisKeys();
    galoisKeys.loadFromArray(context, wire.galoisKeys!);
    for (const step of STEPS) {
      expect(galoisKeys.hasKey(ctx.session.ctx.galoisElt(step))).toBe(true);
    }

    const encoder = new seal.CKKSEncoder(context);
    const encryptor = new seal.Encryptor(context, publicKey);
    const evaluator = new seal.Evaluator(context);
    const x = randomVector(N / 2, 11);
    const y = randomVector(N / 2, 12);
    const encrypt = (values: number[]) => {
      const plain = new seal.Plaintext();
      const cipher = new seal.Ciphertext();
      encoder.encode(Float64Array.from(values), ctx.scale, plain);
      encryptor.encrypt(plain, cipher);
      plain.delete();
      return cipher;
    };
    const cx = encrypt(x);
    const cy = encrypt(y);
    const [product, relinearized, rescaled, rotated] = [0, 1, 2, 3].map(() => new seal.Ciphertext());
    evaluator.multiply(cx, cy, product);
    evaluator.relinearize(product, relinKeys, relinearized);
    evaluator.rescaleToNext(relinearized, rescaled);
    evaluator.rotateVector(rescaled, 3, galoisKeys, rotated);
    const back = ctx.loadVector(rotated.saveToArray(seal.ComprModeType.none) as Uint8Array) as CKKSVector;
    const expected = Array.from({ length: N / 2 }, (_, i) => x[(i + 3) % (N / 2)] * y[(i + 3) % (N / 2)]);
    expect(maxAbsError(back.decrypt(RAW), expected)).toBeLessThan(1e-4);
    back.dispose();
    for (const o of [parms, context, publicKey, relinKeys, galoisKeys, encoder, encryptor, evaluator]) o.delete();
    for (const o of [cx, cy, product, relinearized, rescaled, rotated]) o.delete();
  });

  it('of a context that loaded its keys fall back to the full form', async () => {
    using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096, backend });
    ctx.keygen({ galois: [1] });
    using server = await loadContext(ctx.exportKeySet(), { backend });
    const again = server.exportKeySet();
    const full = ctx.exportKeySet({ form: 'full' });
    expect(again.galoisKeys!.length).toBeGreaterThan(ctx.exportKeySet().galoisKeys!.length * 1.8);
    expect(Math.abs(again.galoisKeys!.length - full.galoisKeys!.length)).toBeLessThan(full.galoisKeys!.length * 0.02);
  });

  it('keygen again without galois keys drops the old ones', async () => {
    using ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096, backend });
    ctx.keygen({ galois: [1] });
    ctx.keygen();
    expect(ctx.exportKeySet().galoisKeys).toBeUndefined();
    expect(ctx.session.keys.galoisKeys).toBeUndefined();
  });
});
