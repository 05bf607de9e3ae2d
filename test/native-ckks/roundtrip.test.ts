/**
 * Byte-exact round trips against node-seal for every object kind: bytes node-seal saved (compression none,
 * zlib and zstd; seeded and full forms) load natively and re-save uncompressed to exactly the bytes node-seal
 * itself writes when it loads and re-saves them uncompressed. Seeded keys and seeded symmetric ciphertexts
 * therefore expand identically on both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { sameBytes } from './harness.ts';
import { nativeAvailable } from './native-available.ts';

const COMPRESSIONS: B.Compression[] = ['none', 'zlib', 'zstd'];

type Kind = keyof B.ObjectLoader;

interface Sample {
  readonly what: string;
  readonly kind: Kind;
  /** node-seal's bytes in the given compression. */
  readonly make: (compression: B.Compression) => Uint8Array;
}

/** Every object kind, made by node-seal: full and seeded keys, ciphertexts of size 2 and 3 and on lower levels. */
function samples(ctx: B.BackendContext, scale: number): Sample[] {
  const gen = ctx.createKeyGenerator();
  const sk = gen.secretKey();
  const pk = gen.createPublicKey();
  const rk = gen.createRelinKeys();
  const gk = gen.createGaloisKeys([1, -1, 0]);
  const encoder = ctx.createCkksEncoder();
  const evaluator = ctx.createEvaluator();
  const encryptor = ctx.createEncryptor({ publicKey: pk, secretKey: sk });
  const plain = encoder.encode(Float64Array.from([1.5, -2, 3.25, 4]), scale);
  const ct = encryptor.encrypt(plain);
  const product = evaluator.multiply(ct, ct);
  const rescaled = evaluator.rescaleToNext(evaluator.relinearize(product, rk));
  const saved =
    (object: B.Saveable) =>
    (c: B.Compression): Uint8Array =>
      object.save(c);
  return [
    { what: 'plaintext', kind: 'plaintext', make: saved(plain) },
    { what: 'plaintext, lower level', kind: 'plaintext', make: saved(evaluator.modSwitchPlainToNext(plain)) },
    { what: 'public-key ciphertext', kind: 'ciphertext', make: saved(ct) },
    { what: 'symmetric ciphertext', kind: 'ciphertext', make: saved(encryptor.encryptSymmetric(plain)) },
    {
      what: 'seeded symmetric ciphertext',
      kind: 'ciphertext',
      make: (c) => encryptor.encryptSymmetricSeeded(plain, c),
    },
    { what: 'size-3 ciphertext', kind: 'ciphertext', make: saved(product) },
    { what: 'rescaled ciphertext', kind: 'ciphertext', make: saved(rescaled) },
    { what: 'secret key', kind: 'secretKey', make: saved(sk) },
    { what: 'public key', kind: 'publicKey', make: saved(pk) },
    { what: 'seeded public key', kind: 'publicKey', make: (c) => gen.createPublicKeySeeded(c) },
    { what: 'relin keys', kind: 'relinKeys', make: saved(rk) },
    { what: 'seeded relin keys', kind: 'relinKeys', make: (c) => gen.createRelinKeysSeeded(c) },
    { what: 'galois keys', kind: 'galoisKeys', make: saved(gk) },
    { what: 'seeded galois keys', kind: 'galoisKeys', make: (c) => gen.createGaloisKeysSeeded([1, -1, 0], c) },
  ];
}

const CASES = [
  { n: 4096, bits: [40, 29, 40], scale: 2 ** 29 },
  { n: 8192, bits: [60, 40, 40, 60], scale: 2 ** 40 },
];

