/**
 * Native ⇄ node-seal BFV interop (node-seal 7 is the oracle) for N ∈ {4096, 8192, 16384, 32768}. In each direction
 * one engine (the maker) makes the keys (seeded and full) and encrypts the inputs (public-key and seeded
 * symmetric); the other loads them from SEAL bytes. Both engines then run every evaluator op on the same inputs:
 * the results must be the same bytes (every BFV evaluator step is deterministic in SEAL) and decrypt exactly, in
 * both engines. A rotation by 3 with only the keys for ±1 and 4 is composed from them (non-adjacent form) as
 * SEAL does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
import { CHAINS, MAKERS, rotateRows, sameBytes, STEPS } from './interop-helpers.ts';

interface Engine {
  readonly name: string;
  readonly ctx: B.BackendContext;
  readonly sk: B.SecretKey;
  readonly pk: B.PublicKey;
  readonly rk: B.RelinKeys;
  readonly gk: B.GaloisKeys;
  readonly encoder: B.BatchEncoder;
  readonly evaluator: B.Evaluator;
  readonly encryptor: B.Encryptor;
  readonly decryptor: B.Decryptor;
}

function engine(
  name: string,
  ctx: B.BackendContext,
  sk: B.SecretKey,
  pk: B.PublicKey,
  rk: B.RelinKeys,
  gk: B.GaloisKeys,
): Engine {
  return {
    name,
    ctx,
    sk,
    pk,
    rk,
    gk,
    encoder: ctx.createBatchEncoder(),
    evaluator: ctx.createEvaluator(),
    encryptor: ctx.createEncryptor({ publicKey: pk, secretKey: sk }),
    decryptor: ctx.createDecryptor(sk),
  };
}

/** Keys made by `maker` (`seeded`: from its seeded bytes; else its full objects), held by `ctx`. */
function keysFrom(maker: B.BackendContext, ctx: B.BackendContext, name: string, seeded: boolean): Engine {
  const keygen = maker.createKeyGenerator();
  const sk = ctx.load.secretKey(keygen.secretKey().save());
  const pk = ctx.load.publicKey(seeded ? keygen.createPublicKeySeeded('zstd') : keygen.createPublicKey().save());
  const rk = ctx.load.relinKeys(seeded ? keygen.createRelinKeysSeeded() : keygen.createRelinKeys().save('zlib'));
  const gk = ctx.load.galoisKeys(seeded ? keygen.createGaloisKeysSeeded(STEPS) : keygen.createGaloisKeys(STEPS).save());
  return engine(name, ctx, sk, pk, rk, gk);
}

/** The same keys in another context (moved as SEAL bytes). */
function sameKeys(e: Engine, ctx: B.BackendContext, name: string): Engine {
  return engine(
    name,
    ctx,
    ctx.load.secretKey(e.sk.save()),
    ctx.load.publicKey(e.pk.save()),
    ctx.load.relinKeys(e.rk.save()),
    ctx.load.galoisKeys(e.gk.save()),
  );
}

interface Inputs {
  cx: B.Ciphertext;
  cy: B.Ciphertext;
  py: B.Plaintext;
}

const move = (ct: B.Ciphertext, to: Engine): B.Ciphertext => to.ctx.load.ciphertext(ct.save());

interface OpCase {
  readonly name: string;
  run(e: Engine, i: Inputs): B.Ciphertext;
  expected(x: bigint[], y: bigint[]): bigint[];
}

const OPS: readonly OpCase[] = [
  { name: 'add', run: (e, i) => e.evaluator.add(i.cx, i.cy), expected: (x, y) => x.map((v, k) => v + y[k]) },
  { name: 'sub', run: (e, i) => e.evaluator.sub(i.cx, i.cy), expected: (x, y) => x.map((v, k) => v - y[k]) },
  { name: 'negate', run: (e, i) => e.evaluator.negate(i.cx), expected: (x) => x.map((v) => -v) },
  { name: 'add_plain', run: (e, i) => e.evaluator.addPlain(i.cx, i.py), expected: (x, y) => x.map((v, k) => v + y[k]) },
  { name: 'sub_plain', run: (e, i) => e.evaluator.subPlain(i.cx, i.py), expected: (x, y) => x.map((v, k) => v - y[k]) },
  {
    name: 'multiply_plain',
    run: (e, i) => e.evaluator.multiplyPlain(i.cx, i.py),
    expected: (x, y) => x.map((v, k) => v * y[k]),
  },
  { name: 'multiply', run: (e, i) => e.evaluator.multiply(i.cx, i.cy), expected: (x, y) => x.map((v, k) => v * y[k]) },
  { name: 'square', run: (e, i) => e.evaluator.square(i.cy), expected: (_, y) => y.map((v) => v * v) },
  {
    name: 'multiply + relinearize',
    run: (e, i) => e.evaluator.relinearize(e.evaluator.multiply(i.cx, i.cy), e.rk),
    expected: (x, y) => x.map((v, k) => v * y[k]),
  },
  {
    name: 'multiply_many (x·y·x; x·y at N=4096, whose chain has room for one product)',
    run: (e, i) => e.evaluator.multiplyMany(e.ctx.slotCount === 4096 ? [i.cx, i.cy] : [i.cx, i.cy, i.cx], e.rk),
    expected: (x, y) => x.map((v, k) => (x.length === 4096 ? v * y[k] : v * y[k] * v)),
  },
  { name: 'rotate_rows +1', run: (e, i) => e.evaluator.rotateRows(i.cx, 1, e.gk), expected: (x) => rotateRows(x, 1) },
  { name: 'rotate_rows -1', run: (e, i) => e.evaluator.rotateRows(i.cx, -1, e.gk), expected: (x) => rotateRows(x, -1) },
  {
    name: 'rotate_rows +3 (composed: -1, +4)',
    run: (e, i) => e.evaluator.rotateRows(i.cy, 3, e.gk),
    expected: (_, y) => rotateRows(y, 3),
  },
  {
    name: 'rotate_columns',
    run: (e, i) => e.evaluator.rotateColumns(i.cx, e.gk),
    expected: (x) => x.map((_, k) => x[(k + x.length / 2) % x.length]),
  },
  { name: 'mod_switch_to_next', run: (e, i) => e.evaluator.modSwitchToNext(i.cy), expected: (_, y) => y },
];

