/**
 * Hoisted rotations on the native engine (one decomposition of c1 for many steps): for N from 4096 to 32768 and
 * at several levels down to the last, with node-seal's own keys, every result decrypts (natively and in
 * node-seal) to the rotated vector with an error within twice node-seal's own rotateVector error on the same
 * input and key (max and median slot error, step by step). The plain rotateVector stays byte-identical with
 * node-seal; the async variant gives the sync bytes; bad arguments end in typed errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeContext, NativeEvaluator } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';
import { makeSetup, moveCiphertext, randomValues, sameBytes, type Engine, type Setup } from './harness.ts';
import { nativeAvailable } from './native-available.ts';

const STEPS = [1, -1, 3, 0, 7];

/** The data levels each degree checks (prime counts): the top, one in the middle where there is one, the last. */
const LEVELS: Record<number, number[]> = { 4096: [2, 1], 8192: [3, 2, 1], 16384: [7, 4, 1], 32768: [5, 3, 1] };

function decode(e: Engine, ct: B.Ciphertext): Float64Array {
  return e.encoder.decode(e.decryptor.decrypt(ct));
}

/** Slot j of the result holds x[j + step] (step 0: SEAL's rotateVector returns its input). */
function rotated(x: readonly number[], step: number): number[] {
  return x.map((_, j) => x[(((j + step) % x.length) + x.length) % x.length]);
}

/** Max and median slot error. */
function errors(decoded: Float64Array, expected: readonly number[]): { max: number; median: number } {
  const all = expected.map((v, j) => Math.abs(decoded[j] - v)).sort((a, b) => a - b);
  return { max: all[all.length - 1], median: all[Math.floor(all.length / 2)] };
}

/** The same ciphertext at a level with `primes` data primes (modSwitch keeps the scale). */
function atLevel(e: Engine, ct: B.Ciphertext, primes: number): B.Ciphertext {
  const level = e.ctx.levels.find((l) => l.primes.length === primes && l.parmsId !== e.ctx.keyParmsId);
  if (!level) throw new Error(`no level with ${primes} primes`);
  return e.evaluator.modSwitchTo(ct, level.parmsId);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
    return (e as HeftyError).code;
  }
  return 'no error';
}

async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
    return (e as HeftyError).code;
  }
  return 'no error';
}

