/**
 * Hoisted rotations on the native engine: k rotations of one ciphertext by rotateVectorHoisted (one
 * decomposition of c1, then one inner product and ModDown per step) against k separate rotateVector calls,
 * for k = 4, 8, 16, 32 at N = 8192 and 16384 (CKKS example chains, top level), native, 1 intra-op thread. The
 * two are sampled alternately so machine load hits both alike; each time is the median of its samples, in
 * wall-clock and in process CPU time (steadier on a shared machine). Ratio = separate / hoisted.
 * Usage: `node bench/he-hoisting.ts [--full]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createNativeBackend } from '../src/backend/native.ts';
import type * as B from '../src/backend/types.ts';

const CHAINS: Record<number, number[]> = {
  8192: [60, 40, 40, 60],
  16384: [60, 40, 40, 40, 40, 40, 40, 60],
};
const COUNTS = [4, 8, 16, 32];

interface Row {
  n: number;
  k: number;
  separateMs: number;
  hoistedMs: number;
  separateCpuMs: number;
  hoistedCpuMs: number;
}

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall-clock and CPU milliseconds of one call; its results are disposed outside the timing. */
function time(run: () => B.Ciphertext[]): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = run();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const c of results) c.dispose();
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const full = process.argv.includes('--full');
  const loadBefore = os.loadavg()[0];
  const backend = await createNativeBackend();
  backend.setThreads(1);
  const rows: Row[] = [];
  for (const n of [8192, 16384]) {
    const ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: n, coeffModulus: backend.coeffModulusCreate(n, CHAINS[n]) },
      128,
    );
    const gen = ctx.createKeyGenerator();
    const steps = Array.from({ length: Math.max(...COUNTS) }, (_, i) => i + 1);
    const gk = gen.createGaloisKeys(steps);
    const encoder = ctx.createCkksEncoder();
    const ct = ctx.createEncryptor({ publicKey: gen.createPublicKey() }).encrypt(
      encoder.encode(
        Float64Array.from({ length: n / 2 }, (_, i) => Math.sin(i)),
        2 ** 40,
      ),
    );
    const ev = ctx.createEvaluator();
    for (const k of COUNTS) {
      const chosen = steps.slice(0, k);
      const separate = (): B.Ciphertext[] => chosen.map((s) => ev.rotateVector(ct, s, gk));
      const hoisted = (): B.Ciphertext[] => ev.rotateVectorHoisted(ct, chosen, gk);
      time(separate);
      time(hoisted);
      const samples = {
        separate: [] as number[],
        hoisted: [] as number[],
        separateCpu: [] as number[],
        hoistedCpu: [] as number[],
      };
      const start = performance.now();
      while (
        samples.hoisted.length < 5 ||
        (performance.now() - start < (full ? 8000 : 1500) && samples.hoisted.length < 50)
      ) {
        const a = time(separate);
        const b = time(hoisted);
        samples.separate.push(a.wall);
        samples.separateCpu.push(a.cpu);
        samples.hoisted.push(b.wall);
        samples.hoistedCpu.push(b.cpu);
      }
      rows.push({
        n,
        k,
        separateMs: median(samples.separate),
        hoistedMs: median(samples.hoisted),
        separateCpuMs: median(samples.separateCpu),
        hoistedCpuMs: median(samples.hoistedCpu),
      });
    }
    for (const o of [ev, ct, encoder, gk, gen, ctx]) o.dispose();
  }
  backend.setThreads(0);
  console.log(
    `${os.availableParallelism()} cores; 1-minute load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end\n`,
  );
  console.log(
    '| N | k | k × rotateVector | rotateVectorHoisted | ratio (wall) | ratio (CPU) | hoisted, CPU per rotation |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${r.k} | ${r.separateMs.toFixed(1)} ms | ${r.hoistedMs.toFixed(1)} ms | ${(r.separateMs / r.hoistedMs).toFixed(2)}× | ${(r.separateCpuMs / r.hoistedCpuMs).toFixed(2)}× | ${(r.hoistedCpuMs / r.k).toFixed(2)} ms CPU |`,
    );
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  writeFileSync(new URL(`./results/${date}-he-hoisting.json`, import.meta.url), JSON.stringify(rows, null, 2));
}

await main();
