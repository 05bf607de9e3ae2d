/**
 * GPU NTT checks, run in a child process (see gpu-ntt.test.ts): Dawn must load with LD_LIBRARY_PATH and
 * VK_DRIVER_FILES already in the environment, which a vitest worker cannot arrange for itself.
 *
 *   node test/gpu/gpu-checks.ts run          → runs every check, prints one JSON line of results
 *   node test/gpu/gpu-checks.ts no-adapter   → checks the CPU fallback when no adapter exists
 * Oracles: the BigInt reference (itself verified against the spec's SEAL vectors), hefty's native NTT engine
 * (transform-checks.ts) and the native CKKS evaluator's bytes (batch-checks.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HeftyError } from '../../src/errors.ts';
import { acquireGpu, gpuAvailable, releaseGpu } from '../../src/gpu/device.ts';
import { createGpuNtt } from '../../src/gpu/ntt.ts';
import { createNttDispatcher, measureOffloadThreshold, shouldOffload, thresholdFrom } from '../../src/gpu/offload.ts';
import { referenceForward, referenceInverse } from '../../src/gpu/reference-ntt.ts';
import type { WordMode } from '../../src/gpu/wgsl-arith.ts';
import { PRIME_61, PRIMES_30, PRIMES_60, expectCode, expectEqual, largestNttPrime, sampleBatch } from './fixtures.ts';
import {
  batchWithoutAdapter,
  checkBatchKeySwitch,
  checkBatchRouting,
  expectKeySwitchMutationCaught,
  prepareBatchDeviceLoss,
} from './batch-checks.ts';
import {
  checkAgainstNative,
  checkTransforms,
  disposeNativeDriver,
  expectCaught,
  expectPointwiseCaught,
  plan,
  type CheckOutcome,
} from './transform-checks.ts';

interface NttVector {
  q: string;
  N?: string;
  input?: string[];
  forward?: string[];
  forward_sha256_le_u64?: string;
}
const VECTORS = JSON.parse(readFileSync(new URL('./seal-ntt-vectors.json', import.meta.url), 'utf8')).ntt as Record<
  string,
  NttVector
>;

/** NTT-domain ops, a device-resident sequence, against BigInt on the same values. */
async function checkPointwise(n: number, moduli: readonly bigint[], wordMode?: WordMode) {
  const ntt = await plan(n, moduli, wordMode);
  const polys = 3;
  const a = sampleBatch(n, moduli, polys, 11);
  const b = sampleBatch(n, moduli, polys, 12).reverse(); // reversal keeps 0/q−1 but pairs them differently
  for (let i = 0; i < b.length; i++) b[i] %= moduli[Math.floor(i / n) % moduli.length];
  const c = sampleBatch(n, moduli, polys, 13);
  const q = (i: number) => moduli[Math.floor(i / n) % moduli.length];
  const sum = a.map((x, i) => (x + b[i]) % q(i));
  const diff = a.map((x, i) => (x - b[i] + q(i)) % q(i));
  const prod = a.map((x, i) => (x * b[i]) % q(i));
  const mac = c.map((x, i) => (x + a[i] * b[i]) % q(i));
  const [da, db, dc, out] = [ntt.upload(a), ntt.upload(b), ntt.upload(c), ntt.allocate(polys)];
  try {
    ntt.add(da, db, out);
    expectEqual(await ntt.read(out), sum, `add ${ntt.wordMode}`);
    ntt.sub(da, db, out);
    expectEqual(await ntt.read(out), diff, `sub ${ntt.wordMode}`);
    ntt.mul(da, db, out);
    expectEqual(await ntt.read(out), prod, `mul ${ntt.wordMode}`);
    ntt.mulAccumulate(dc, da, db);
    expectEqual(await ntt.read(dc), mac, `mac ${ntt.wordMode}`);

    // Negacyclic product on the device: forward both, multiply, inverse, one readback.
    const expected = a.slice();
    const bNtt = b.slice();
    referenceForward(expected, n, moduli);
    referenceForward(bNtt, n, moduli);
    for (let i = 0; i < expected.length; i++) expected[i] = (expected[i] * bNtt[i]) % q(i);
    referenceInverse(expected, n, moduli);
    const [ea, eb] = [ntt.upload(a), ntt.upload(b)];
    ntt.forward(ea);
    ntt.forward(eb);
    ntt.mul(ea, eb, out);
    ntt.inverse(out);
    expectEqual(await ntt.read(out), expected, `device-resident a·b ${ntt.wordMode}`);
    for (const batch of [ea, eb]) batch.destroy();
  } finally {
    for (const batch of [da, db, dc, out]) batch.destroy();
    ntt.destroy();
  }
}

