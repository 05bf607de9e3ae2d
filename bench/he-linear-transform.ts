/**
 * matvec at N=8192 (slots 4096), from one run: the BSGS linear transform (src/api/he/linear-transform.ts) on the
 * native engine (1 thread), first call (encodes and caches the diagonals) and warm (cached diagonals), against
 * the old per-row algorithm (kept below as the baseline, built from the vector-op helpers: per row a
 * rotate-and-sum over all slots and a unit-vector mask, 2 levels) and against the same BSGS on node-seal.
 * Reports time ratios, rotations (counted at the key switcher), levels and the galois key bytes each needs.
 * Target: 64×4096 BSGS (warm) ≥ 15× faster than per-row.
 *
 *   node bench/he-linear-transform.ts [--shapes=64x4096,256x4096] [--reps=3]
 */
import { createContext, type HeftyContext } from '../src/api/context.ts';
import type { CKKSVector } from '../src/api/ckks-vector.ts';
import * as ops from '../src/api/ckks-ops.ts';
import type { Plan } from '../src/api/key-switching.ts';
import type { Session } from '../src/api/session.ts';
import { linearTransformSteps } from '../src/api/he/linear-transform.ts';
import type { Ciphertext } from '../src/backend/types.ts';
import { loadBackend } from '../src/backend/load.ts';
import { CountingKeySwitcher, median, timeAsync, writeBenchResults } from './he-counting.ts';

const args = process.argv.slice(2);
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const shapes = (arg('shapes') ?? '64x4096,256x4096')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const reps = Number(arg('reps') ?? 3);
const N = 8192;
const SLOTS = N / 2;

/** The per-row algorithm matvec used before BSGS (one request per rotate-sum step over a group of rows). */
function* perRowMatvec(s: Session, x: Ciphertext, rows: readonly Float64Array[]): Plan<Ciphertext> {
  const parts: Ciphertext[] = [];
  try {
    for (let first = 0; first < rows.length; first += 64) {
      const group = rows.slice(first, first + 64);
      const rowDots = ops.mapAll(group, (row) => ops.multiplyValues(s, x, row));
      const everywhere = yield* ops.consumePlan(rowDots, (d) => ops.rotateSumMany(s, d, s.slotCount));
      try {
        everywhere.forEach((e, j) => {
          const unit = new Float64Array(first + j + 1);
          unit[first + j] = 1;
          parts.push(ops.multiplyValuesNoRescale(s, e, unit));
        });
      } finally {
        ops.disposeAll(everywhere);
      }
    }
    return ops.consume(ops.addAll(s, parts), (c) => s.evaluator.rescaleToNext(c));
  } finally {
    ops.disposeAll(parts);
  }
}

const native = await loadBackend('native');
if ('setThreads' in native && typeof native.setThreads === 'function') native.setThreads(1);

const bsgsSteps = [...new Set(shapes.flatMap(([m, n]) => linearTransformSteps(m, n, SLOTS).galoisSteps))].sort(
  (a, b) => a - b,
);
const perRowSteps = Array.from({ length: Math.log2(SLOTS) }, (_, k) => 2 ** k);

async function context(backend: 'native' | 'wasm', steps: number[]): Promise<HeftyContext> {
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend });
  ctx.keygen({ galois: steps });
  return ctx;
}

const nativeCtx = await context('native', [...new Set([...bsgsSteps, ...perRowSteps])]);
const sealCtx = await context('wasm', bsgsSteps);
const galois = nativeCtx.session.galoisKeys;
const bytesPerKey = galois.save('none').length / galois.galoisElts.length;
const counter = new CountingKeySwitcher(nativeCtx.session);
nativeCtx.session.useKeySwitcher(counter);

function random(length: number, seed: number): Float64Array {
  let state = seed;
  return Float64Array.from({ length }, () => {
    state = (state * 48271) % 2147483647;
    return (state / 2147483647) * 2 - 1;
  });
}

function maxError(got: Float64Array, want: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst;
}

