/**
 * The native engine's negacyclic NTT (native/rlwe, SEAL's tables and Harvey butterflies), forward and inverse,
 * per prime of the CKKS example chains at N = 8192 and 16384: median µs per transform over batches of calls on
 * one N-word row, N-API call and the addon's input check (every word < q) included, so the kernel alone is a
 * little faster. node-seal exposes no NTT, so there is no ratio; the issue-3 target is ≤ 80 µs per forward NTT
 * at N = 8192. `HEFTY_NO_SIMD=1` measures the portable (non-AVX-512) path.
 * Usage: `node bench/native-ntt.ts [--full]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createNativeBackend } from '../src/backend/native.ts';

interface Row {
  n: number;
  prime: string;
  bits: number;
  forwardUs: number;
  inverseUs: number;
}

const CHAINS: Record<number, number[]> = {
  8192: [60, 40, 40, 60],
  16384: [60, 40, 40, 40, 40, 40, 40, 60],
};
const TARGET_FORWARD_8192_US = 80;

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median µs per call of `fn`, sampled as batches of `batch` calls for `budgetMs`. */
function perCall(fn: () => void, batch: number, budgetMs: number): number {
  for (let i = 0; i < batch; i++) fn(); // warm-up
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 15 || (performance.now() - start < budgetMs && samples.length < 2000)) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / batch);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const full = process.argv.includes('--full');
  const backend = await createNativeBackend();
  const rows: Row[] = [];
  for (const n of [8192, 16384]) {
    const primes = backend.coeffModulusCreate(n, CHAINS[n]);
    using ntt = backend.createNtt(n, primes);
    primes.forEach((q, i) => {
      const row = BigUint64Array.from({ length: n }, (_, j) => (BigInt(j) * 0x9e3779b97f4a7c15n) % q);
      // Forward then inverse on the same row keeps its values canonical, as the addon requires.
      const forwardUs = perCall(() => ntt.forward(i, row), 20, full ? 2000 : 400);
      const inverseUs = perCall(() => ntt.inverse(i, row), 20, full ? 2000 : 400);
      rows.push({ n, prime: `0x${q.toString(16)}`, bits: q.toString(2).length, forwardUs, inverseUs });
    });
  }
  console.log('| N | prime | bits | forward | inverse |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.n} | ${r.prime} | ${r.bits} | ${r.forwardUs.toFixed(1)} µs | ${r.inverseUs.toFixed(1)} µs |`);
  }
  const worst8192 = Math.max(...rows.filter((r) => r.n === 8192).map((r) => r.forwardUs));
  const verdict = worst8192 <= TARGET_FORWARD_8192_US ? 'meets' : 'misses';
  console.log(
    `\nslowest forward NTT at N=8192: ${worst8192.toFixed(1)} µs (${verdict} the ${TARGET_FORWARD_8192_US} µs target)`,
  );
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const simd = process.env.HEFTY_NO_SIMD === '1' ? 'portable' : 'default';
  writeFileSync(new URL(`./results/${date}-native-ntt-${simd}.json`, import.meta.url), JSON.stringify(rows, null, 2));
}

await main();
