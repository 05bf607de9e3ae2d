/**
 * Batched forward NTT: GPU (WebGPU) vs CPU, with upload, kernel and readback time reported separately.
 *
 *   node bench/gpu-ntt.ts            short default run (about a minute on lavapipe with 2 cores)
 *   node bench/gpu-ntt.ts --full     N ∈ {2^13, 2^15, 2^16} × {8, 16, 32} primes × 30/60-bit × {64 … 512} polys
 *   node bench/gpu-ntt.ts --n=8192,65536 --primes=8 --bits=60 --polys=64,128   a chosen matrix
 *   node bench/gpu-ntt.ts --system   use the host's GPU drivers instead of the CPU Vulkan device (lavapipe)
 *   --bandwidth=GB/s                 device memory bandwidth for the floor (default 3000, an H100; H200: 4800;
 *                                    or HEFTY_GPU_BANDWIDTH_GBS)
 *   --out=file.json                  where the JSON goes (default bench/results/gpu-ntt-<time>.json)
 *
 * Kernel time comes from timestamp queries when the adapter has them, else from submit → onSubmittedWorkDone.
 * The floor is the time to read and write every coefficient once at the device bandwidth (the data alone, tables
 * not counted); `kern/floor` is the forward kernel time over it. `speedup` is the end-to-end GPU time (upload +
 * forward kernels + readback) against the CPU column, i.e. over one CPU core.
 * The CPU column is hefty's native NTT engine on one thread (built from build/libhefty_core.a by a small driver,
 * transform time only, marked "native"), else the BigInt reference (marked "ref"); both timed on a sample of rows
 * and scaled linearly. A last line compares the fused key-switching inner product with the same
 * sum built from mulAccumulate passes. Results also go to bench/results/gpu-ntt-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireGpu, releaseGpu } from '../src/gpu/device.ts';
import { GpuNtt } from '../src/gpu/ntt.ts';
import { thresholdFrom } from '../src/gpu/offload.ts';
import { millerRabin } from '../src/gpu/ntt-tables.ts';
import { referenceForward } from '../src/gpu/reference-ntt.ts';
import { wordBytes } from '../src/gpu/wgsl-arith.ts';
import { buildNativeNttDriver } from '../test/gpu/native/driver.ts';
import { inGpuChild, listArg, stringArg } from './gpu-child.ts';

const deviceKind = inGpuChild(import.meta.url);
const args = new Set(process.argv.slice(2));
const bandwidthGBs = Number(stringArg('bandwidth') ?? process.env.HEFTY_GPU_BANDWIDTH_GBS ?? 3000);

interface Row {
  n: number;
  primes: number;
  bits: number;
  polys: number;
  uploadMs: number;
  forwardKernelMs: number;
  inverseKernelMs: number;
  readbackMs: number;
  gpuTotalMs: number;
  /** Forward: bytes read + written once at `bandwidthGBs`. */
  floorMs: number;
  cpuMs: number;
  /** CPU ms / end-to-end GPU ms. */
  speedup: number;
  cpuSource: string;
  kernelClock: 'timestamp' | 'wall';
}

/** `count` primes of `bits` bits that are 1 mod 2^17 (valid for every N ≤ 65536), searching down from 2^bits. */
function nttPrimes(bits: number, count: number): bigint[] {
  const step = 1n << 17n;
  const primes: bigint[] = [];
  for (let c = (1n << BigInt(bits)) - step + 1n; primes.length < count; c -= step) if (millerRabin(c)) primes.push(c);
  return primes;
}

function randomBatch(n: number, moduli: readonly bigint[], polys: number): BigUint64Array {
  const data = new BigUint64Array(polys * moduli.length * n);
  const words = new Uint32Array(data.buffer);
  for (let row = 0; row < polys * moduli.length; row++) {
    const qHi = Number(moduli[row % moduli.length] >> 32n);
    const qLo = Number(moduli[row % moduli.length] & 0xffffffffn);
    for (let i = row * n; i < (row + 1) * n; i++) {
      words[2 * i] = qHi === 0 ? Math.floor(Math.random() * qLo) : (Math.random() * 2 ** 32) >>> 0;
      words[2 * i + 1] = qHi === 0 ? 0 : Math.floor(Math.random() * qHi);
    }
  }
  return data;
}

/**
 * CPU ms for a forward NTT of the whole batch: hefty's native engine (one thread, transform time only) when
 * its driver builds, else the BigInt reference; either timed on up to `sampleRows` rows and scaled linearly.
 */
function cpuForwardMs(n: number, moduli: readonly bigint[], polys: number, sampleRows: number) {
  const rows = Math.min(sampleRows, polys * moduli.length);
  const samplePolys = Math.ceil(rows / moduli.length);
  const sample = randomBatch(n, moduli, samplePolys);
  const scale = (polys * moduli.length) / (samplePolys * moduli.length);
  if (nativeDriver && !('skipped' in nativeDriver)) {
    return { ms: nativeDriver.run(n, moduli, 'forward', sample).ms * scale, source: 'native' };
  }
  const refRows = sample.subarray(0, n * Math.min(2, moduli.length));
  const start = performance.now();
  referenceForward(refRows, n, moduli.slice(0, refRows.length / n));
  return { ms: ((performance.now() - start) / (refRows.length / n)) * polys * moduli.length, source: 'ref' };
}

