/**
 * Times every Backend op on every backend that loads, for N=8192 and 16384, with benchmark.js. Writes
 * bench/results/<date>-<backend>.json and a markdown table; with two backends it prints native/wasm ratios
 * measured in this one run.
 */
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableBackends, loadBackend } from '../src/backend/load.ts';
import type * as B from '../src/backend/types.ts';
import { writeRatioChart } from './ratio-chart.ts';
import { HEXL_TARGETS, TARGETS } from './speed-targets.ts';

export interface OpTiming {
  backend: B.BackendName;
  n: number;
  op: string;
  meanMs: number;
  rme: number;
  samples: number;
}

const CHAINS: Record<number, number[]> = { 8192: [60, 40, 40, 60], 16384: [60, 40, 40, 40, 40, 40, 40, 60] };

/** Builds the fixtures one backend needs at degree n, and returns the op closures to time. */
function fixtures(backend: B.Backend, n: number): Record<string, () => unknown> {
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: n, coeffModulus: backend.coeffModulusCreate(n, CHAINS[n]) },
    128,
  );
  const keygen = ctx.createKeyGenerator();
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const relin = keygen.createRelinKeys();
  const galois = keygen.createGaloisKeys([1]);
  const encoder = ctx.createCkksEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: pk, secretKey: sk });
  const decryptor = ctx.createDecryptor(sk);
  const evaluator = ctx.createEvaluator();
  const values = Float64Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i));
  const plain = encoder.encode(values, 2 ** 40);
  const a = encryptor.encrypt(plain);
  const b = encryptor.encrypt(plain);
  const product = evaluator.multiply(a, b);
  const relinearized = evaluator.relinearize(product, relin);
  const bytes = a.save('none');
  // Each closure disposes what it creates, so memory stays flat while benchmark.js loops.
  const timed = (fn: () => B.Owned) => () => fn().dispose();
  return {
    encode: timed(() => encoder.encode(values, 2 ** 40)),
    decode: () => encoder.decode(plain),
    encrypt: timed(() => encryptor.encrypt(plain)),
    encrypt_symmetric: timed(() => encryptor.encryptSymmetric(plain)),
    decrypt: timed(() => decryptor.decrypt(a)),
    add: timed(() => evaluator.add(a, b)),
    add_plain: timed(() => evaluator.addPlain(a, plain)),
    negate: timed(() => evaluator.negate(a)),
    multiply: timed(() => evaluator.multiply(a, b)),
    multiply_plain: timed(() => evaluator.multiplyPlain(a, plain)),
    square: timed(() => evaluator.square(a)),
    relinearize: timed(() => evaluator.relinearize(product, relin)),
    rescale: timed(() => evaluator.rescaleToNext(relinearized)),
    mod_switch: timed(() => evaluator.modSwitchToNext(a)),
    rotate: timed(() => evaluator.rotateVector(a, 1, galois)),
    serialize: () => a.save('none'),
    deserialize: timed(() => ctx.load.ciphertext(bytes)),
    keygen_relin: timed(() => keygen.createRelinKeys()),
  };
}

function timeOne(
  name: string,
  fn: () => unknown,
  quick: boolean,
): Promise<{ meanMs: number; rme: number; samples: number }> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, fn, { minSamples: quick ? 5 : 20, maxTime: quick ? 0.5 : 3, initCount: 1 });
    bench.on('complete', () => {
      if (bench.error) reject(bench.error);
      else resolve({ meanMs: bench.stats.mean * 1000, rme: bench.stats.rme, samples: bench.stats.sample.length });
    });
    bench.run({ async: false });
  });
}

export async function benchBackendOps(options: { quick?: boolean; degrees?: number[] } = {}): Promise<OpTiming[]> {
  const quick = options.quick ?? true;
  const results: OpTiming[] = [];
  for (const name of await availableBackends()) {
    const backend = await loadBackend(name);
    for (const n of options.degrees ?? [8192, 16384]) {
      for (const [op, fn] of Object.entries(fixtures(backend, n))) {
        const t = await timeOne(`${name} ${op} N=${n}`, fn, quick);
        results.push({ backend: name, n, op, ...t });
        process.stdout.write(
          `  ${name.padEnd(6)} N=${n} ${op.padEnd(22)} ${t.meanMs.toFixed(3).padStart(10)} ms ±${t.rme.toFixed(1)}%\n`,
        );
      }
    }
  }
  return results;
}

/**
 * The op's speed target over node-seal: issue 17's HEXL-level one where it has one, else the older single-thread
 * one. Both are for the native engine on 1 thread, which bench/native-ops.ts measures interleaved with node-seal;
 * this table's native column runs on every core, one backend after the other.
 */
function speedTarget(n: number, op: string): number | undefined {
  return HEXL_TARGETS[n]?.[op] ?? TARGETS[op]?.single;
}

export function markdownTable(results: OpTiming[]): string {
  const keys = [...new Set(results.map((r) => `${r.n}|${r.op}`))];
  const names = [...new Set(results.map((r) => r.backend))];
  const find = (backend: string, key: string) => results.find((r) => r.backend === backend && `${r.n}|${r.op}` === key);
  const ratio = names.includes('native') && names.includes('wasm');
  const lines = [
    `| N | op | ${names.map((n) => `${n} (ms)`).join(' | ')}${ratio ? ' | native speed-up (wasm/native) | target |' : ''}`,
    `|---|---|${names.map(() => '---:').join('|')}|${ratio ? '---:|---|' : ''}`,
  ];
  for (const key of keys) {
    const [n, op] = key.split('|');
    const cells = names.map((name) => find(name, key)?.meanMs.toFixed(3) ?? '—');
    let speedup = '';
    if (ratio) {
      const w = find('wasm', key);
      const nat = find('native', key);
      const target = speedTarget(Number(n), op);
      const met = w && nat && target !== undefined ? (w.meanMs / nat.meanMs >= target ? ' ✓' : ' ✗') : '';
      speedup = w && nat ? ` ${(w.meanMs / nat.meanMs).toFixed(2)}× |` : ' — |';
      speedup += target === undefined ? ' |' : ` ≥${target}${met} |`;
    }
    lines.push(`| ${n} | ${op} | ${cells.join(' | ')} |${speedup}`);
  }
  return lines.join('\n');
}

export function writeResults(suite: string, results: OpTiming[]): string {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  for (const backend of new Set(results.map((r) => r.backend))) {
    const file = new URL(`./results/${date}-${suite}-${backend}.json`, import.meta.url);
    writeFileSync(
      file,
      JSON.stringify(
        results.filter((r) => r.backend === backend),
        null,
        2,
      ),
    );
  }
  const table = markdownTable(results);
  writeFileSync(new URL(`./results/${date}-${suite}.md`, import.meta.url), table + '\n');
  const keys = [...new Set(results.map((r) => `${r.n}|${r.op}`))];
  const mean = (backend: string, key: string): number =>
    results.find((r) => r.backend === backend && `${r.n}|${r.op}` === key)?.meanMs ?? NaN;
  if (results.some((r) => r.backend === 'native') && results.some((r) => r.backend === 'wasm')) {
    const chart = writeRatioChart(
      suite,
      {
        title: 'hefty backend ops: native engine vs node-seal (WASM)',
        note: `benchmark.js means, one run; ${date}`,
        series: ['native speed-up'],
        rows: keys.map((key) => ({ label: key.replace('|', ' '), ratios: [mean('wasm', key) / mean('native', key)] })),
      },
      date,
    );
    return `${table}\n\nchart: ${chart}`;
  }
  return table;
}
