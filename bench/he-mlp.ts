/**
 * Private-inference MLP 784→128→10 with a degree-3 activation, at N=16384 with the default chain, native engine
 * with 1 thread: matvec (BSGS) → polyval → matvec. Reports the first call (diagonals encoded and cached) and warm
 * calls, in milliseconds and in rotation-equivalents (the time over one top-level rotation's, measured in the
 * same run; CPU time of this process, see timeAsync), the rotations and relinearizations counted at the key
 * switcher, and the levels used.
 * Two inputs: a fresh encryption (the first layer replicates it: log2(slots/1024) rotations), and one the client
 * encrypted with period 1024 (`ctx.encrypt(x, { period: 1024 })`), the layout the first layer wants; and that one
 * dropped to the 4 levels the MLP needs (`v.atLevel(4)`), as a planner that knows the program's depth would.
 * Target (issue 12): warm ≤ 40 rotation-equivalents and ≤ 4 levels.
 * On Linux it then runs itself once more with glibc's malloc told to keep freed memory (mmap threshold 32 MiB,
 * trim threshold 512 MiB): at N=16384 a ciphertext is 1.8 MB, and with the default dynamic thresholds many live
 * temporaries (baby steps, hoisted outputs) make each new one fresh, page-faulting memory; the second table shows
 * what that costs.
 *
 *   node bench/he-mlp.ts [--reps=3]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createContext } from '../src/api/context.ts';
import type { CKKSVector } from '../src/api/ckks-vector.ts';
import { linearTransformSteps, outputPeriod } from '../src/api/he/linear-transform.ts';
import { loadBackend } from '../src/backend/load.ts';
import { CountingKeySwitcher, median, timeAsync, timeSync, writeBenchResults } from './he-counting.ts';

const args = process.argv.slice(2);
const reps = Number(args.find((a) => a.startsWith('--reps='))?.slice('--reps='.length) ?? 3);
const TUNED_MALLOC = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912';
const tuned = process.env.GLIBC_TUNABLES === TUNED_MALLOC;
const N = 16384;
const SLOTS = N / 2;
const [inputs, hidden, classes] = [784, 128, 10];
/** A degree-3 activation (least-squares sigmoid on [-8, 8]). */
const ACTIVATION = [0.5, 0.197, 0, -0.004];

const native = await loadBackend('native');
if ('setThreads' in native && typeof native.setThreads === 'function') native.setThreads(1);

const INPUT_PERIOD = 1024;
const layer1 = linearTransformSteps(hidden, inputs, SLOTS);
const layer1Periodic = linearTransformSteps(hidden, inputs, SLOTS, { inputPeriod: INPUT_PERIOD });
const layer2 = linearTransformSteps(classes, hidden, SLOTS, { inputPeriod: outputPeriod(hidden, SLOTS) });
const steps = [...new Set([...layer1.galoisSteps, ...layer1Periodic.galoisSteps, ...layer2.galoisSteps, 1])].sort(
  (a, b) => a - b,
);
const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend: 'native' });
ctx.keygen({ galois: steps });
const counter = new CountingKeySwitcher(ctx.session);
ctx.session.useKeySwitcher(counter);

function random(length: number, seed: number, magnitude: number): number[] {
  let state = seed;
  return Array.from({ length }, () => {
    state = (state * 48271) % 2147483647;
    return ((state / 2147483647) * 2 - 1) * magnitude;
  });
}

const w1 = Array.from({ length: hidden }, (_, i) => random(inputs, 1 + i, 0.1));
const w2 = Array.from({ length: classes }, (_, i) => random(hidden, 5000 + i, 0.3));
const x = random(inputs, 777, 1);
const dense = (w: number[][], v: number[]) => w.map((row) => row.reduce((acc, m, j) => acc + m * v[j], 0));
const activation = (t: number) => ACTIVATION.reduce((acc, c, k) => acc + c * t ** k, 0);
const want = dense(w2, dense(w1, x).map(activation));

