/**
 * Native ⇄ node-seal BGV interop (node-seal 7 is the oracle, through seal-oracle.ts) for N ∈ {4096, 8192, 16384,
 * 32768}. In each direction one engine (the maker) makes the keys (seeded and full) and encrypts the inputs
 * (public-key and seeded symmetric); the other loads them from SEAL bytes. Both engines then run every evaluator
 * op on the same inputs: the results must be the same bytes (every BGV evaluator step is deterministic in SEAL)
 * and decrypt exactly in both engines. Ops after a modulus switch carry SEAL's correction factor; sums of
 * ciphertexts with different factors are balanced as SEAL balances them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
import { CHAINS, MAKERS, rotateRows, sameBytes, STEPS } from '../native-bfv/interop-helpers.ts';
import { SealBgv, type EvalOp } from './seal-oracle.ts';

interface KeyBytes {
  sk: Uint8Array;
  pk: Uint8Array;
  rk: Uint8Array;
  gk: Uint8Array;
}

/** One set of inputs as SEAL bytes: x encrypted with the public key, y with the secret key (seeded), y encoded. */
interface InputBytes {
  cx: Uint8Array;
  cy: Uint8Array;
  py: Uint8Array;
}

interface NativeSide {
  ctx: B.BackendContext;
  ev: B.Evaluator;
  rk: B.RelinKeys;
  gk: B.GaloisKeys;
  cx: B.Ciphertext;
  cy: B.Ciphertext;
  py: B.Plaintext;
}

interface SealSide {
  seal: SealBgv;
  keys: KeyBytes;
  inputs: InputBytes;
}

interface OpCase {
  readonly name: string;
  /** Smallest N whose chain has the budget for the op. */
  readonly minN?: number;
  native(s: NativeSide): B.Ciphertext;
  seal(s: SealSide): Uint8Array;
  expected(x: bigint[], y: bigint[]): bigint[];
}

const sealOp = (s: SealSide, op: EvalOp, a: Uint8Array, extra: Parameters<SealBgv['eval']>[1] = { a }) =>
  s.seal.eval(op, { ...extra, a, relin: s.keys.rk, galois: s.keys.gk });

