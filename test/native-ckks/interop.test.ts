/**
 * Native ⇄ node-seal interop matrix (node-seal 7 is the oracle), for N ∈ {4096, 8192, 16384, 32768} with
 * SEAL-example coefficient chains. In each direction one engine (the maker) makes the keys and encrypts the
 * inputs (public-key and seeded symmetric encryption); both engines then hold the maker's keys (loaded from its
 * seeded bytes, and for the key-switching ops also from its full bytes) and run every evaluator op on the same
 * inputs. The native result must decrypt in node-seal, and natively, with at most twice the error of node-seal
 * computing and decrypting the same op — in fact its bytes must equal node-seal's, since every evaluator step is
 * deterministic in SEAL. Ciphertexts from either engine (public key, symmetric, seeded symmetric) must decrypt
 * in the other, and full (unseeded) keys move too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as B from '../../src/backend/types.ts';
import {
  makeSetup,
  maxError,
  moveCiphertext,
  movePlaintext,
  randomValues,
  sameBytes,
  type Engine,
  type Setup,
} from './harness.ts';
import { MULTIPLY_MANY_PAIR, OPS, type OpCase, type Operands } from './ops.ts';
import { nativeAvailable } from './native-available.ts';

const STEPS = [1, -1, 0];

function decode(e: Engine, ct: B.Ciphertext): Float64Array {
  return e.encoder.decode(e.decryptor.decrypt(ct));
}

/** The maker's inputs: x under its public key, y under its secret key (seeded form, expanded on load). */
function operands(e: Engine, scale: number, x: number[], y: number[]): Operands {
  const py = e.encoder.encode(Float64Array.from(y), scale);
  return {
    cx: e.encryptor.encrypt(e.encoder.encode(Float64Array.from(x), scale)),
    cy: e.ctx.load.ciphertext(e.encryptor.encryptSymmetricSeeded(py, 'zstd')),
    py,
  };
}

function moved(o: Operands, to: Engine): Operands {
  return { cx: moveCiphertext(o.cx, to), cy: moveCiphertext(o.cy, to), py: movePlaintext(o.py, to) };
}

/** The ops each degree runs: N=4096's {40,29,40} has one rescale level, too few for a three-way product. */
function opsFor(n: number): readonly OpCase[] {
  return n === 4096 ? [...OPS.filter((op) => op.name !== 'multiply_many'), MULTIPLY_MANY_PAIR] : OPS;
}

interface Direction {
  readonly label: string;
  /** Made the keys and the inputs; node-seal or native. */
  readonly maker: (t: Setup) => Engine;
  /** node-seal and the native engine, both holding the maker's keys. */
  readonly seal: (t: Setup) => Engine;
  readonly native: (t: Setup) => Engine;
  readonly keyOpsOnly: boolean;
}

const DIRECTIONS: readonly Direction[] = [
  {
    label: 'node-seal keys (seeded) and inputs, computed natively',
    maker: (t) => t.seal,
    seal: (t) => t.seal,
    native: (t) => t.nativeWithSealKeys,
    keyOpsOnly: false,
  },
  {
    label: 'node-seal keys (full) and inputs, computed natively',
    maker: (t) => t.seal,
    seal: (t) => t.seal,
    native: (t) => t.nativeWithSealFullKeys,
    keyOpsOnly: true,
  },
  {
    label: 'native keys (seeded) and inputs, computed by node-seal',
    maker: (t) => t.native,
    seal: (t) => t.sealWithNativeKeys,
    native: (t) => t.native,
    keyOpsOnly: false,
  },
  {
    label: 'native keys (full) and inputs, computed by node-seal',
    maker: (t) => t.native,
    seal: (t) => t.sealWithNativeFullKeys,
    native: (t) => t.native,
    keyOpsOnly: true,
  },
];

