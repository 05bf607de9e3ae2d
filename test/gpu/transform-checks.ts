/**
 * Transform checks shared by the GPU suite: a plan helper, forward/inverse against the BigInt reference, the
 * cross-check against hefty's native engine (transforms and pointwise ops), and the mutation checks that must
 * fail on deliberately broken kernels. Run inside the gpu-checks child (see gpu-checks.ts).
 */
import { createGpuNtt, type GpuPolyBatch } from '../../src/gpu/ntt.ts';
import { referenceForward, referenceInverse } from '../../src/gpu/reference-ntt.ts';
import type { NttMutation } from '../../src/gpu/wgsl-kernels.ts';
import type { WordMode } from '../../src/gpu/wgsl-arith.ts';
import { PRIMES_60, expectEqual, sampleBatch } from './fixtures.ts';
import { buildNativeNttDriver, type NativeNttDriver } from './native/driver.ts';

/** A check either passes (returns nothing), throws, or says why it could not run here. */
export type CheckOutcome = void | { skipped: string };

export async function plan(
  n: number,
  moduli: readonly bigint[],
  wordMode?: WordMode,
  mutation?: NttMutation,
  maxBatchPolys?: number,
) {
  const ntt = await createGpuNtt({ n, moduli, wordMode, mutation, maxBatchPolys }, { mode: 'on', log: () => {} });
  if (!ntt) throw new Error('no plan');
  return ntt;
}

export async function checkTransforms(
  n: number,
  moduli: readonly bigint[],
  polys: number,
  mutation?: NttMutation,
  maxBatchPolys?: number,
) {
  const ntt = await plan(n, moduli, undefined, mutation, maxBatchPolys);
  try {
    const input = sampleBatch(n, moduli, polys, n + moduli.length);
    const expected = input.slice();
    referenceForward(expected, n, moduli);
    const actual = await ntt.forwardHost(input.slice());
    expectEqual(actual, expected, `forward N=${n} ${ntt.wordMode}`);
    const expectedInverse = input.slice();
    referenceInverse(expectedInverse, n, moduli);
    expectEqual(await ntt.inverseHost(input.slice()), expectedInverse, `inverse N=${n} ${ntt.wordMode}`);
    expectEqual(await ntt.inverseHost(actual), input, `inverse∘forward N=${n} ${ntt.wordMode}`);
  } finally {
    ntt.destroy();
  }
}

/** The native driver, built once per run: hefty's own NTT engine and Mod arithmetic (native/rlwe). */
let nativeDriver: NativeNttDriver | { skipped: string } | undefined;
export function native(): NativeNttDriver | { skipped: string } {
  nativeDriver ??= buildNativeNttDriver();
  return nativeDriver;
}

/**
 * GPU forward, inverse, add, sub, mul and mac over a batch (edge rows of 0 and q−1 included) against hefty's
 * native engine on the same words. Skipped, saying why, when the native driver cannot be built.
 */
export async function checkAgainstNative(
  n: number,
  moduli: readonly bigint[],
  polys: number,
  mutation?: NttMutation,
): Promise<CheckOutcome> {
  const driver = native();
  if ('skipped' in driver) return driver;
  const ntt = await plan(n, moduli, undefined, mutation);
  const k = moduli.length;
  const reduced = (data: BigUint64Array) => data.map((x, i) => x % moduli[Math.floor(i / n) % k]);
  const a = sampleBatch(n, moduli, polys, n + 7 * k);
  const b = reduced(sampleBatch(n, moduli, polys, n + 7 * k + 1).reverse());
  const c = sampleBatch(n, moduli, polys, n + 7 * k + 2);
  const what = (op: string) => `GPU vs native ${op} N=${n} ${k}×${ntt.wordMode} ${polys} polys`;
  const batches: GpuPolyBatch[] = [];
  try {
    expectEqual(await ntt.forwardHost(a.slice()), driver.run(n, moduli, 'forward', a).output, what('forward'));
    expectEqual(await ntt.inverseHost(a.slice()), driver.run(n, moduli, 'inverse', a).output, what('inverse'));
    const [da, db, dc, out] = [ntt.upload(a), ntt.upload(b), ntt.upload(c), ntt.allocate(polys)];
    batches.push(da, db, dc, out);
    for (const op of ['add', 'sub', 'mul'] as const) {
      ntt[op](da, db, out);
      expectEqual(await ntt.read(out), driver.run(n, moduli, op, a, b).output, what(op));
    }
    ntt.mulAccumulate(dc, da, db);
    expectEqual(await ntt.read(dc), driver.run(n, moduli, 'mac', c, a, b).output, what('mac'));
  } finally {
    for (const batch of batches) batch.destroy();
    ntt.destroy();
  }
}

/**
 * A deliberately broken kernel must be caught by the very checks above: the BigInt transform check and the
 * native cross-check (transforms and pointwise ops) must both fail on it.
 */
export async function expectCaught(mutation: NttMutation, n: number, moduli: readonly bigint[]) {
  const caught = async (check: () => Promise<unknown>) => {
    try {
      await check();
    } catch (error) {
      if (String(error).includes('differ')) return true;
      throw error;
    }
    return false;
  };
  if (!(await caught(() => checkTransforms(n, moduli, 1, mutation)))) {
    throw new Error(`mutation ${mutation} was not detected by the BigInt transform check`);
  }
  if ('skipped' in native()) return;
  if (!(await caught(() => checkAgainstNative(n, moduli, 2, mutation)))) {
    throw new Error(`mutation ${mutation} was not detected by the native cross-check`);
  }
}

/** drop-carry breaks the 64-bit product everywhere: the pointwise product alone must show it too. */
export async function expectPointwiseCaught() {
  const n = 4096;
  const moduli = PRIMES_60;
  const ntt = await plan(n, moduli, undefined, 'drop-carry');
  const a = sampleBatch(n, moduli, 2, 61);
  const b = sampleBatch(n, moduli, 2, 62);
  const expected = a.map((x, i) => (x * b[i]) % moduli[Math.floor(i / n) % moduli.length]);
  const [da, db, out] = [ntt.upload(a), ntt.upload(b), ntt.allocate(2)];
  ntt.mul(da, db, out);
  const actual = await ntt.read(out);
  for (const batch of [da, db, out]) batch.destroy();
  ntt.destroy();
  try {
    expectEqual(actual, expected, 'mutated pointwise mul');
  } catch {
    return;
  }
  throw new Error('mutation drop-carry in the pointwise product was not detected');
}

/** Removes the native driver's build folder (end of the run). */
export function disposeNativeDriver(): void {
  if (nativeDriver && !('skipped' in nativeDriver)) nativeDriver.dispose();
  nativeDriver = undefined;
}
