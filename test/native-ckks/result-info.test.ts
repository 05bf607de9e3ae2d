/**
 * A result's metadata (parms_id, size, scale, NTT form) reaches JS through the addon's result-info block after a
 * synchronous call, and by asking the addon after async calls and calls that return several handles. Every path
 * must describe the object it returned: the same sequence of ops run on both engines gives node-seal's metadata at
 * every step (CKKS and BFV), including an async result that settles while synchronous ops run in between.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeEvaluator } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { nativeAvailable } from './native-available.ts';

type Meta = Record<string, unknown>;
const cipherMeta = (c: B.Ciphertext): Meta => ({
  parmsId: c.parmsId,
  chainIndex: c.chainIndex,
  size: c.size,
  scale: c.scale,
  isNttForm: c.isNttForm,
});
const plainMeta = (p: B.Plaintext): Meta => ({ parmsId: p.parmsId, scale: p.scale });

/** The metadata of every result of one CKKS op sequence on `backend`. */
function ckksSequence(backend: B.Backend): Meta[] {
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: 8192, coeffModulus: backend.coeffModulusCreate(8192, [60, 40, 40, 60]) },
    128,
  );
  const gen = ctx.createKeyGenerator();
  const rk = gen.createRelinKeys();
  const gk = gen.createGaloisKeys([1, 2]);
  const encoder = ctx.createCkksEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey(), secretKey: gen.secretKey() });
  const decryptor = ctx.createDecryptor(gen.secretKey());
  const ev = ctx.createEvaluator();
  const values = Float64Array.from({ length: 16 }, (_, i) => i / 4);
  const top = encoder.encode(values, 2 ** 40);
  const lower = encoder.encode(values, 2 ** 30, ctx.levels[2].parmsId);
  const scalar = encoder.encodeScalar(3, 2 ** 35);
  const a = encryptor.encrypt(top);
  const product = ev.multiply(a, a);
  const relinearized = ev.relinearize(product, rk);
  const rescaled = ev.rescaleToNext(relinearized);
  const switched = ev.modSwitchToNext(a);
  const hoisted = ev.rotateVectorHoisted(a, [1, 2], gk);
  const loaded = ctx.load.ciphertext(rescaled.save('none'));
  return [
    ...[top, lower, scalar, decryptor.decrypt(rescaled), ev.modSwitchPlainTo(top, ctx.levels[2].parmsId)].map(
      plainMeta,
    ),
    ...[a, product, relinearized, rescaled, switched, ...hoisted, loaded, a.clone()].map(cipherMeta),
    cipherMeta(encryptor.encryptSymmetric(lower)),
    cipherMeta(ev.multiplyPlain(switched, lower)),
    cipherMeta(rescaled.withScale(2 ** 40)),
  ];
}

function bfvSequence(backend: B.Backend): Meta[] {
  const ctx = backend.createContext(
    {
      scheme: 'bfv',
      polyModulusDegree: 4096,
      coeffModulus: backend.coeffModulusBfvDefault(4096, 128),
      plainModulus: backend.plainModulusBatching(4096, 20),
    },
    128,
  );
  const gen = ctx.createKeyGenerator();
  const encoder = ctx.createBatchEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey() });
  const ev = ctx.createEvaluator();
  const plain = encoder.encode(BigInt64Array.from([1n, -2n, 3n]));
  const a = encryptor.encrypt(plain);
  const product = ev.multiply(a, a);
  return [plainMeta(plain), ...[a, product, ev.modSwitchToNext(a), ev.multiplyPlain(a, plain)].map(cipherMeta)];
}

describe.runIf(await nativeAvailable())('native result metadata', () => {
  let native: B.Backend;
  let seal: B.Backend;
  beforeAll(async () => {
    native = await createNativeBackend();
    seal = await createWasmBackend();
  });

  it('CKKS: every result carries node-seal metadata', () => {
    expect(ckksSequence(native)).toEqual(ckksSequence(seal));
  });

  it('BFV: every result carries node-seal metadata', () => {
    expect(bfvSequence(native)).toEqual(bfvSequence(seal));
  });

  it('an async result describes itself even when synchronous results were made while it ran', async () => {
    const ctx = native.createContext(
      { scheme: 'ckks', polyModulusDegree: 8192, coeffModulus: native.coeffModulusCreate(8192, [60, 40, 40, 60]) },
      128,
    );
    const gen = ctx.createKeyGenerator();
    const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey() });
    const ev = ctx.createEvaluator() as NativeEvaluator;
    const a = encryptor.encrypt(ctx.createCkksEncoder().encode(Float64Array.of(1, 2), 2 ** 40));
    const pending = ev.multiplyAsync(a, a);
    const meanwhile = ev.modSwitchToNext(a);
    const product = await pending;
    expect(cipherMeta(product)).toEqual(cipherMeta(ev.multiply(a, a)));
    expect(product.size).toBe(3);
    expect(meanwhile.chainIndex).toBe(a.chainIndex - 1);
  });
});