describe.runIf(await nativeAvailable())('byte-exact round trips of node-seal objects through the native engine', () => {
  let native: NativeBackend;
  let seal: B.Backend;
  beforeAll(async () => {
    native = await createNativeBackend();
    seal = await createWasmBackend();
  });

  describe.each(CASES)('N=$n', ({ n, bits, scale }) => {
    let sealCtx: B.BackendContext;
    let nativeCtx: B.BackendContext;
    let objects: Sample[];
    beforeAll(() => {
      const params: B.ParamsSpec = {
        scheme: 'ckks',
        polyModulusDegree: n,
        coeffModulus: seal.coeffModulusCreate(n, bits),
      };
      sealCtx = seal.createContext(params, 128);
      nativeCtx = native.createContext(params, 128);
      objects = samples(sealCtx, scale);
    });

    it.each(COMPRESSIONS)('every object kind, saved by node-seal with compression %s', (compression) => {
      for (const { what, kind, make } of objects) {
        const bytes = make(compression);
        const expected = sealCtx.load[kind](bytes).save('none');
        const resaved = nativeCtx.load[kind](bytes).save('none');
        expect([what, resaved.length]).toEqual([what, expected.length]);
        expect([what, sameBytes(resaved, expected)]).toEqual([what, true]);
      }
    });
  });

  it("an empty (size 0) ciphertext keeps its level's prime count when re-saved", async () => {
    const params: B.ParamsSpec = {
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulus: seal.coeffModulusCreate(4096, [40, 29, 40]),
    };
    const sealCtx = seal.createContext(params, 128);
    const nativeCtx = native.createContext(params, 128);
    const gen = sealCtx.createKeyGenerator();
    const full = sealCtx
      .createEncryptor({ secretKey: gen.secretKey() })
      .encryptSymmetric(sealCtx.createCkksEncoder().encode(Float64Array.of(1), 2 ** 29))
      .save();
    // Header + ciphertext fields with size 0, then an empty word array (spec §1.6).
    const empty = full.slice(0, 113);
    const view = new DataView(empty.buffer);
    view.setBigUint64(8, 113n, true);
    view.setBigUint64(16 + 33, 0n, true);
    view.setBigUint64(89 + 8, 24n, true);
    view.setBigUint64(105, 0n, true);
    const expected = sealCtx.load.ciphertext(empty).save('none');
    expect(sameBytes(expected, empty)).toBe(true);
    expect(sameBytes(nativeCtx.load.ciphertext(empty).save('none'), expected)).toBe(true);
  });

  it('SHAKE256-seeded (prng_type 2) ciphertexts and public keys expand as in node-seal', () => {
    const n = 4096;
    const params: B.ParamsSpec = {
      scheme: 'ckks',
      polyModulusDegree: n,
      coeffModulus: seal.coeffModulusCreate(n, [40, 29, 40]),
    };
    const sealCtx = seal.createContext(params, 128);
    const nativeCtx = native.createContext(params, 128);
    const gen = sealCtx.createKeyGenerator();
    const plain = sealCtx.createCkksEncoder().encode(Float64Array.of(1, 2), 2 ** 29);
    // node-seal writes Blake2xb seeds; the prng type byte sits after the c0 array (spec §1.6, §1.9).
    const shake = (bytes: Uint8Array, primes: number): Uint8Array => {
      const out = bytes.slice();
      const at = 89 + 24 + 8 * n * primes + 16;
      expect(out[at]).toBe(1);
      out[at] = 2;
      return out;
    };
    const objects: [keyof B.ObjectLoader, Uint8Array][] = [
      ['ciphertext', shake(sealCtx.createEncryptor({ secretKey: gen.secretKey() }).encryptSymmetricSeeded(plain), 2)],
      ['publicKey', shake(gen.createPublicKeySeeded(), 3)],
    ];
    for (const [kind, bytes] of objects) {
      const expected = sealCtx.load[kind](bytes).save('none');
      expect([kind, sameBytes(nativeCtx.load[kind](bytes).save('none'), expected)]).toEqual([kind, true]);
      // ...and the expansion really differs from the Blake2xb one.
      const blake = bytes.slice();
      blake[89 + 24 + 8 * n * (kind === 'ciphertext' ? 2 : 3) + 16] = 1;
      expect(sameBytes(nativeCtx.load[kind](blake).save('none'), expected)).toBe(false);
    }
  });

  it.each(COMPRESSIONS)('EncryptionParameters (CKKS and BFV, N=1024..32768), compression %s', (compression) => {
    for (const n of [1024, 2048, 4096, 8192, 16384, 32768]) {
      const all: B.ParamsSpec[] = [
        {
          scheme: 'ckks',
          polyModulusDegree: n,
          coeffModulus: seal.coeffModulusCreate(n, n === 1024 ? [27] : [50, 40, 50]),
        },
        {
          scheme: 'bfv',
          polyModulusDegree: n,
          coeffModulus: seal.coeffModulusBfvDefault(n, 128),
          plainModulus: seal.plainModulusBatching(n, 20),
        },
      ];
      for (const params of all) {
        const bytes = seal.saveParams(params, compression);
        const expected = seal.saveParams(seal.loadParams(bytes), 'none');
        const loaded = native.loadParams(bytes);
        expect(loaded).toEqual(seal.loadParams(bytes));
        expect(sameBytes(native.saveParams(loaded, 'none'), expected)).toBe(true);
      }
    }
  });
});