/** Key-switching inner product Σ_j digit_j ⊙ key_(j,c) against BigInt, with 0 and q−1 among the operands. */
async function checkInnerProduct(n: number, moduli: readonly bigint[]) {
  const ntt = await plan(n, moduli);
  const [digitCount, outputs] = [3, 2];
  const digits = sampleBatch(n, moduli, digitCount, 31);
  const keys = sampleBatch(n, moduli, digitCount * outputs, 32).reverse();
  const k = moduli.length;
  for (let i = 0; i < keys.length; i++) keys[i] %= moduli[Math.floor(i / n) % k];
  const expected = new BigUint64Array(outputs * k * n);
  for (let c = 0; c < outputs; c++) {
    for (let prime = 0; prime < k; prime++) {
      for (let col = 0; col < n; col++) {
        let sum = 0n;
        for (let j = 0; j < digitCount; j++) {
          sum += digits[(j * k + prime) * n + col] * keys[((j * outputs + c) * k + prime) * n + col];
        }
        expected[(c * k + prime) * n + col] = sum % moduli[prime];
      }
    }
  }
  const [dd, dk, out] = [ntt.upload(digits), ntt.upload(keys), ntt.allocate(outputs)];
  try {
    ntt.innerProduct(dd, dk, out);
    expectEqual(await ntt.read(out), expected, `inner product ${ntt.wordMode}`);
    await expectCode('E_LENGTH_MISMATCH', () => ntt.innerProduct(dd, dd, out));
  } finally {
    for (const batch of [dd, dk, out]) batch.destroy();
    ntt.destroy();
  }
}

async function checkSpecVectors() {
  for (const [name, vector] of Object.entries(VECTORS)) {
    const q = BigInt(vector.q);
    for (const wordMode of q < 1n << 31n ? (['u32', 'u64'] as const) : (['u64'] as const)) {
      if (vector.input && vector.forward) {
        const ntt = await plan(vector.input.length, [q], wordMode);
        const out = await ntt.forwardHost(BigUint64Array.from(vector.input, BigInt));
        expectEqual(out, BigUint64Array.from(vector.forward, BigInt), `${name} ${wordMode}`);
        ntt.destroy();
      } else if (vector.forward_sha256_le_u64) {
        const n = Number(vector.N);
        const ntt = await plan(n, [q], wordMode);
        const out = await ntt.forwardHost(new BigUint64Array(n).map((_, i) => BigInt(i)));
        const digest = createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex');
        if (digest !== vector.forward_sha256_le_u64) throw new Error(`${name}: SHA-256 differs`);
        ntt.destroy();
      }
    }
  }
}

