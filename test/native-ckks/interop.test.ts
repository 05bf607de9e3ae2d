/**
 * Native ⇄ node-seal interop (node-seal 7 is the oracle). For each N, every operation runs on inputs encrypted
 * by one engine with its own keys, on the other engine holding those keys (both loaded from the same seeded
 * bytes): the result must decrypt in the first engine with at most twice its own error on the same op — in fact
 * the bytes must be identical, since every evaluator step is deterministic in SEAL. Ciphertexts from either
 * engine (public key, symmetric, seeded symmetric) must decrypt in the other, and full (unseeded) keys move too.
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
import { HEAVY_OPS, OPS, type Operands } from './ops.ts';
import { nativeAvailable } from './native-available.ts';

const STEPS = [1, -1, 0];

function decode(e: Engine, ct: B.Ciphertext): Float64Array {
  return e.encoder.decode(e.decryptor.decrypt(ct));
}

function operands(e: Engine, scale: number, x: number[], y: number[]): Operands {
  return {
    cx: e.encryptor.encrypt(e.encoder.encode(Float64Array.from(x), scale)),
    cy: e.encryptor.encrypt(e.encoder.encode(Float64Array.from(y), scale)),
    py: e.encoder.encode(Float64Array.from(y), scale),
  };
}

function moved(o: Operands, to: Engine): Operands {
  return { cx: moveCiphertext(o.cx, to), cy: moveCiphertext(o.cy, to), py: movePlaintext(o.py, to) };
}

describe.runIf(await nativeAvailable())('native ⇄ node-seal CKKS interop', () => {
  describe.each([4096, 8192, 16384, 32768])('N=%i', (n) => {
    let s: Setup;
    // {40,29,40} at N=4096 has one rescale level: a three-way product does not fit its scale bound.
    const ops = n === 32768 ? HEAVY_OPS : n === 4096 ? OPS.filter((op) => op.name !== 'multiply_many') : OPS;
    const x = randomValues(n / 2, n + 1);
    const y = randomValues(n / 2, n + 2);

    beforeAll(async () => {
      s = await makeSetup(n, n === 32768 ? [1] : STEPS);
    });

    const directions = [
      {
        label: 'node-seal inputs and keys, computed natively',
        home: (t: Setup) => t.seal,
        guest: (t: Setup) => t.nativeWithSealKeys,
      },
      {
        label: 'native inputs and keys, computed by node-seal',
        home: (t: Setup) => t.native,
        guest: (t: Setup) => t.sealWithNativeKeys,
      },
    ];

    describe.each(directions)('$label', ({ home, guest }) => {
      let inputs: Operands;
      let guestInputs: Operands;
      beforeAll(() => {
        inputs = operands(home(s), s.scale, x, y);
        guestInputs = moved(inputs, guest(s));
      });

      it.each(ops)('$name', (op) => {
        const h = home(s);
        const g = guest(s);
        const expected = op.expected(x, y);
        const own = op.run(h, inputs);
        const other = moveCiphertext(op.run(g, guestInputs), h);
        const ownError = maxError(decode(h, own), expected);
        const otherError = maxError(decode(h, other), expected);
        expect(ownError).toBeLessThan(1e-2);
        expect(otherError).toBeLessThanOrEqual(2 * ownError);
        expect(sameBytes(other.save(), own.save())).toBe(true);
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
        // Full key objects move too: the reader rotates with the maker's unseeded galois keys, bit-exactly.
        const fullKeys = reader.ctx.load.galoisKeys(maker.gk.save());
        const rotatedThere = reader.evaluator.rotateVector(
          moveCiphertext(maker.encryptor.encrypt(plain), reader),
          1,
          fullKeys,
        );
        expect(
          maxError(
            decode(maker, moveCiphertext(rotatedThere, maker)),
            x.map((_, i) => x[(i + 1) % x.length]),
          ),
        ).toBeLessThan(1e-3);
        expect(reader.ctx.load.relinKeys(maker.rk.save()).save().length).toBe(maker.rk.save().length);
        // The reader's own encryption under the maker's public key decrypts at the maker.
        const back = reader.encryptor.encrypt(reader.encoder.encode(Float64Array.from(y), s.scale));
        expect(maxError(decode(maker, moveCiphertext(back, maker)), y)).toBeLessThan(n === 4096 ? 1e-3 : 1e-5);
      }
    });
  });
});
