/**
 * Programs end to end with GPU key switching: the same program over multi-chunk vectors run by `ctx.run` with
 * the GPU off (native evaluator, one thread), on (every key-switching request batched on the device) and auto
 * (offloads where its own calibration measured the GPU faster), with a byte check of every output.
 *
 *   node bench/gpu-program.ts [--n=8192] [--chunks=8] [--reps=3] [--system] [--out=file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, loadContext } from '../src/api/context.ts';
import { encodeKeySet } from '../src/api/bundle.ts';
import type { CKKSVector } from '../src/api/ckks-vector.ts';
import type { Program } from '../src/api/program.ts';
import { loadBackend } from '../src/backend/load.ts';
import type { GpuMode } from '../src/gpu/device.ts';
import { releaseGpu } from '../src/gpu/device.ts';
import { inGpuChild, listArg, stringArg } from './gpu-child.ts';

const deviceKind = inGpuChild(import.meta.url);
const n = listArg('n')?.[0] ?? 8192;
const chunks = listArg('chunks')?.[0] ?? 8;
const reps = listArg('reps')?.[0] ?? 3;
const length = chunks * (n / 2);

const program: Program = {
  inputs: { x: 'vector', y: 'vector' },
  steps: [
    { out: 'product', op: 'mul', args: ['x', 'y'] },
    { out: 'squared', op: 'square', args: ['x'] },
    { out: 'inner', op: 'dot', args: ['x', 'y'] },
    { out: 'poly', op: 'polyval', args: ['x'], coeffs: [0.5, 1, 0.25] },
  ],
  outputs: ['product', 'squared', 'inner', 'poly'],
};

const native = await loadBackend('native');
if ('setThreads' in native && typeof native.setThreads === 'function') native.setThreads(1); // one CPU core
const client = await createContext({ scheme: 'ckks', polyModulusDegree: n, backend: 'native', gpu: 'off' });
client.keygen({ galois: client.requiredGaloisSteps(program) });
const keySet = encodeKeySet(client.exportKeySet());
const inputs = ['x', 'y'].map((_, k) => client.encrypt(Array.from({ length }, (_, i) => Math.sin(i + k))).serialize());

async function timed(gpu: GpuMode) {
  const ctx = await loadContext(keySet, { backend: 'native', gpu });
  const [x, y] = inputs.map((b) => ctx.loadVector(b) as CKKSVector);
  const times: number[] = [];
  let bytes: Uint8Array[] = [];
  for (let r = 0; r <= reps; r++) {
    const start = performance.now();
    const out = await ctx.run(program, { x, y });
    if (r > 0) times.push(performance.now() - start); // the first run warms up (pipelines, key upload, calibration)
    bytes = program.outputs.map((name) => out[name].serialize());
    for (const v of Object.values(out)) v.dispose();
  }
  const switcher = await ctx.session.keySwitcher();
  const stats = { ...switcher.stats, device: switcher.device };
  x.dispose();
  y.dispose();
  ctx.dispose();
  return { ms: times.sort((a, b) => a - b)[times.length >> 1], bytes, stats };
}

const off = await timed('off');
const rows = [];
for (const gpu of ['on', 'auto'] as const) {
  const run = await timed(gpu);
  const identical = run.bytes.every((b, i) => Buffer.from(b).equals(off.bytes[i]));
  rows.push({ gpu, ms: run.ms, cpuMs: off.ms, speedup: off.ms / run.ms, identical, stats: run.stats });
}
console.log(`N=${n}, ${chunks} chunks, program ${program.steps.map((s) => s.op).join(' ')}; median of ${reps}`);
console.log(`off (1 core): ${off.ms.toFixed(1)} ms`);
for (const r of rows) {
  console.log(
    `${r.gpu.padEnd(5)}: ${r.ms.toFixed(1)} ms, speed-up ${r.speedup.toFixed(2)}, identical ${r.identical}, ` +
      `${r.stats.gpuRequests}/${r.stats.requests} requests on ${r.stats.device ?? 'no device'}`,
  );
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = stringArg('out') ?? fileURLToPath(new URL(`./results/gpu-program-${stamp}.json`, import.meta.url));
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ deviceKind, n, chunks, reps, cpuMs: off.ms, rows }, null, 2));
console.log(`results: ${file}`);
if (rows.some((r) => !r.identical)) {
  console.error('GPU program outputs differ from the CPU run');
  process.exitCode = 1;
}
client.dispose();
await releaseGpu();