async function checkBadInput() {
  const n = 4096;
  const ntt = await plan(n, PRIMES_60.slice(0, 2));
  const data = sampleBatch(n, PRIMES_60.slice(0, 2), 1, 5);
  data[n + 17] = PRIMES_60[1]; // equal to its prime: not reduced
  await expectCode('E_VALUE_OUT_OF_RANGE', () => ntt.forwardHost(data));
  // The device checks uploads; the report clears the flag, so clean data reads back fine afterwards.
  const clean = sampleBatch(n, PRIMES_60.slice(0, 2), 1, 6);
  expectEqual(await ntt.read(ntt.upload(clean)), clean, 'round trip after a refused upload');
  const small = await plan(n, PRIMES_30.slice(0, 1));
  for (const bad of [PRIMES_30[0], 1n << 32n, (1n << 64n) - 1n]) {
    const words = sampleBatch(n, PRIMES_30.slice(0, 1), 1, 7);
    words[n - 3] = bad;
    await expectCode('E_VALUE_OUT_OF_RANGE', async () => small.read(small.upload(words)));
  }
  small.destroy();
  await expectCode('E_LENGTH_MISMATCH', () => ntt.forwardHost(new BigUint64Array(n)));
  const batch = ntt.allocate(1);
  await expectCode('E_INVALID_ARGUMENT', () => ntt.mulAccumulate(batch, batch, batch));
  batch.destroy();
  await expectCode('E_DISPOSED', () => ntt.forward(batch));
  await expectCode('E_INVALID_PARAMS', () => createGpuNtt({ n, moduli: [1073741827n] }, { mode: 'on' })); // not 1 mod 2N
  await expectCode('E_INVALID_ARGUMENT', () => createGpuNtt({ n: 3000, moduli: PRIMES_30 }, { mode: 'on' }));
  ntt.destroy();
}

/** The offload policy measures both paths and decides consistently with what it measured. */
async function checkOffloadPolicy() {
  const n = 4096;
  const ntt = await plan(n, PRIMES_60.slice(0, 2));
  const threshold = await measureOffloadThreshold(ntt, (data) => referenceForward(data, n, ntt.moduli), {
    batchSizes: [1, 2],
    repeats: 1,
  });
  ntt.destroy();
  if (threshold.timings.length !== 2 || threshold.timings.some((t) => !(t.cpuMs > 0 && t.gpuMs > 0))) {
    throw new Error(`implausible timings ${JSON.stringify(threshold.timings)}`);
  }
  if (threshold.minPolys !== thresholdFrom(threshold.timings)) throw new Error('threshold differs from timings');
  for (const polys of [1, 2, 100]) {
    if (shouldOffload(threshold, polys) !== (threshold.minPolys !== null && polys >= threshold.minPolys)) {
      throw new Error(`inconsistent decision at ${polys}`);
    }
  }
}

/** The dispatcher's GPU and CPU routes give identical results; on forces the GPU, off never uses it. */
async function checkDispatcher() {
  const n = 4096;
  const moduli = PRIMES_60.slice(0, 2);
  const cpu = {
    forward: (data: BigUint64Array) => referenceForward(data, n, moduli),
    inverse: (data: BigUint64Array) => referenceInverse(data, n, moduli),
  };
  const input = sampleBatch(n, moduli, 2, 21);
  const expected = input.slice();
  referenceForward(expected, n, moduli);
  const auto = await createNttDispatcher({ n, moduli }, cpu, { mode: 'auto', batchSizes: [1, 2], repeats: 1 });
  const viaAuto = input.slice();
  if ((await auto.forward(viaAuto)) !== auto.route(2)) throw new Error('auto took another path than route()');
  expectEqual(viaAuto, expected, 'dispatcher auto');
  auto.destroy();
  const on = await createNttDispatcher({ n, moduli }, cpu, { mode: 'on' });
  const viaGpu = input.slice();
  if ((await on.forward(viaGpu)) !== 'gpu' || on.threshold !== undefined) throw new Error('on must use the GPU');
  expectEqual(viaGpu, expected, 'dispatcher on');
  if ((await on.inverse(viaGpu)) !== 'gpu') throw new Error('on must use the GPU');
  expectEqual(viaGpu, input, 'dispatcher on inverse');
  on.destroy();
  const off = await createNttDispatcher({ n, moduli }, cpu, { mode: 'off' });
  if (off.gpu !== null || off.route(1000) !== 'cpu') throw new Error('off must stay on the CPU');
}

