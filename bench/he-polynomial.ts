/**
 * Polynomial evaluation (src/api/he/polynomial.ts) against the algorithm it replaced, from one run: degrees 7,
 * 15, 31 and 63 at N=16384 (default chain: 6 levels), native engine on one thread. For each degree: levels
 * used and relinearizations (counted at the key switcher) by the baby-step/giant-step evaluator and by the old
 * term-by-term one (kept below as the baseline), and the median times as ratios: old / new natively, and
 * node-seal running the new evaluator / native. Engines are sampled round-robin so load affects them alike.
 *
 *   node bench/he-polynomial.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createContext, type HeftyContext } from '../src/api/context.ts';
import type { Ciphertext } from '../src/backend/types.ts';
import { HeftyError } from '../src/errors.ts';
import * as ops from '../src/api/ckks-ops.ts';
import { runPlanSync, serveOnCpu, type Plan } from '../src/api/key-switching.ts';
import type { Session } from '../src/api/session.ts';
import { evaluatePolynomial, type PolynomialBasis } from '../src/api/he/polynomial.ts';
import { loadBackend } from '../src/backend/load.ts';

const quick = process.argv.includes('--quick');
const reps = quick ? 1 : 3;
const N = 16384;
const DEGREES = [7, 15, 31, 63];

/**
 * The evaluator before he/polynomial.ts (hefty's own earlier code), as the baseline: every term c·x^k built as
 * (c·x^r)·x^h with h the largest power of two below k, so one product per term and one level more than the
 * optimum for d = 7, 13–15, 25–31, …
 */
function* oldPolynomial(
  s: Session,
  xs: readonly Ciphertext[],
  coeffs: Float64Array,
  lengths: readonly number[],
): Plan<Ciphertext[]> {
  const powers = new Map<number, Ciphertext[]>([[1, ops.mapAll(xs, (x) => x.clone())]]);
  function* power(m: number): Plan<Ciphertext[]> {
    const known = powers.get(m);
    if (known) return known;
    let h = 1;
    while (h * 2 <= m) h *= 2;
    const result =
      h === m
        ? yield* ops.squareMany(s, yield* power(m / 2))
        : yield* multiplyPowers(yield* power(h), yield* power(m - h));
    powers.set(m, result);
    return result;
  }
  const multiplyPowers = (a: readonly Ciphertext[], b: readonly Ciphertext[]) =>
    ops.multiplyMany(
      s,
      a.map((c, k) => [c, b[k]] as const),
    );
  const broadcast = (value: number, k: number) => new Float64Array(lengths[k]).fill(value);
  const scaledBy = (list: readonly Ciphertext[], value: number) =>
    ops.mapAll(list, (c, k) => ops.multiplyValues(s, c, broadcast(value, k)));
  const terms: Ciphertext[][] = [];
  try {
    for (let k = 1; k < coeffs.length; k++) {
      if (coeffs[k] === 0) continue;
      if (k === 1) {
        terms.push(scaledBy(xs, coeffs[1]));
        continue;
      }
      let h = 1;
      while (h * 2 < k) h *= 2;
      const scaled = scaledBy(yield* power(k - h), coeffs[k]);
      const high = yield* ops.consumePlan(scaled, function* (t): Plan<Ciphertext[]> {
        return yield* multiplyPowers(t, yield* power(h));
      });
      terms.push(high);
    }
    const sums = ops.mapAll(xs, (_, k) =>
      ops.addAll(
        s,
        terms.map((t) => t[k]),
      ),
    );
    if (coeffs[0] === 0) return sums;
    try {
      return ops.mapAll(sums, (t, k) => {
        const plain = ops.encodeForAdd(s, t, broadcast(coeffs[0], k));
        try {
          return s.evaluator.addPlain(t, plain);
        } finally {
          plain.dispose();
        }
      });
    } finally {
      ops.disposeAll(sums);
    }
  } finally {
    for (const t of terms) ops.disposeAll(t);
    for (const p of powers.values()) ops.disposeAll(p);
  }
}

interface Run {
  ms: number;
  relinearizations: number;
  levels: number;
}

type Algorithm = 'new' | 'old';