describe.runIf(await nativeAvailable())('native hoisted rotations', () => {
  describe.each([4096, 8192, 16384, 32768])('N=%i', (n) => {
    let s: Setup;
    const x = randomValues(n / 2, n + 7);

    beforeAll(async () => {
      s = await makeSetup(n, STEPS);
    }, 120_000);

    it.each(LEVELS[n])(
      'with %i data primes: decrypts in both engines within twice node-seal rotateVector error',
      (primes) => {
        const seal = s.seal;
        const native = s.nativeWithSealKeys;
        const fresh = seal.encryptor.encrypt(seal.encoder.encode(Float64Array.from(x), s.scale));
        const sealInput = atLevel(seal, fresh, primes);
        const nativeInput = moveCiphertext(sealInput, native);
        const expected = STEPS.map((step) => rotated(x, step));

        const bySeal = STEPS.map((step) => seal.evaluator.rotateVector(sealInput, step, seal.gk));
        const hoisted = native.evaluator.rotateVectorHoisted(nativeInput, STEPS, native.gk);
        expect(hoisted).toHaveLength(STEPS.length);
        // Step by step: each result against node-seal's rotation by the same step, with the same key.
        for (const [k, step] of STEPS.entries()) {
          const sealError = errors(decode(seal, bySeal[k]), expected[k]);
          const inNative = errors(decode(native, hoisted[k]), expected[k]);
          const inSeal = errors(decode(seal, moveCiphertext(hoisted[k], seal)), expected[k]);
          expect(sealError.max).toBeLessThan(1e-2);
          for (const error of [inNative, inSeal]) {
            expect(error.max, `step ${step}`).toBeLessThanOrEqual(2 * sealError.max);
            expect(error.median, `step ${step}`).toBeLessThanOrEqual(2 * sealError.median);
          }
        }
        for (const c of hoisted) {
          expect(c.parmsId).toBe(sealInput.parmsId);
          expect(c.scale).toBe(sealInput.scale);
        }
        // Step 0 is node-seal's result exactly (the input), and the single rotation path is node-seal's bytes.
        expect(sameBytes(hoisted[STEPS.indexOf(0)].save(), bySeal[STEPS.indexOf(0)].save())).toBe(true);
        const plain = native.evaluator.rotateVector(nativeInput, STEPS[0], native.gk);
        expect(sameBytes(plain.save(), bySeal[0].save())).toBe(true);
        const unmoved = native.evaluator.rotateVector(nativeInput, 0, native.gk);
        expect(sameBytes(unmoved.save(), bySeal[STEPS.indexOf(0)].save())).toBe(true);
      },
    );

    it('async results are the sync bytes', async () => {
      const native = s.nativeWithSealKeys;
      const ct = native.encryptor.encrypt(native.encoder.encode(Float64Array.from(x), s.scale));
      const ev = native.evaluator as NativeEvaluator;
      const sync = ev.rotateVectorHoisted(ct, STEPS, native.gk);
      const async = await ev.rotateVectorHoistedAsync(ct, STEPS, native.gk);
      expect(async).toHaveLength(sync.length);
      for (const [k, c] of async.entries()) expect(sameBytes(c.save(), sync[k].save())).toBe(true);
    });
  });

  describe('arguments', () => {
    let s: Setup;
    let native: Engine;
    let ev: NativeEvaluator;
    let ct: B.Ciphertext;

    beforeAll(async () => {
      s = await makeSetup(8192, [1, 2]);
      native = s.native;
      ev = native.evaluator as NativeEvaluator;
      ct = native.encryptor.encrypt(native.encoder.encode(Float64Array.from([1, 2, 3]), s.scale));
    }, 60_000);

    it('refuses steps without a key, out of range or not integers, before any work', async () => {
      expect(codeOf(() => ev.rotateVectorHoisted(ct, [1, 3], native.gk))).toBe('E_MISSING_GALOIS_KEY');
      expect(await asyncCodeOf(() => ev.rotateVectorHoistedAsync(ct, [2, 5], native.gk))).toBe('E_MISSING_GALOIS_KEY');
      expect(codeOf(() => ev.rotateVectorHoisted(ct, [1, 4096], native.gk))).toBe('E_INVALID_ARGUMENT');
      expect(codeOf(() => ev.rotateVectorHoisted(ct, [1.5], native.gk))).toBe('E_INVALID_ARGUMENT');
      expect(codeOf(() => ev.rotateVectorHoisted(ct, 1 as unknown as number[], native.gk))).toBe('E_INVALID_ARGUMENT');
    });

    it('no steps give no results (as on the WASM engine); more steps than slots are refused', () => {
      expect(ev.rotateVectorHoisted(ct, [], native.gk)).toEqual([]);
      expect(s.seal.evaluator.rotateVectorHoisted(moveCiphertext(ct, s.seal), [], s.seal.gk)).toEqual([]);
      const huge = new Array<number>(4097).fill(1);
      expect(codeOf(() => ev.rotateVectorHoisted(ct, huge, native.gk))).toBe('E_INVALID_ARGUMENT');
      // Duplicates are fine: each is its own result.
      const twice = ev.rotateVectorHoisted(ct, [1, 1], native.gk);
      expect(sameBytes(twice[0].save(), twice[1].save())).toBe(true);
    });

    it('the addon checks on its own: steps type, none, results over 2 GiB, missing keys', () => {
      const ctx = native.ctx as NativeContext;
      const handle = (o: B.Ciphertext | B.GaloisKeys): object => (o as unknown as { handle: object }).handle;
      const raw = (steps: unknown): string => {
        try {
          ctx.addon.ckksEval('rotateVectorHoisted', ctx.handle, handle(ct), steps, handle(native.gk));
        } catch (e) {
          return String((e as { code?: unknown }).code);
        }
        return 'no error';
      };
      expect(raw([1])).toBe('E_INVALID_ARGUMENT');
      expect(raw(new Int32Array(0))).toBe('E_INVALID_ARGUMENT');
      // 393,216 bytes per result at N=8192 with 3 primes: 5,462 of them pass 2 GiB.
      expect(raw(new Int32Array(5462).fill(1))).toBe('E_INVALID_ARGUMENT');
      expect(raw(Int32Array.from([1, 3]))).toBe('E_MISSING_GALOIS_KEY');
      expect(raw(Int32Array.from([1, 4096]))).toBe('E_INVALID_ARGUMENT');
    });

    it('refuses size-3, disposed and foreign objects', () => {
      const product = native.evaluator.multiply(ct, ct);
      expect(codeOf(() => ev.rotateVectorHoisted(product, [1], native.gk))).toBe('E_INVALID_ARGUMENT');
      const gone = ct.clone();
      gone.dispose();
      expect(codeOf(() => ev.rotateVectorHoisted(gone, [1], native.gk))).toBe('E_DISPOSED');
      const keys = native.ctx.createKeyGenerator(native.sk).createGaloisKeys([1]);
      keys.dispose();
      expect(codeOf(() => ev.rotateVectorHoisted(ct, [1], keys))).toBe('E_DISPOSED');
      expect(codeOf(() => ev.rotateVectorHoisted(moveCiphertext(ct, s.seal), [1], native.gk))).toBe(
        'E_INVALID_ARGUMENT',
      );
      const evaluator = native.ctx.createEvaluator();
      evaluator.dispose();
      expect(codeOf(() => evaluator.rotateVectorHoisted(ct, [1], native.gk))).toBe('E_DISPOSED');
    });
  });
});