const decrypt = (e: Engine, ct: B.Ciphertext): bigint[] => Array.from(e.encoder.decode(e.decryptor.decrypt(ct)));

describe.runIf(await nativeAvailable())('native ⇄ node-seal BFV interop', () => {
  describe.each([4096, 8192, 16384, 32768])('N=%i', (n) => {
    const x = Array.from({ length: n }, (_, i) => BigInt(((i * 7) % 201) - 100));
    const y = Array.from({ length: n }, (_, i) => BigInt(((i * 13) % 37) - 18));
    let sealCtx: B.BackendContext;
    let nativeCtx: B.BackendContext;

    beforeAll(async () => {
      const [wasm, native] = await Promise.all([createWasmBackend(), createNativeBackend()]);
      const params: B.ParamsSpec = {
        scheme: 'bfv',
        polyModulusDegree: n,
        coeffModulus: CHAINS[n](native),
        plainModulus: native.plainModulusBatching(n, 20),
      };
      sealCtx = wasm.createContext(params, 128);
      nativeCtx = native.createContext(params, 128);
    });

    describe.each(MAKERS)('$label', ({ makerIsSeal, seeded }) => {
      let seal: Engine;
      let native: Engine;
      let sealInputs: Inputs;
      let nativeInputs: Inputs;

      beforeAll(() => {
        const [makerCtx, otherCtx] = makerIsSeal ? [sealCtx, nativeCtx] : [nativeCtx, sealCtx];
        const maker = sameKeys(keysFrom(makerCtx, makerCtx, 'maker', true), makerCtx, 'maker');
        const other = keysFrom(makerCtx, otherCtx, 'other', seeded);
        // Both engines hold the same keys: the other's come from the maker's bytes.
        const held = sameKeys(other, makerCtx, 'maker');
        [seal, native] = makerIsSeal ? [held, other] : [other, held];
        void maker;
        const makerEngine = makerIsSeal ? seal : native;
        const py = makerEngine.encoder.encode(BigInt64Array.from(y));
        const made: Inputs = {
          cx: makerEngine.encryptor.encrypt(makerEngine.encoder.encode(BigInt64Array.from(x))),
          cy: makerEngine.ctx.load.ciphertext(makerEngine.encryptor.encryptSymmetricSeeded(py, 'zstd')),
          py,
        };
        const otherEngine = makerIsSeal ? native : seal;
        const moved: Inputs = {
          cx: move(made.cx, otherEngine),
          cy: move(made.cy, otherEngine),
          py: otherEngine.ctx.load.plaintext(made.py.save()),
        };
        [sealInputs, nativeInputs] = makerIsSeal ? [made, moved] : [moved, made];
      });

      it.each(OPS)('$name: same bytes as node-seal, exact in both engines', (op) => {
        const expected = op.expected(x, y);
        const bySeal = op.run(seal, sealInputs);
        const byNative = op.run(native, nativeInputs);
        expect(sameBytes(byNative.save(), bySeal.save())).toBe(true);
        expect(decrypt(seal, move(byNative, seal))).toEqual(expected);
        expect(decrypt(native, byNative)).toEqual(expected);
      });
    });

    it('decrypts ciphertexts of the other engine (public-key, symmetric, seeded) and its noise budget agrees', () => {
      const sealKeys = keysFrom(sealCtx, sealCtx, 'seal', false);
      const nativeHeld = sameKeys(sealKeys, nativeCtx, 'native');
      const nativeKeys = keysFrom(nativeCtx, nativeCtx, 'native', false);
      const sealHeld = sameKeys(nativeKeys, sealCtx, 'seal');
      for (const [maker, reader] of [
        [sealKeys, nativeHeld],
        [nativeKeys, sealHeld],
      ] as const) {
        const plain = maker.encoder.encode(BigInt64Array.from(x));
        for (const bytes of [
          maker.encryptor.encrypt(plain).save('zstd'),
          maker.encryptor.encryptSymmetric(plain).save('zlib'),
          maker.encryptor.encryptSymmetricSeeded(plain, 'none'),
        ]) {
          const ct = reader.ctx.load.ciphertext(bytes);
          expect(decrypt(reader, ct)).toEqual(x);
          expect(reader.decryptor.invariantNoiseBudget(ct)).toBe(
            maker.decryptor.invariantNoiseBudget(maker.ctx.load.ciphertext(bytes)),
          );
        }
      }
    });
  });
});