const OPS: readonly OpCase[] = [
  {
    name: 'add',
    native: (s) => s.ev.add(s.cx, s.cy),
    seal: (s) => sealOp(s, 'add', s.inputs.cx, { a: s.inputs.cx, b: s.inputs.cy }),
    expected: (x, y) => x.map((v, k) => v + y[k]),
  },
  {
    name: 'sub',
    native: (s) => s.ev.sub(s.cx, s.cy),
    seal: (s) => sealOp(s, 'sub', s.inputs.cx, { a: s.inputs.cx, b: s.inputs.cy }),
    expected: (x, y) => x.map((v, k) => v - y[k]),
  },
  {
    name: 'negate',
    native: (s) => s.ev.negate(s.cx),
    seal: (s) => sealOp(s, 'negate', s.inputs.cx),
    expected: (x) => x.map((v) => -v),
  },
  {
    name: 'add_plain',
    native: (s) => s.ev.addPlain(s.cx, s.py),
    seal: (s) => sealOp(s, 'addPlain', s.inputs.cx, { a: s.inputs.cx, plain: s.inputs.py }),
    expected: (x, y) => x.map((v, k) => v + y[k]),
  },
  {
    name: 'sub_plain',
    native: (s) => s.ev.subPlain(s.cx, s.py),
    seal: (s) => sealOp(s, 'subPlain', s.inputs.cx, { a: s.inputs.cx, plain: s.inputs.py }),
    expected: (x, y) => x.map((v, k) => v - y[k]),
  },
  {
    name: 'multiply_plain',
    native: (s) => s.ev.multiplyPlain(s.cx, s.py),
    seal: (s) => sealOp(s, 'multiplyPlain', s.inputs.cx, { a: s.inputs.cx, plain: s.inputs.py }),
    expected: (x, y) => x.map((v, k) => v * y[k]),
  },
  {
    name: 'multiply',
    native: (s) => s.ev.multiply(s.cx, s.cy),
    seal: (s) => sealOp(s, 'multiply', s.inputs.cx, { a: s.inputs.cx, b: s.inputs.cy }),
    expected: (x, y) => x.map((v, k) => v * y[k]),
  },
  {
    name: 'square',
    native: (s) => s.ev.square(s.cy),
    seal: (s) => sealOp(s, 'square', s.inputs.cy),
    expected: (_, y) => y.map((v) => v * v),
  },
  {
    name: 'multiply + relinearize',
    native: (s) => s.ev.relinearize(s.ev.multiply(s.cx, s.cy), s.rk),
    seal: (s) => sealOp(s, 'relinearize', sealOp(s, 'multiply', s.inputs.cx, { a: s.inputs.cx, b: s.inputs.cy })),
    expected: (x, y) => x.map((v, k) => v * y[k]),
  },
  {
    name: 'multiply_many (x·y·x)',
    minN: 8192,
    native: (s) => s.ev.multiplyMany([s.cx, s.cy, s.cx], s.rk),
    seal: (s) => sealOp(s, 'multiplyMany', s.inputs.cx, { a: s.inputs.cx, list: [s.inputs.cy, s.inputs.cx] }),
    expected: (x, y) => x.map((v, k) => v * y[k] * v),
  },
  {
    name: 'rotate_rows +1',
    native: (s) => s.ev.rotateRows(s.cx, 1, s.gk),
    seal: (s) => sealOp(s, 'rotateRows', s.inputs.cx, { a: s.inputs.cx, k: 1 }),
    expected: (x) => rotateRows(x, 1),
  },
  {
    name: 'rotate_rows -1',
    native: (s) => s.ev.rotateRows(s.cx, -1, s.gk),
    seal: (s) => sealOp(s, 'rotateRows', s.inputs.cx, { a: s.inputs.cx, k: -1 }),
    expected: (x) => rotateRows(x, -1),
  },
  {
    name: 'rotate_rows +3 (composed: -1, +4)',
    native: (s) => s.ev.rotateRows(s.cy, 3, s.gk),
    seal: (s) => sealOp(s, 'rotateRows', s.inputs.cy, { a: s.inputs.cy, k: 3 }),
    expected: (_, y) => rotateRows(y, 3),
  },
  {
    name: 'rotate_columns',
    native: (s) => s.ev.rotateColumns(s.cx, s.gk),
    seal: (s) => sealOp(s, 'rotateColumns', s.inputs.cx),
    expected: (x) => x.map((_, k) => x[(k + x.length / 2) % x.length]),
  },
  {
    name: 'mod_switch_to_next',
    native: (s) => s.ev.modSwitchToNext(s.cy),
    seal: (s) => sealOp(s, 'modSwitchToNext', s.inputs.cy),
    expected: (_, y) => y,
  },
  {
    name: 'mod_switch_to_next then add_plain (plaintext scaled by the correction factor)',
    native: (s) => s.ev.addPlain(s.ev.modSwitchToNext(s.cx), s.py),
    seal: (s) =>
      sealOp(s, 'addPlain', sealOp(s, 'modSwitchToNext', s.inputs.cx), { a: new Uint8Array(), plain: s.inputs.py }),
    expected: (x, y) => x.map((v, k) => v + y[k]),
  },
  {
    name: 'multiply, relinearize, mod_switch_to_next, rotate_rows +1',
    native: (s) => s.ev.rotateRows(s.ev.modSwitchToNext(s.ev.relinearize(s.ev.multiply(s.cx, s.cy), s.rk)), 1, s.gk),
    seal: (s) =>
      sealOp(
        s,
        'rotateRows',
        sealOp(
          s,
          'modSwitchToNext',
          sealOp(s, 'relinearize', sealOp(s, 'multiply', s.inputs.cx, { a: s.inputs.cx, b: s.inputs.cy })),
        ),
        { a: new Uint8Array(), k: 1 },
      ),
    expected: (x, y) =>
      rotateRows(
        x.map((v, k) => v * y[k]),
        1,
      ),
  },
  {
    name: 'balanced sum: switched x·y (factor q⁻²) + switched x (factor q⁻¹)',
    minN: 8192,
    native: (s) => {
      const x = s.ev.modSwitchToNext(s.cx);
      return s.ev.add(s.ev.multiply(x, s.ev.modSwitchToNext(s.cy)), x);
    },
    seal: (s) => {
      const x = sealOp(s, 'modSwitchToNext', s.inputs.cx);
      const product = sealOp(s, 'multiply', x, { a: x, b: sealOp(s, 'modSwitchToNext', s.inputs.cy) });
      return sealOp(s, 'add', product, { a: product, b: x });
    },
    expected: (x, y) => x.map((v, k) => v * y[k] + v),
  },
];