/** One evaluation on the CPU evaluator, counting relinearization requests; null when it does not fit the chain. */
function evaluate(
  ctx: HeftyContext,
  x: Ciphertext,
  coeffs: Float64Array,
  basis: PolynomialBasis,
  algorithm: Algorithm,
): Run | null {
  const s = ctx.session;
  const length = s.slotCount;
  let relinearizations = 0;
  const plan =
    algorithm === 'new'
      ? evaluatePolynomial(s, [x], coeffs, (v) => [new Float64Array(length).fill(v)], { basis })
      : oldPolynomial(s, [x], coeffs, [length]);
  const started = performance.now();
  let result: Ciphertext[];
  try {
    result = runPlanSync(plan, (request) => {
      if (request.op === 'relinearize') relinearizations++;
      return serveOnCpu(s.evaluator, request, s);
    });
  } catch (e) {
    if (e instanceof HeftyError && e.code === 'E_LEVEL_EXHAUSTED') return null;
    throw e;
  }
  const ms = performance.now() - started;
  const levels = x.chainIndex - result[0].chainIndex;
  ops.disposeAll(result);
  return { ms, relinearizations, levels };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const native = await loadBackend('native');
if ('setThreads' in native && typeof native.setThreads === 'function') native.setThreads(1);
const nativeCtx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend: 'native' });
const sealCtx = await createContext({ scheme: 'ckks', polyModulusDegree: N, backend: 'wasm' });
const values = Array.from({ length: N / 2 }, (_, i) => Math.sin(i) * 0.99);
const inputs = [nativeCtx, sealCtx].map((ctx) => {
  ctx.keygen();
  return ctx.encrypt(values).chunks[0];
});

interface Row {
  degree: number;
  basis: PolynomialBasis;
  levels: number;
  oldLevels: number | null;
  relinearizations: number;
  oldRelinearizations: number | null;
  nativeMs: number;
  oldMs: number | null;
  sealMs: number;
}

const rows: Row[] = [];
for (const basis of ['monomial', 'chebyshev'] as const) {
  for (const degree of DEGREES) {
    const coeffs = Float64Array.from({ length: degree + 1 }, (_, i) => Math.cos(1.7 * i) / (1 + i / 8));
    // The old evaluator knew only the monomial basis.
    const withOld = basis === 'monomial';
    const samples = { native: [] as Run[], old: [] as (Run | null)[], seal: [] as Run[] };
    for (let r = 0; r <= reps; r++) {
      const native = evaluate(nativeCtx, inputs[0], coeffs, basis, 'new') as Run;
      const old = withOld ? evaluate(nativeCtx, inputs[0], coeffs, basis, 'old') : null;
      const seal = evaluate(sealCtx, inputs[1], coeffs, basis, 'new') as Run;
      if (r === 0) continue; // warm-up
      samples.native.push(native);
      samples.old.push(old);
      samples.seal.push(seal);
    }
    const old = samples.old[0];
    rows.push({
      degree,
      basis,
      levels: samples.native[0].levels,
      oldLevels: old?.levels ?? null,
      relinearizations: samples.native[0].relinearizations,
      oldRelinearizations: old?.relinearizations ?? null,
      nativeMs: median(samples.native.map((s) => s.ms)),
      oldMs: old ? median(samples.old.map((s) => (s as Run).ms)) : null,
      sealMs: median(samples.seal.map((s) => s.ms)),
    });
    console.log(`degree ${degree} ${basis}: done`);
  }
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const lines = [
  `polyval at N=${N} (default chain, 6 levels), one ciphertext of ${N / 2} slots, native 1 thread, median of ${reps}`,
  '',
  '| degree | basis | levels (old) | relinearizations (old) | native ms | old / new | node-seal / native |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => {
    const oldLevels =
      r.basis !== 'monomial' ? '—' : r.oldLevels === null ? 'does not fit the 6 levels' : String(r.oldLevels);
    const oldRelins = r.oldRelinearizations === null ? '—' : String(r.oldRelinearizations);
    const ratio = r.oldMs === null ? '—' : `${(r.oldMs / r.nativeMs).toFixed(2)}×`;
    return `| ${r.degree} | ${r.basis} | ${r.levels} (${oldLevels}) | ${r.relinearizations} (${oldRelins}) | ${fmt(r.nativeMs)} | ${ratio} | ${(r.sealMs / r.nativeMs).toFixed(2)}× |`;
  }),
];
const table = lines.join('\n');
console.log('\n' + table);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
writeFileSync(new URL(`./results/${date}-he-polynomial.json`, import.meta.url), JSON.stringify(rows, null, 2));
writeFileSync(new URL(`./results/${date}-he-polynomial.md`, import.meta.url), table + '\n');
nativeCtx.dispose();
sealCtx.dispose();