describe.runIf(await nativeAvailable())('native ⇄ node-seal CKKS interop', () => {
  describe.each([4096, 8192, 16384, 32768])('N=%i', (n) => {
    let s: Setup;
    const x = randomValues(n / 2, n + 1);
    const y = randomValues(n / 2, n + 2);

    beforeAll(async () => {
      s = await makeSetup(n, STEPS);
    });

    describe.each(DIRECTIONS)('$label', (direction) => {
      const ops = opsFor(n).filter((op) => !direction.keyOpsOnly || op.usesKeys);
      let sealInputs: Operands;
      let nativeInputs: Operands;
      beforeAll(() => {
        const maker = direction.maker(s);
        const made = operands(maker, s.scale, x, y);
        const seal = direction.seal(s);
        const native = direction.native(s);
        sealInputs = maker === seal ? made : moved(made, seal);
        nativeInputs = maker === native ? made : moved(made, native);
      });

      it.each(ops)('$name', (op) => {
        const seal = direction.seal(s);
        const native = direction.native(s);
        const expected = op.expected(x, y);
        const bySeal = op.run(seal, sealInputs);
        const byNative = op.run(native, nativeInputs);
        const sealError = maxError(decode(seal, bySeal), expected);
        const nativeInSeal = maxError(decode(seal, moveCiphertext(byNative, seal)), expected);
        const nativeInNative = maxError(decode(native, byNative), expected);
        const sealInNative = maxError(decode(native, moveCiphertext(bySeal, native)), expected);
        expect(sealError).toBeLessThan(1e-2);
        expect(nativeInSeal).toBeLessThanOrEqual(2 * sealError);
        expect(nativeInNative).toBeLessThanOrEqual(2 * sealError);
        expect(sealInNative).toBeLessThanOrEqual(2 * sealError);
        expect(sameBytes(byNative.save(), bySeal.save())).toBe(true);
      });
    });

    it('decrypts ciphertexts of the other engine (public-key, symmetric, seeded)', () => {
      const pairs = [
        { maker: s.seal, reader: s.nativeWithSealKeys },
        { maker: s.native, reader: s.sealWithNativeKeys },
      ];
      for (const { maker, reader } of pairs) {
        const plain = maker.encoder.encode(Float64Array.from(x), s.scale);
        const made = [
          maker.encryptor.encrypt(plain).save('zstd'),
          maker.encryptor.encryptSymmetric(plain).save('zlib'),
          maker.encryptor.encryptSymmetricSeeded(plain, 'none'),
          maker.encryptor.encryptSymmetricSeeded(plain, 'zstd'),
        ];
        for (const bytes of made) {
          const error = maxError(decode(reader, reader.ctx.load.ciphertext(bytes)), x);
          expect(error, `${maker.name} → ${reader.name}`).toBeLessThan(n === 4096 ? 1e-3 : 1e-5);
        }
        // Full key objects move too: the reader rotates with the maker's unseeded galois keys, bit-exactly (the
        // key-switching noise tail reaches ~1e-3 at N=4096, so the maker's own rotation is the reference).
        const fullKeys = reader.ctx.load.galoisKeys(maker.gk.save());
        const fresh = maker.encryptor.encrypt(plain);
        const rotatedThere = moveCiphertext(
          reader.evaluator.rotateVector(moveCiphertext(fresh, reader), 1, fullKeys),
          maker,
        );
        const rotatedHere = maker.evaluator.rotateVector(fresh, 1, maker.gk);
        expect(sameBytes(rotatedThere.save(), rotatedHere.save())).toBe(true);
        expect(
          maxError(
            decode(maker, rotatedThere),
            x.map((_, i) => x[(i + 1) % x.length]),
          ),
        ).toBeLessThan(1e-2);
        expect(reader.ctx.load.relinKeys(maker.rk.save()).save().length).toBe(maker.rk.save().length);
        // The reader's own encryption under the maker's public key decrypts at the maker.
        const back = reader.encryptor.encrypt(reader.encoder.encode(Float64Array.from(y), s.scale));
        expect(maxError(decode(maker, moveCiphertext(back, maker)), y)).toBeLessThan(n === 4096 ? 1e-3 : 1e-5);
      }
    });
  });
});