/** After the device is gone: typed errors from the plan, CPU routing from an auto dispatcher. Runs last. */
async function checkDeviceLoss() {
  const n = 4096;
  const moduli = PRIMES_30.slice(0, 1);
  const cpu = {
    forward: (data: BigUint64Array) => referenceForward(data, n, moduli),
    inverse: (data: BigUint64Array) => referenceInverse(data, n, moduli),
  };
  const dispatcher = await createNttDispatcher({ n, moduli }, cpu, { mode: 'auto', batchSizes: [1], repeats: 1 });
  const ntt = await plan(n, moduli);
  const batch = ntt.allocate(1);
  const checkBatchEvaluators = await prepareBatchDeviceLoss();
  await releaseGpu();
  await expectCode('E_BACKEND_UNAVAILABLE', () => ntt.forward(batch));
  await expectCode('E_BACKEND_UNAVAILABLE', () => ntt.allocate(1));
  const data = sampleBatch(n, moduli, 4, 41);
  const expected = data.slice();
  referenceForward(expected, n, moduli);
  if ((await dispatcher.forward(data)) !== 'cpu') throw new Error('a lost device must route to the CPU');
  expectEqual(data, expected, 'dispatcher after device loss');
  await checkBatchEvaluators();
}

/** Every check; each either passes (returns nothing), throws, or says why it could not run here. */
export const CHECKS: Record<string, () => Promise<CheckOutcome>> = {
  'SEAL spec NTT vectors (N=8, 16, 8192, 16384; u32 and u64 kernels)': checkSpecVectors,
  'N=4096, 3×30-bit primes, 4 polys (u32)': () => checkTransforms(4096, PRIMES_30, 4),
  'N=4096, 3×60-bit primes, 4 polys (u64)': () => checkTransforms(4096, PRIMES_60, 4),
  'host transform in chunks: 5 polys through batches of 2 (u64 and u32)': async () => {
    await checkTransforms(4096, PRIMES_60.slice(0, 2), 5, undefined, 2);
    await checkTransforms(4096, PRIMES_30.slice(0, 2), 5, undefined, 2);
  },
  'N=4096, one prime each of 32, 36, 40, 45, 50, 55, 59, 61 bits (u64)': () =>
    checkTransforms(4096, [32, 36, 40, 45, 50, 55, 59, 61].map(largestNttPrime), 1),
  'N=8192, 31/60/61-bit mix, 2 polys (u64)': () => checkTransforms(8192, [PRIMES_30[0], PRIMES_60[0], PRIME_61], 2),
  'N=16384, 2×30-bit primes, 2 polys (u32)': () => checkTransforms(16384, PRIMES_30.slice(0, 2), 2),
  'N=32768, 2×60-bit primes, 1 poly (u64)': () => checkTransforms(32768, PRIMES_60.slice(0, 2), 1),
  'N=65536, 2×30-bit primes, 1 poly (u32)': () => checkTransforms(65536, PRIMES_30.slice(0, 2), 1),
  'N=65536, 2×60-bit primes, 1 poly (u64)': () => checkTransforms(65536, PRIMES_60.slice(0, 2), 1),
  'pointwise add/sub/mul/mac + device-resident product (u32)': () => checkPointwise(4096, PRIMES_30),
  'pointwise add/sub/mul/mac + device-resident product (u64)': () => checkPointwise(4096, PRIMES_60),
  'pointwise on 30-bit primes through the forced u64 kernels': () => checkPointwise(4096, PRIMES_30, 'u64'),
  'key-switching inner product (u32)': () => checkInnerProduct(4096, PRIMES_30),
  'key-switching inner product (u64)': () => checkInnerProduct(4096, PRIMES_60),
  'native engine: N=4096, 3×30-bit (u32), 4 polys: NTT, INTT, add/sub/mul/mac': () =>
    checkAgainstNative(4096, PRIMES_30, 4),
  'native engine: N=4096, 3×60-bit (u64), 4 polys: NTT, INTT, add/sub/mul/mac': () =>
    checkAgainstNative(4096, PRIMES_60, 4),
  'native engine: N=8192, 3×30-bit (u32), 2 polys': () => checkAgainstNative(8192, PRIMES_30, 2),
  'native engine: N=8192, 31/60/61-bit mix, 2 polys': () =>
    checkAgainstNative(8192, [PRIMES_30[0], PRIMES_60[0], PRIME_61], 2),
  'native engine: N=16384, 2×30-bit (u32), 2 polys': () => checkAgainstNative(16384, PRIMES_30.slice(0, 2), 2),
  'native engine: N=16384, 2×60-bit (u64), 2 polys': () => checkAgainstNative(16384, PRIMES_60.slice(0, 2), 2),
  'native engine: N=32768, 2×30-bit (u32), 2 polys': () => checkAgainstNative(32768, PRIMES_30.slice(0, 2), 2),
  'native engine: N=32768, 2×60-bit (u64), 2 polys': () => checkAgainstNative(32768, PRIMES_60.slice(0, 2), 2),
  'native engine: N=65536, 2×30-bit (u32), 2 polys': () => checkAgainstNative(65536, PRIMES_30.slice(0, 2), 2),
  'native engine: N=65536, 2×60-bit (u64), 2 polys': () => checkAgainstNative(65536, PRIMES_60.slice(0, 2), 2),
  'bad input gives typed errors': checkBadInput,
  'offload policy decides from measured timings': checkOffloadPolicy,
  'NTT dispatcher: auto/on/off routes, identical results': checkDispatcher,
  'mutation: wrong forward butterfly is caught (u32)': () => expectCaught('forward-butterfly', 4096, PRIMES_30),
  'mutation: dropped carry in 64-bit multiply is caught (u64)': () => expectCaught('drop-carry', 4096, PRIMES_60),
  'mutation: dropped carry is caught in the pointwise product (u64)': expectPointwiseCaught,
  'batched relinearize + rotate on the GPU = CPU bytes (N=8192, 60/40-bit, u64 kernels)': () =>
    checkBatchKeySwitch(8192, [60, 40, 40, 60], 40),
  'batched relinearize + rotate on the GPU = CPU bytes (N=4096, 30-bit, u32 kernels)': () =>
    checkBatchKeySwitch(4096, [30, 30, 30], 25),
  'batch evaluator: off stays on the CPU, auto routes by its own measurement': checkBatchRouting,
  'mutation: key switching that floors instead of rounding decrypts but is caught by the bytes':
    expectKeySwitchMutationCaught,
  'device loss: typed errors, dispatcher and batch evaluator fall back to the CPU (auto)': checkDeviceLoss,
};

