/**
 * Key switching as plans (src/api/key-switching.ts): the async vector operations programs use give the sync
 * API's bytes exactly, with one key-switching request per step over all chunks; with HEFTY_GPU unset they run
 * on the CPU evaluator. The GPU side of the same paths: test/gpu/gpu-program.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type CKKSVector, type HeftyContext } from '../../src/index.ts';
import type { GpuMode } from '../../src/gpu/device.ts';
import { createPool } from '../../src/pool/pool.ts';
import { expectHeftyError, expectHeftyErrorAsync, maxAbsError, randomVector } from '../helpers.ts';

/** These tests measure the engine's precision, so they read the exact decoding (nothing here is shared). */
const RAW = { protection: 'raw' } as const;

const sameBytes = (a: CKKSVector, b: CKKSVector) => expect(Buffer.from(a.serialize()).equals(b.serialize())).toBe(true);

describe('async vector operations (key switching through the session)', () => {
  let ctx: HeftyContext;
  const length = 2 * 4096 + 5; // three chunks at N=8192
  const x = randomVector(length, 21);
  const y = randomVector(length, 22);
  let vx: CKKSVector;
  let vy: CKKSVector;

  beforeAll(async () => {
    delete process.env.HEFTY_GPU; // the default (unset: off) is under test
    ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native' });
    ctx.keygen({ galois: 'power-of-two' });
    vx = ctx.encrypt(x);
    vy = ctx.encrypt(y);
  });
  afterAll(() => ctx.dispose());

  it('give the sync bytes, one request over all chunks per key-switching step, on the CPU by default', async () => {
    const single = ctx.encrypt(x.slice(0, 100));
    const matrix = [y, x];
    const pairs: [CKKSVector, CKKSVector][] = [
      [vx.mul(vy), await vx.mulAsync(vy)],
      [vx.mul(vx), await vx.mulAsync(vx)],
      [vx.square(), await vx.squareAsync()],
      [single.rotate(-5), await single.rotateAsync(-5)],
      [vx.sum(), await vx.sumAsync()],
      [vx.dot(vy), await vx.dotAsync(vy)],
      [vx.dot(y), await vx.dotAsync(y)],
      [vx.polyval([0.5, 1, 0.25]), await vx.polyvalAsync([0.5, 1, 0.25])],
      [vx.matvec(matrix), await vx.matvecAsync(matrix)],
    ];
    for (const [sync, async] of pairs) sameBytes(sync, async);
    expect(
      maxAbsError(
        pairs[7][1].decrypt(RAW),
        Array.from(x, (v) => 0.5 + v + 0.25 * v * v),
      ),
    ).toBeLessThan(1e-4);
    const switcher = await ctx.session.keySwitcher();
    expect(switcher.device).toBeNull();
    expect(switcher.stats).toMatchObject({ gpuRequests: 0, largestRequest: 3 });
    for (const v of [single, ...pairs.flat()]) v.dispose();
  });

  it('matvec with more rows than one request group keeps every row in its slot', async () => {
    const short = ctx.encrypt(x.slice(0, 8));
    const rows = Array.from({ length: 65 }, (_, i) => randomVector(8, 100 + i));
    const result = await short.matvecAsync(rows);
    const want = rows.map((row) => row.reduce((acc, m, i) => acc + m * x[i], 0));
    expect(maxAbsError(result.decrypt(RAW), want)).toBeLessThan(1e-3);
    short.dispose();
    result.dispose();
  });

  it('a vector of more than 64 chunks key-switches in requests of at most 64', async () => {
    const small = await createContext({ scheme: 'ckks', polyModulusDegree: 4096, backend: 'native', gpu: 'off' });
    small.keygen();
    const values = randomVector(65 * 2048, 31);
    const v = small.encrypt(values);
    const squared = await v.squareAsync();
    expect(squared.chunkCount).toBe(65);
    expect(
      maxAbsError(
        squared.decrypt(RAW),
        Array.from(values, (a) => a * a),
      ),
    ).toBeLessThan(1e-3);
    expect((await small.session.keySwitcher()).stats).toMatchObject({
      requests: 2,
      ciphertexts: 65,
      largestRequest: 64,
    });
    small.dispose();
  });

  it('a failing key-switching request surfaces its typed error, sync and async', async () => {
    const noRelin = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend: 'native' });
    noRelin.keygen({ relin: false });
    const v = noRelin.encrypt([1, 2, 3]);
    expectHeftyError(() => v.square(), 'E_MISSING_KEY');
    await expectHeftyErrorAsync(v.squareAsync(), 'E_MISSING_KEY');
    await expectHeftyErrorAsync(v.sumAsync(), 'E_MISSING_GALOIS_KEY');
    noRelin.dispose();
  });

  it('an unknown GPU mode is E_INVALID_ARGUMENT (context on first async op, pool at creation)', async () => {
    const bad = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 8192,
      backend: 'native',
      gpu: 'sometimes' as GpuMode,
    });
    bad.keygen();
    const v = bad.encrypt([1]);
    await expectHeftyErrorAsync(v.squareAsync(), 'E_INVALID_ARGUMENT');
    bad.dispose();
    await expectHeftyErrorAsync(createPool({ workers: 1, gpu: 'sometimes' as GpuMode }), 'E_INVALID_ARGUMENT');
  });
});