describe.runIf(await nativeAvailable())('native ⇄ node-seal BGV interop', () => {
  describe.each([4096, 8192, 16384, 32768])('N=%i', (n) => {
    const x = Array.from({ length: n }, (_, i) => BigInt(((i * 7) % 201) - 100));
    const y = Array.from({ length: n }, (_, i) => BigInt(((i * 13) % 37) - 18));
    let seal: SealBgv;
    let ctx: B.BackendContext;

    beforeAll(async () => {
      const native = await createNativeBackend();
      const params: B.ParamsSpec = {
        scheme: 'bgv',
        polyModulusDegree: n,
        coeffModulus: CHAINS[n](native),
        plainModulus: native.plainModulusBatching(n, 20),
      };
      ctx = native.createContext(params, 128);
      seal = await SealBgv.create(n, params.coeffModulus, params.plainModulus as bigint);
    });

    /** Keys made by node-seal or by the native engine, as the SEAL bytes the other engine loads. */
    function makeKeys(makerIsSeal: boolean, seeded: boolean): KeyBytes {
      if (makerIsSeal) {
        const k = seal.keygen(STEPS);
        return seeded
          ? { sk: k.secretKey, pk: k.publicKeySeeded, rk: k.relinKeysSeeded, gk: k.galoisKeysSeeded }
          : { sk: k.secretKey, pk: k.publicKey, rk: k.relinKeys, gk: k.galoisKeys };
      }
      const keygen = ctx.createKeyGenerator();
      return {
        sk: keygen.secretKey().save(),
        pk: seeded ? keygen.createPublicKeySeeded() : keygen.createPublicKey().save(),
        rk: seeded ? keygen.createRelinKeysSeeded() : keygen.createRelinKeys().save(),
        gk: seeded ? keygen.createGaloisKeysSeeded(STEPS) : keygen.createGaloisKeys(STEPS).save(),
      };
    }

    function makeInputs(makerIsSeal: boolean, keys: KeyBytes): InputBytes {
      if (makerIsSeal) {
        const py = seal.encode(y);
        return { cx: seal.encrypt(keys.pk, seal.encode(x)), cy: seal.encryptSymmetric(keys.sk, py, true), py };
      }
      const encoder = ctx.createBatchEncoder();
      const encryptor = ctx.createEncryptor({
        publicKey: ctx.load.publicKey(keys.pk),
        secretKey: ctx.load.secretKey(keys.sk),
      });
      const py = encoder.encode(BigInt64Array.from(y));
      return {
        cx: encryptor.encrypt(encoder.encode(BigInt64Array.from(x))).save(),
        cy: encryptor.encryptSymmetricSeeded(py),
        py: py.save(),
      };
    }

    describe.each(MAKERS)('$label', ({ makerIsSeal, seeded }) => {
      let sealSide: SealSide;
      let nativeSide: NativeSide;
      let decryptor: B.Decryptor;
      let encoder: B.BatchEncoder;

      beforeAll(() => {
        const keys = makeKeys(makerIsSeal, seeded);
        const inputs = makeInputs(makerIsSeal, keys);
        sealSide = { seal, keys, inputs };
        nativeSide = {
          ctx,
          ev: ctx.createEvaluator(),
          rk: ctx.load.relinKeys(keys.rk),
          gk: ctx.load.galoisKeys(keys.gk),
          cx: ctx.load.ciphertext(inputs.cx),
          cy: ctx.load.ciphertext(inputs.cy),
          py: ctx.load.plaintext(inputs.py),
        };
        decryptor = ctx.createDecryptor(ctx.load.secretKey(keys.sk));
        encoder = ctx.createBatchEncoder();
      });

      it.each(OPS.filter((op) => n >= (op.minN ?? 0)))(
        '$name: same bytes as node-seal, exact in both engines',
        (op) => {
          const expected = op.expected(x, y);
          const byNative = op.native(nativeSide).save();
          const bySeal = op.seal(sealSide);
          expect(sameBytes(byNative, bySeal)).toBe(true);
          expect(seal.decrypt(sealSide.keys.sk, byNative).slots).toEqual(expected);
          expect(Array.from(encoder.decode(decryptor.decrypt(ctx.load.ciphertext(byNative))))).toEqual(expected);
        },
      );
    });

    it('decrypts ciphertexts of the other engine (public-key, symmetric, seeded) and its noise budget agrees', () => {
      const keys = makeKeys(true, false);
      const sk = ctx.load.secretKey(keys.sk);
      const decryptor = ctx.createDecryptor(sk);
      const encoder = ctx.createBatchEncoder();
      const encryptor = ctx.createEncryptor({ publicKey: ctx.load.publicKey(keys.pk), secretKey: sk });
      const plain = encoder.encode(BigInt64Array.from(x));
      const sealMade = [
        seal.encrypt(keys.pk, seal.encode(x)),
        seal.encryptSymmetric(keys.sk, seal.encode(x), false),
        seal.encryptSymmetric(keys.sk, seal.encode(x), true),
      ];
      const nativeMade = [
        encryptor.encrypt(plain).save(),
        encryptor.encryptSymmetric(plain).save(),
        encryptor.encryptSymmetricSeeded(plain),
      ];
      for (const bytes of [...sealMade, ...nativeMade]) {
        const ct = ctx.load.ciphertext(bytes);
        const bySeal = seal.decrypt(keys.sk, bytes);
        expect(Array.from(encoder.decode(decryptor.decrypt(ct)))).toEqual(x);
        expect(bySeal.slots).toEqual(x);
        expect(sameBytes(decryptor.decrypt(ct).save(), bySeal.plain)).toBe(true);
        expect(decryptor.invariantNoiseBudget(ct)).toBe(bySeal.budget);
      }
    });
  });
});
