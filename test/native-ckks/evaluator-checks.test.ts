/**
 * SEAL's evaluator checks, as HeftyErrors with the codes node-seal's own exceptions map to: every invalid call
 * below fails on both engines with the same code (parms mismatch, scale mismatch and bounds, transparent
 * results, missing keys). Also: the PRNG seeds from the OS unless a test seed is set, the intra-op thread count
 * is configurable (per call site and by HEFTY_NATIVE_THREADS), and every async variant equals its sync call.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeContext, type NativeEvaluator } from '../../src/backend/native.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError, type HeftyErrorCode } from '../../src/errors.ts';
import { expectHeftyError } from '../helpers.ts';
import { sameBytes } from './harness.ts';
import { nativeAvailable } from './native-available.ts';

const SCALE = 2 ** 40;

interface Fixture {
  readonly ctx: B.BackendContext;
  readonly ev: B.Evaluator;
  readonly encoder: B.CkksEncoder;
  readonly ct: B.Ciphertext;
  readonly plain: B.Plaintext;
  readonly rk: B.RelinKeys;
  readonly gk: B.GaloisKeys;
}

async function fixture(backend: B.Backend): Promise<Fixture> {
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: 8192, coeffModulus: backend.coeffModulusCreate(8192, [60, 40, 40, 60]) },
    128,
  );
  const gen = ctx.createKeyGenerator();
  const encoder = ctx.createCkksEncoder();
  const plain = encoder.encode(Float64Array.from([1, 2, 3]), SCALE);
  const ct = ctx.createEncryptor({ publicKey: gen.createPublicKey() }).encrypt(plain);
  return {
    ctx,
    ev: ctx.createEvaluator(),
    encoder,
    ct,
    plain,
    rk: gen.createRelinKeys(),
    gk: gen.createGaloisKeys([1, 0]),
  };
}

/** Invalid calls and the code SEAL's check maps to. */
const INVALID: readonly { name: string; code: HeftyErrorCode; run: (f: Fixture) => unknown }[] = [
  {
    name: 'add across levels',
    code: 'E_PARAMS_MISMATCH',
    run: ({ ev, ct }) => ev.add(ct, ev.modSwitchToNext(ct)),
  },
  {
    name: 'add_plain with a plaintext of another level',
    code: 'E_PARAMS_MISMATCH',
    run: ({ ev, ct, plain }) => ev.addPlain(ct, ev.modSwitchPlainToNext(plain)),
  },
  {
    name: 'add with different scales',
    code: 'E_SCALE_MISMATCH',
    run: ({ ev, ct, rk }) => ev.add(ev.modSwitchToNext(ct), ev.rescaleToNext(ev.relinearize(ev.multiply(ct, ct), rk))),
  },
  {
    name: 'sub_plain with a plaintext of another scale',
    code: 'E_SCALE_MISMATCH',
    run: ({ ev, ct, encoder }) => ev.subPlain(ct, encoder.encode(Float64Array.from([1]), 2 ** 30)),
  },
  {
    name: 'multiply past the scale bound (2^160 at 140 bits)',
    code: 'E_SCALE_OUT_OF_BOUNDS',
    run: ({ ev, ct, rk }) => {
      const squared = ev.relinearize(ev.multiply(ct, ct), rk);
      return ev.multiply(squared, squared);
    },
  },
  {
    name: 'multiply_plain past the scale bound',
    code: 'E_SCALE_OUT_OF_BOUNDS',
    run: ({ ev, ct, encoder }) => ev.multiplyPlain(ct, encoder.encode(Float64Array.from([1]), 2 ** 100)),
  },
  {
    name: 'mod_switch_to_next to a level below the scale (2^80 at 100 bits is fine, 60 bits is not)',
    code: 'E_SCALE_OUT_OF_BOUNDS',
    run: ({ ev, ct }) => ev.modSwitchToNext(ev.modSwitchToNext(ev.multiply(ct, ct))),
  },
  {
    name: 'mod_switch a plaintext to a level below its scale',
    code: 'E_SCALE_OUT_OF_BOUNDS',
    run: ({ ev, encoder, ctx }) =>
      ev.modSwitchPlainTo(encoder.encode(Float64Array.from([1]), 2 ** 70), ctx.levels[3].parmsId),
  },
  {
    name: 'encode at a scale beyond the modulus',
    code: 'E_SCALE_OUT_OF_BOUNDS',
    run: ({ encoder }) => encoder.encode(Float64Array.from([1]), 2 ** 200),
  },
  { name: 'sub of a ciphertext from itself', code: 'E_TRANSPARENT_RESULT', run: ({ ev, ct }) => ev.sub(ct, ct) },
  {
    name: 'multiply_plain by zero',
    code: 'E_TRANSPARENT_RESULT',
    run: ({ ev, ct, encoder }) => ev.multiplyPlain(ct, encoder.encode(new Float64Array(4), SCALE)),
  },
  {
    name: 'add_many of x and -x',
    code: 'E_TRANSPARENT_RESULT',
    run: ({ ev, ct }) => ev.addMany([ct, ev.negate(ct)]),
  },
  {
    name: 'rescale at the last level',
    code: 'E_LEVEL_EXHAUSTED',
    run: ({ ev, ct, ctx }) => ev.rescaleToNext(ev.modSwitchTo(ct, ctx.levels[3].parmsId)),
  },
  {
    name: 'rotate without its galois key',
    code: 'E_MISSING_GALOIS_KEY',
    run: ({ ev, ct, gk }) => ev.rotateVector(ct, 2, gk),
  },
];

