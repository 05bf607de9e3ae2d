/**
 * Off-event-loop evaluation and intra-op threads: async variants give the same bytes as the sync calls and
 * reject with coded errors; the event loop keeps turning while one runs; a worker thread's thread setting
 * (1 by default inside workers) does not leak into the main thread.
 */
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNativeBackend,
  type NativeBackend,
  type NativeEvaluator,
  type NativeKeyGenerator,
} from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { HeftyError } from '../../src/errors.ts';
import { nativeAvailable } from './native-available.ts';
import { sameBytes } from './harness.ts';

describe.runIf(await nativeAvailable())('native async operations and threads', () => {
  let backend: NativeBackend;
  let ctx: B.BackendContext;
  let ev: NativeEvaluator;
  let ct: B.Ciphertext;
  let rk: B.RelinKeys;
  let gk: B.GaloisKeys;

  beforeAll(async () => {
    backend = await createNativeBackend();
    ctx = backend.createContext(
      {
        scheme: 'ckks',
        polyModulusDegree: 16384,
        coeffModulus: backend.coeffModulusCreate(16384, [60, 40, 40, 40, 60]),
      },
      128,
    );
    const gen = ctx.createKeyGenerator();
    rk = gen.createRelinKeys();
    gk = gen.createGaloisKeys([1]);
    const encoder = ctx.createCkksEncoder();
    ct = ctx
      .createEncryptor({ publicKey: gen.createPublicKey() })
      .encrypt(encoder.encode(Float64Array.from([1, 2, 3]), 2 ** 40));
    ev = ctx.createEvaluator() as NativeEvaluator;
  });

  it('async results equal the synchronous ones, for 1 and 2 threads', async () => {
    for (const threads of [1, 2]) {
      backend.setThreads(threads);
      const product = await ev.multiplyAsync(ct, ct);
      expect(sameBytes(product.save(), ev.multiply(ct, ct).save())).toBe(true);
      const relinearized = await ev.relinearizeAsync(product, rk);
      expect(sameBytes(relinearized.save(), ev.relinearize(product, rk).save())).toBe(true);
      const rescaled = await ev.rescaleToNextAsync(relinearized);
      expect(sameBytes(rescaled.save(), ev.rescaleToNext(relinearized).save())).toBe(true);
      const rotated = await ev.rotateVectorAsync(ct, 1, gk);
      expect(sameBytes(rotated.save(), ev.rotateVector(ct, 1, gk).save())).toBe(true);
    }
    backend.setThreads(0);
  });

  it('saves into plain, transferable ArrayBuffers (the worker pool moves bytes by transfer)', () => {
    const bytes = ct.save('none');
    const moved = structuredClone(bytes, { transfer: [bytes.buffer as ArrayBuffer] });
    expect(bytes.length).toBe(0);
    expect(ctx.load.ciphertext(moved).size).toBe(2);
  });

  it('generates relin and galois keys off the event loop', async () => {
    const gen = ctx.createKeyGenerator() as NativeKeyGenerator;
    const [relinKeys, galoisKeys] = await Promise.all([gen.createRelinKeysAsync(), gen.createGaloisKeysAsync([1, -1])]);
    expect(galoisKeys.galoisElts).toEqual([3, ctx.galoisElt(-1)].sort((a, b) => a - b));
    const decryptor = ctx.createDecryptor(gen.secretKey());
    const encoder = ctx.createCkksEncoder();
    const x = ctx
      .createEncryptor({ secretKey: gen.secretKey() })
      .encryptSymmetric(encoder.encode(Float64Array.from([1, 2, 3]), 2 ** 40));
    const squared = encoder.decode(decryptor.decrypt(ev.rescaleToNext(ev.relinearize(ev.multiply(x, x), relinKeys))));
    expect(Array.from(squared.slice(0, 3), Math.round)).toEqual([1, 4, 9]);
    const rotated = encoder.decode(decryptor.decrypt(ev.rotateVector(x, 1, galoisKeys)));
    expect(Array.from(rotated.slice(0, 2), Math.round)).toEqual([2, 3]);
  });

  it('rejects with coded errors', async () => {
    const last = ev.modSwitchTo(ct, ctx.levels[ctx.levels.length - 1].parmsId);
    await expect(ev.rescaleToNextAsync(last)).rejects.toSatisfy(
      (e: unknown) => e instanceof HeftyError && e.code === 'E_LEVEL_EXHAUSTED',
    );
    await expect(ev.multiplyAsync(ct, last)).rejects.toSatisfy(
      (e: unknown) => e instanceof HeftyError && e.code === 'E_PARAMS_MISMATCH',
    );
  });

  it('keeps the event loop turning while a key switch runs', async () => {
    const product = ev.multiply(ct, ct);
    let ticks = 0;
    let done = false;
    const pending = ev.relinearizeAsync(product, rk).then(() => {
      done = true;
    });
    await new Promise<void>((resolve) => {
      const spin = (): void => {
        if (done) return resolve();
        ticks++;
        setImmediate(spin);
      };
      spin();
    });
    await pending;
    expect(ticks).toBeGreaterThan(0);
  });

  it('a worker thread runs single-threaded by default without changing the main thread', async () => {
    backend.setThreads(2);
    const worker = new Worker(
      `import('${new URL('../../src/backend/native.ts', import.meta.url).href}').then(async (m) => {
         const b = await m.createNativeBackend();
         require('node:worker_threads').parentPort.postMessage(b.threads);
       });`,
      { eval: true },
    );
    const inWorker = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(inWorker).toBe(1);
    expect(backend.threads).toBe(2);
    backend.setThreads(0);
  });
});
