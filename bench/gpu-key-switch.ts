/**
 * Batched key switching: relinearize and rotate B ciphertexts on the GPU (src/gpu/batch-evaluator.ts, end to
 * end: SEAL bytes in, ciphertext objects out) against the native evaluator on one thread, with a byte-for-byte
 * comparison of the results and the offload threshold the auto calibration measures.
 *
 *   node bench/gpu-key-switch.ts            N=8192 {60,40,40,60}, batch 8 (lavapipe-sized)
 *   node bench/gpu-key-switch.ts --full     N=8192 … 32768 with deeper chains, batches 16 … 64
 *   --system, --out=file.json               as in bench/gpu-ntt.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNativeBackend } from '../src/backend/native.ts';
import type * as B from '../src/backend/types.ts';
import { createBatchEvaluator } from '../src/gpu/batch-evaluator.ts';
import { releaseGpu } from '../src/gpu/device.ts';
import { inGpuChild, listArg, stringArg } from './gpu-child.ts';

const deviceKind = inGpuChild(import.meta.url);
const full = process.argv.includes('--full');

interface Config {
  n: number;
  bits: number[];
  batches: number[];
}

const configs: Config[] = full
  ? [
      { n: 8192, bits: [60, 40, 40, 60], batches: [16, 64] },
      { n: 16384, bits: [60, ...Array<number>(6).fill(50), 60], batches: [16, 64] },
      { n: 32768, bits: [60, ...Array<number>(12).fill(50), 60], batches: [16, 64] },
    ]
  : [{ n: 8192, bits: [60, 40, 40, 60], batches: listArg('batch') ?? [8] }];

type BatchOp = (list: readonly B.Ciphertext[]) => Promise<B.Ciphertext[]>;

interface Row {
  n: number;
  levelPrimes: number;
  op: string;
  batch: number;
  cpuMs: number;
  gpuMs: number;
  speedup: number;
  identical: boolean;
}

const backend = await createNativeBackend();
backend.setThreads(1); // one CPU core for the CPU column
const rows: Row[] = [];
const thresholds: unknown[] = [];
let device = 'none';
console.log('N      primes op          batch  cpu(1 core)  gpu(e2e)  speedup identical');

for (const config of configs) {
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: config.n, coeffModulus: backend.coeffModulusCreate(config.n, config.bits) },
    128,
  );
  const keygen = ctx.createKeyGenerator();
  const relin = keygen.createRelinKeys();
  const galois = keygen.createGaloisKeys([1]);
  const encryptor = ctx.createEncryptor({ publicKey: keygen.createPublicKey() });
  const encoder = ctx.createCkksEncoder();
  const evaluator = ctx.createEvaluator();
  const gpu = await createBatchEvaluator(ctx, { mode: 'on', log: () => {} });
  device = gpu.device ?? device;
  const fresh = Array.from({ length: Math.max(...config.batches) }, (_, i) =>
    encryptor.encrypt(encoder.encode(Float64Array.of(i, 1, 2), 2 ** 40)),
  );
  const squares = fresh.map((c) => evaluator.square(c));
  const ops: Array<[string, readonly B.Ciphertext[], (c: B.Ciphertext) => B.Ciphertext, BatchOp]> = [
    ['relinearize', squares, (c) => evaluator.relinearize(c, relin), (list) => gpu.relinearizeMany(list, relin)],
    ['rotate 1', fresh, (c) => evaluator.rotateVector(c, 1, galois), (list) => gpu.rotateMany(list, 1, galois)],
  ];
  for (const batch of config.batches) {
    for (const [op, inputs, cpuOp, gpuOp] of ops) {
      const list = inputs.slice(0, batch);
      for (const c of await gpuOp(list.slice(0, 1))) c.dispose(); // warm-up: pipelines, key upload
      let start = performance.now();
      const cpu = list.map(cpuOp);
      const cpuMs = performance.now() - start;
      start = performance.now();
      const out = await gpuOp(list);
      const gpuMs = performance.now() - start;
      const identical = out.every((c, i) => Buffer.from(c.save('none')).equals(cpu[i].save('none')));
      for (const c of [...cpu, ...out]) c.dispose();
      const row = {
        n: config.n,
        levelPrimes: config.bits.length - 1,
        op,
        batch,
        cpuMs,
        gpuMs,
        speedup: cpuMs / gpuMs,
        identical,
      };
      rows.push(row);
      console.log(
        `${String(row.n).padEnd(7)}${String(row.levelPrimes).padEnd(7)}${op.padEnd(12)}${String(batch).padEnd(7)}` +
          `${cpuMs.toFixed(1).padStart(11)}${gpuMs.toFixed(1).padStart(10)}${row.speedup.toFixed(2).padStart(9)} ${identical}`,
      );
    }
  }
  // What HEFTY_GPU=auto would decide for relinearize at this size (calibration on the caller's batch).
  const auto = await createBatchEvaluator(ctx, {
    mode: 'auto',
    calibrationMax: Math.min(16, Math.max(...config.batches)),
    log: () => {},
  });
  for (const c of await auto.relinearizeMany(squares, relin)) c.dispose();
  for (const [key, threshold] of auto.thresholds) {
    thresholds.push({ key, ...threshold });
    const verdict = threshold.minPolys === null ? 'never (CPU wins)' : `from ${threshold.minPolys} ciphertexts`;
    console.log(`auto: offload relinearize N=${config.n} ${verdict}`);
  }
  auto.destroy();
  gpu.destroy();
  ctx.dispose();
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = stringArg('out') ?? fileURLToPath(new URL(`./results/gpu-key-switch-${stamp}.json`, import.meta.url));
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ device, deviceKind, full, rows, thresholds }, null, 2));
console.log(`device: ${device} [${deviceKind}]\nresults: ${file}`);
if (rows.some((row) => !row.identical)) {
  console.error('GPU results differ from the CPU evaluator');
  process.exitCode = 1;
}
await releaseGpu();