async function infer(v: CKKSVector): Promise<CKKSVector> {
  const h = await v.matvecAsync(w1);
  const a = await h.polyvalAsync(ACTIVATION);
  h.dispose();
  const out = await a.matvecAsync(w2);
  a.dispose();
  return out;
}

// One top-level rotation, the unit of rotation-equivalents (median of several, same run).
const probe = ctx.encrypt(x);
const rotationTimes: number[] = [];
for (let i = 0; i < 15; i++) {
  const { ms, value } = timeSync(() => ctx.session.evaluator.rotateVector(probe.chunks[0], 1, ctx.session.galoisKeys));
  rotationTimes.push(ms);
  value.dispose();
}
const rotationMs = median(rotationTimes);

async function measure(input: CKKSVector) {
  const times: number[] = [];
  let error = 0;
  let levels = 0;
  let counts = { rotations: 0, hoisted: 0, relinearizations: 0 };
  for (let r = 0; r <= reps; r++) {
    counter.reset();
    const { ms, value } = await timeAsync(() => infer(input));
    times.push(ms);
    counts = {
      rotations: counter.rotations,
      hoisted: counter.hoistedRotations,
      relinearizations: counter.relinearizations,
    };
    const got = value.decrypt();
    error = Math.max(...want.map((w, i) => Math.abs(got[i] - w)));
    levels = input.chainIndex - value.chainIndex;
    value.dispose();
  }
  const first = times[0];
  const warm = median(times.slice(1));
  return {
    firstMs: first,
    warmMs: warm,
    firstRotationEquivalents: first / rotationMs,
    warmRotationEquivalents: warm / rotationMs,
    levels,
    availableLevels: input.chainIndex,
    ...counts,
    maxError: error,
  };
}

const periodic = ctx.encrypt(x, { period: INPUT_PERIOD });
// The MLP needs 4 levels: started at chain index 4 it runs on 5 primes instead of 7.
const trimmed = periodic.atLevel(4);
const runs = [
  { input: 'fresh encryption', ...(await measure(probe)) },
  { input: `encrypted with period ${INPUT_PERIOD}`, ...(await measure(periodic)) },
  { input: `period ${INPUT_PERIOD}, dropped to the 4 levels it needs`, ...(await measure(trimmed)) },
];
periodic.dispose();
trimmed.dispose();
const result = {
  rotationMs,
  galoisKeys: steps.length,
  diagonalCacheBytes: ctx.session.diagonalCache.stats.bytes,
  runs,
};
const table = [
  `MLP ${inputs}→${hidden}→${classes}, degree-3 activation, N=${N} default chain, native 1 thread, CPU ms ` +
    `(warm: median of ${reps}); one top-level rotation: ${rotationMs.toFixed(1)} ms` +
    (tuned ? `; GLIBC_TUNABLES=${TUNED_MALLOC}` : ''),
  '',
  '| input | first ms | warm ms | first rot-eq | warm rot-eq | levels used / available | rotations (hoisted) | relins | max error |',
  '|---|---|---|---|---|---|---|---|---|',
  ...runs.map(
    (r) =>
      `| ${r.input} | ${r.firstMs.toFixed(0)} | ${r.warmMs.toFixed(0)} | ${r.firstRotationEquivalents.toFixed(1)} | ` +
      `${r.warmRotationEquivalents.toFixed(1)} ${r.warmRotationEquivalents <= 40 ? '✓' : '✗'} (≤40) | ` +
      `${r.levels} / ${r.availableLevels} ${r.levels <= 4 ? '✓' : '✗'} (≤4) | ${r.rotations + r.hoisted} (${r.hoisted}) | ` +
      `${r.relinearizations} | ${r.maxError.toExponential(1)} |`,
  ),
].join('\n');
console.log(table);
writeBenchResults(tuned ? 'he-mlp-malloc-tuned' : 'he-mlp', result, table);
probe.dispose();
ctx.dispose();

if (!tuned && process.platform === 'linux') {
  console.log('');
  spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: TUNED_MALLOC },
  });
}