async function measure(
  gpuNtt: GpuNtt,
  polys: number,
  repeats: number,
): Promise<Omit<Row, 'cpuMs' | 'cpuSource' | 'speedup'>> {
  const chunkPolys = Math.min(polys, gpuNtt.maxPolysPerBatch);
  const chunk = randomBatch(gpuNtt.n, gpuNtt.moduli, chunkPolys);
  const batch = gpuNtt.allocate(chunkPolys);
  const runs: Array<[number, number, number, number]> = [];
  let clock: Row['kernelClock'] = 'wall';
  for (let rep = 0; rep <= repeats; rep++) {
    let [upload, forward, inverse, readback] = [0, 0, 0, 0];
    // Larger batches reuse one chunk of host data: every chunk costs the same on the device.
    for (let done = 0; done < polys; done += chunkPolys) {
      let t = performance.now();
      gpuNtt.upload(chunk, batch);
      await gpuNtt.sync();
      upload += performance.now() - t;
      for (const direction of ['forward', 'inverse'] as const) {
        const timed = gpuNtt.startKernelTiming();
        t = performance.now();
        if (direction === 'forward') gpuNtt.forward(batch);
        else gpuNtt.inverse(batch);
        await gpuNtt.sync();
        const wall = performance.now() - t;
        const stamped = timed ? await gpuNtt.stopKernelTiming() : undefined;
        if (stamped !== undefined) clock = 'timestamp';
        if (direction === 'forward') forward += stamped ?? wall;
        else inverse += stamped ?? wall;
      }
      t = performance.now();
      await gpuNtt.read(batch, chunk);
      readback += performance.now() - t;
    }
    // Whole chunks ran; scale to the batch asked for (the last chunk may be only partly needed).
    const scale = polys / (Math.ceil(polys / chunkPolys) * chunkPolys);
    if (rep > 0) runs.push([upload * scale, forward * scale, inverse * scale, readback * scale]); // run 0 warms up
  }
  batch.destroy();
  const median = (i: number) => runs.map((r) => r[i]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  const [uploadMs, forwardKernelMs, inverseKernelMs, readbackMs] = [0, 1, 2, 3].map(median);
  return {
    n: gpuNtt.n,
    primes: gpuNtt.moduli.length,
    bits: gpuNtt.moduli[0].toString(2).length,
    polys,
    uploadMs,
    forwardKernelMs,
    inverseKernelMs,
    readbackMs,
    gpuTotalMs: uploadMs + forwardKernelMs + readbackMs,
    floorMs: (2 * polys * gpuNtt.moduli.length * gpuNtt.n * wordBytes(gpuNtt.wordMode)) / (bandwidthGBs * 1e6),
    kernelClock: clock,
  };
}

const full = args.has('--full');
const custom = ['n', 'primes', 'bits', 'polys'].some((name) => listArg(name));
const matrix: Array<{ n: number; primes: number; bits: number; polys: number[] }> = custom
  ? (listArg('n') ?? [8192]).flatMap((n) =>
      (listArg('primes') ?? [8]).flatMap((primes) =>
        (listArg('bits') ?? [60]).map((bits) => ({ n, primes, bits, polys: listArg('polys') ?? [64] })),
      ),
    )
  : full
    ? [8192, 32768, 65536].flatMap((n) =>
        [8, 16, 32].flatMap((primes) => [60, 30].map((bits) => ({ n, primes, bits, polys: [64, 128, 256, 512] }))),
      )
    : [
        // Short default (a CPU WebGPU device is ~100× slower than a GPU): batch sizes shrink as N grows.
        { n: 8192, primes: 8, bits: 60, polys: [64] },
        { n: 8192, primes: 8, bits: 30, polys: [64] },
        { n: 32768, primes: 8, bits: 60, polys: [16] },
        { n: 65536, primes: 8, bits: 60, polys: [8] },
      ];
const repeats = full ? 3 : 1;

const acquisition = await acquireGpu({ mode: 'on' });
if (!acquisition.ok) {
  console.log(`gpu-ntt bench: no GPU adapter (${acquisition.reason}); nothing to measure`);
  process.exit(0);
}
const gpu = acquisition.gpu;
const cpuDevice = gpu.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(gpu.adapterDescription);
console.log(`device: ${gpu.adapterDescription} [${deviceKind}]; bandwidth floor at ${bandwidthGBs} GB/s`);
if (cpuDevice) console.log('NOTE: a CPU WebGPU device; these figures prove the pipeline, not GPU speed.');

const nativeDriver = buildNativeNttDriver();
console.log(
  'skipped' in nativeDriver
    ? `CPU column: BigInt reference (${nativeDriver.skipped})`
    : 'CPU column: hefty native NTT engine, one thread, transform time only',
);
const rows: Row[] = [];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = stringArg('out') ?? fileURLToPath(new URL(`./results/gpu-ntt-${stamp}.json`, import.meta.url));
mkdirSync(dirname(file), { recursive: true });
/** Written after every row, so a run cut short (a device time limit) still leaves its figures. */
function save(extra: Record<string, unknown> = {}): void {
  const summary = { device: gpu.adapterDescription, deviceKind, cpuDevice, bandwidthGBs, full, rows, ...extra };
  writeFileSync(file, JSON.stringify(summary, null, 2));
}
const header =
  'N       primes bits polys  upload   fwd-kern inv-kern readback gpu-total  floor    kern/floor cpu(fwd) speedup source clock';
console.log(header);
for (const config of matrix) {
  const gpuNtt = await GpuNtt.create(gpu, { n: config.n, moduli: nttPrimes(config.bits, config.primes) });
  for (const polys of config.polys) {
    const measured = await measure(gpuNtt, polys, repeats);
    const cpu = cpuForwardMs(config.n, gpuNtt.moduli, polys, 256);
    const row: Row = { ...measured, cpuMs: cpu.ms, cpuSource: cpu.source, speedup: cpu.ms / measured.gpuTotalMs };
    rows.push(row);
    save();
    const ms = (v: number, digits = 1) => `${v.toFixed(digits).padStart(8)} `;
    console.log(
      `${String(row.n).padEnd(8)}${String(row.primes).padEnd(7)}${String(row.bits).padEnd(5)}${String(polys).padEnd(6)}` +
        `${ms(row.uploadMs)}${ms(row.forwardKernelMs)}${ms(row.inverseKernelMs)}${ms(row.readbackMs)}` +
        `${ms(row.gpuTotalMs)} ${ms(row.floorMs, 3)}${ms(row.forwardKernelMs / row.floorMs)}  ${ms(row.cpuMs)}` +
        `${ms(row.speedup, 2)}${row.cpuSource} ${row.kernelClock}`,
    );
  }
  gpuNtt.destroy();
}

// The offload decision these numbers imply (src/gpu/offload.ts): GPU from the smallest batch that wins for good.
const groups = Map.groupBy(rows, (row) => `N=${row.n} ${row.primes}×${row.bits}-bit`);
for (const [key, group] of groups) {
  const minPolys = thresholdFrom(group.map((row) => ({ polys: row.polys, cpuMs: row.cpuMs, gpuMs: row.gpuTotalMs })));
  console.log(
    `offload ${key} vs ${group[0].cpuSource}: ${minPolys === null ? 'never (CPU wins)' : `from ${minPolys} polys`}`,
  );
}

/** Fused key-switching inner product vs the same sum built from mulAccumulate passes (kernel time only). */
async function innerProductVsMac(n: number, primes: number, digits: number): Promise<Record<string, number>> {
  const gpuNtt = await GpuNtt.create(gpu, { n, moduli: nttPrimes(60, primes) });
  const digitBatch = gpuNtt.upload(randomBatch(n, gpuNtt.moduli, digits));
  const keyBatch = gpuNtt.upload(randomBatch(n, gpuNtt.moduli, 2 * digits));
  const keyPolys = Array.from({ length: 2 * digits }, () => gpuNtt.upload(randomBatch(n, gpuNtt.moduli, 1)));
  const digitPolys = Array.from({ length: digits }, () => gpuNtt.upload(randomBatch(n, gpuNtt.moduli, 1)));
  const outPair = gpuNtt.allocate(2);
  const outs = [gpuNtt.allocate(1), gpuNtt.allocate(1)];
  const time = async (record: () => void) => {
    let best = Infinity;
    for (let rep = 0; rep < 7; rep++) {
      const timed = gpuNtt.startKernelTiming();
      const start = performance.now();
      record();
      await gpuNtt.sync();
      const wall = performance.now() - start;
      best = Math.min(best, (timed ? await gpuNtt.stopKernelTiming() : undefined) ?? wall);
    }
    return best;
  };
  const fusedMs = await time(() => gpuNtt.innerProduct(digitBatch, keyBatch, outPair));
  const macMs = await time(() => {
    for (let c = 0; c < 2; c++)
      for (let j = 0; j < digits; j++) gpuNtt.mulAccumulate(outs[c], digitPolys[j], keyPolys[2 * j + c]);
  });
  gpuNtt.destroy();
  return { n, primes, digits, fusedMs, macMs };
}

const inner = await innerProductVsMac(8192, 8, full ? 8 : 4);
console.log(
  `key-switching inner product N=${inner.n}, ${inner.primes} primes, ${inner.digits} digits × 2: ` +
    `fused ${inner.fusedMs.toFixed(1)} ms vs ${2 * inner.digits} mulAccumulate passes ${inner.macMs.toFixed(1)} ms`,
);

save({ innerProduct: inner });
console.log(`results: ${file}`);
if (!('skipped' in nativeDriver)) nativeDriver.dispose();
await releaseGpu();