describe.runIf(await nativeAvailable())('native evaluator checks, PRNG and threads', () => {
  let seal: Fixture;
  let native: Fixture;
  beforeAll(async () => {
    seal = await fixture(await createWasmBackend());
    native = await fixture(await createNativeBackend());
  });

  it.each(INVALID)('$name: $code on both engines', ({ code, run }) => {
    expectHeftyError(() => run(seal), code);
    expectHeftyError(() => run(native), code);
  });

  it('draws keys from the OS unless a test seed is set, and forgets the seed on null', () => {
    const ctx = native.ctx as NativeContext;
    const secret = (): Uint8Array => ctx.createKeyGenerator().secretKey().save();
    expect(sameBytes(secret(), secret())).toBe(false);
    const seed = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    ctx.setTestSeed(seed);
    const seeded = [secret(), secret()];
    ctx.setTestSeed(null);
    expect(sameBytes(seeded[0], seeded[1])).toBe(true);
    expect(sameBytes(secret(), seeded[0])).toBe(false);
    expect(sameBytes(secret(), secret())).toBe(false);
    expect(() => ctx.setTestSeed(new Uint8Array(3))).toThrow(HeftyError);
  });

  it('takes a configured thread count: 0 means every core, HEFTY_NATIVE_THREADS sets the default', async () => {
    const backend = await createNativeBackend();
    expect(backend.setThreads(0)).toBe(availableParallelism());
    expect(backend.setThreads(3)).toBe(3);
    expect(backend.threads).toBe(3);
    expectHeftyError(() => backend.setThreads(-1), 'E_INVALID_ARGUMENT');
    backend.setThreads(0);
    const threadsInWorker = (value: string): Promise<unknown> => {
      const worker = new Worker(
        `import('${new URL('../../src/backend/native.ts', import.meta.url).href}').then(
           (m) => m.createNativeBackend().then((b) => b.threads, (e) => e.code),
         ).then((result) => require('node:worker_threads').parentPort.postMessage(result));`,
        { eval: true, env: { ...process.env, HEFTY_NATIVE_THREADS: value } },
      );
      return new Promise((resolve, reject) => {
        worker.once('message', (m) => void worker.terminate().then(() => resolve(m)));
        worker.once('error', reject);
      });
    };
    expect(await threadsInWorker('5')).toBe(5);
    expect(await threadsInWorker('two')).toBe('E_INVALID_ARGUMENT');
  });

  it('every async variant gives the bytes of its synchronous call', async () => {
    const ev = native.ev as NativeEvaluator;
    const { ct, plain, rk, gk } = native;
    const product = ev.multiply(ct, ct);
    const pairs: [Promise<B.Ciphertext>, B.Ciphertext][] = [
      [ev.multiplyAsync(ct, ct), product],
      [ev.squareAsync(ct), ev.square(ct)],
      [ev.multiplyPlainAsync(ct, plain), ev.multiplyPlain(ct, plain)],
      [ev.relinearizeAsync(product, rk), ev.relinearize(product, rk)],
      [ev.rescaleToNextAsync(product), ev.rescaleToNext(product)],
      [ev.rotateVectorAsync(ct, 1, gk), ev.rotateVector(ct, 1, gk)],
      [ev.complexConjugateAsync(ct, gk), ev.complexConjugate(ct, gk)],
    ];
    for (const [pending, expected] of pairs) expect(sameBytes((await pending).save(), expected.save())).toBe(true);
  });
});