export interface CheckReport {
  adapter: string | null;
  reason?: string;
  results: Record<string, { ok: boolean; skipped?: string; error?: string; ms: number }>;
}

async function runChecks(): Promise<CheckReport> {
  const acquisition = await acquireGpu({ mode: 'auto', log: () => {} });
  if (!acquisition.ok) return { adapter: null, reason: acquisition.reason, results: {} };
  const results: CheckReport['results'] = {};
  for (const [name, check] of Object.entries(CHECKS)) {
    const start = performance.now();
    try {
      const outcome = await check();
      results[name] = { ok: true, ...(outcome ?? {}), ms: performance.now() - start };
    } catch (error) {
      results[name] = { ok: false, error: String((error as Error).stack ?? error), ms: performance.now() - start };
    }
  }
  return { adapter: acquisition.gpu.adapterDescription, results };
}

/** With no adapter: auto falls back (null), on is a typed error, off never loads Dawn. */
async function runNoAdapter(): Promise<Record<string, unknown>> {
  const available = await gpuAvailable({ mode: 'auto', log: () => {} });
  const auto = await createGpuNtt({ n: 4096, moduli: PRIMES_30 }, { mode: 'auto' });
  let onCode: string | undefined;
  try {
    await createGpuNtt({ n: 4096, moduli: PRIMES_30 }, { mode: 'on' });
  } catch (error) {
    onCode = (error as HeftyError).code;
  }
  const batch = await batchWithoutAdapter();
  await releaseGpu();
  const off = await acquireGpu({ mode: 'off' });
  return { available, autoIsNull: auto === null, onCode, offReason: off.ok ? null : off.reason, ...batch };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  const report = command === 'no-adapter' ? await runNoAdapter() : await runChecks();
  disposeNativeDriver();
  await releaseGpu();
  process.stdout.write(`\n@@RESULT ${JSON.stringify(report)}\n`);
}