const results = [];
for (const [m, n] of shapes) {
  const matrix = Array.from({ length: m }, (_, i) => random(n, 1 + i));
  const x = random(n, 999);
  const want = Float64Array.from(matrix, (row) => row.reduce((acc, v, j) => acc + v * x[j], 0));
  const planned = linearTransformSteps(m, n, SLOTS);

  const vx = nativeCtx.encrypt(x);
  const measure = async (v: CKKSVector, count: number) => {
    const times: number[] = [];
    let error = 0;
    let levels = 0;
    for (let r = 0; r < count; r++) {
      const { ms, value } = await timeAsync(() => v.matvecAsync(matrix));
      times.push(ms);
      error = maxError(value.decrypt(), want);
      levels = v.chainIndex - value.chainIndex;
      value.dispose();
    }
    return { first: times[0], warm: median(times.slice(1)), error, levels };
  };
  counter.reset();
  const bsgs = await measure(vx, reps + 1);
  const bsgsRotations = {
    plain: counter.rotations / (reps + 1),
    hoisted: counter.hoistedRotations / (reps + 1),
  };

  counter.reset();
  const perRowRun = await timeAsync(() => nativeCtx.session.run(perRowMatvec(nativeCtx.session, vx.chunks[0], matrix)));
  const perRowOut = perRowRun.value;
  const perRowError = maxError(
    nativeCtx.session.ckksEncoder.decode(nativeCtx.session.decryptor.decrypt(perRowOut)),
    want,
  );
  const perRow = {
    ms: perRowRun.ms,
    rotations: counter.rotations,
    levels: vx.chainIndex - perRowOut.chainIndex,
    error: perRowError,
  };
  perRowOut.dispose();

  const sx = sealCtx.encrypt(x);
  const seal = await measure(sx, Math.max(2, reps));
  sx.dispose();
  vx.dispose();

  results.push({
    shape: `${m}x${n}`,
    bsgs: {
      ...bsgs,
      rotations: bsgsRotations,
      planned: planned.rotations,
      keyBytes: planned.galoisSteps.length * bytesPerKey,
    },
    perRow: { ...perRow, keyBytes: perRowSteps.length * bytesPerKey },
    seal,
    speedupWarm: perRow.ms / bsgs.warm,
    speedupFirst: perRow.ms / bsgs.first,
    sealOverNative: seal.warm / bsgs.warm,
  });
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const lines = [
  `matvec at N=${N} (slots ${SLOTS}), native 1 thread, CPU ms (see he-counting.ts timeAsync); BSGS warm = median of ${reps} with cached diagonals`,
  '',
  '| shape | per-row ms | BSGS first ms | BSGS warm ms | per-row / BSGS warm | per-row / BSGS first | node-seal BSGS warm ms | node-seal / native | rotations per-row → BSGS (hoisted) | levels per-row → BSGS | galois keys MB per-row → BSGS | max error BSGS |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.shape} | ${r.perRow.ms.toFixed(0)} | ${r.bsgs.first.toFixed(1)} | ${r.bsgs.warm.toFixed(1)} | ` +
      `${r.speedupWarm.toFixed(1)}×${r.shape === '64x4096' ? (r.speedupWarm >= 15 ? ' ✓ (≥15)' : ' ✗ (<15)') : ''} | ` +
      `${r.speedupFirst.toFixed(1)}× | ${r.seal.warm.toFixed(0)} | ${r.sealOverNative.toFixed(1)}× | ` +
      `${r.perRow.rotations} → ${r.bsgs.rotations.plain + r.bsgs.rotations.hoisted} (${r.bsgs.rotations.hoisted}) | ` +
      `${r.perRow.levels} → ${r.bsgs.levels} | ${mb(r.perRow.keyBytes)} → ${mb(r.bsgs.keyBytes)} | ${r.bsgs.error.toExponential(1)} |`,
  ),
];
const table = lines.join('\n');
console.log(table);
writeBenchResults('he-linear-transform', results, table);
nativeCtx.dispose();
sealCtx.dispose();
