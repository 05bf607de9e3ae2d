/**
 * When to send a batched NTT to the GPU: decided by a measured threshold, never assumed. The caller (native
 * backend or pool) supplies its own CPU transform; the policy times it against the GPU path end to end
 * (upload + kernels + readback) over growing batch sizes and offloads from the smallest batch at which the GPU
 * wins and keeps winning. A device that never wins (e.g. a CPU WebGPU device) yields "never offload".
 * createNttDispatcher wraps this into the call the native backend or pool makes for a batch.
 */
import { gpuModeFromEnv, type GpuOptions } from './device.ts';
import { createGpuNtt, type GpuNtt, type GpuNttConfig } from './ntt.ts';

export type CpuTransform = (data: BigUint64Array) => void | Promise<void>;

export interface BatchTiming {
  polys: number;
  cpuMs: number;
  gpuMs: number;
}

export interface OffloadThreshold {
  n: number;
  primes: number;
  /** Smallest batch (polynomials) to offload, or null when the GPU never won. */
  minPolys: number | null;
  timings: BatchTiming[];
}

export interface MeasureOptions {
  /** Batch sizes to try, ascending (default 1, 2, 4, … up to maxPolys). */
  batchSizes?: number[];
  /** Largest batch tried by default (default 64, capped by the device limit). */
  maxPolys?: number;
  /** Timed runs per size after one warm-up; the median counts (default 3). */
  repeats?: number;
}

export async function measureOffloadThreshold(
  ntt: GpuNtt,
  cpuForward: CpuTransform,
  options: MeasureOptions = {},
): Promise<OffloadThreshold> {
  const maxPolys = Math.min(options.maxPolys ?? 64, ntt.maxPolysPerBatch);
  const sizes = options.batchSizes ?? powersOfTwoUpTo(maxPolys);
  const repeats = options.repeats ?? 3;
  const timings: BatchTiming[] = [];
  for (const polys of sizes) {
    const data = randomReduced(ntt, polys);
    const cpuMs = await medianMs(repeats, () => cpuForward(data.slice()));
    const gpuMs = await medianMs(repeats, () => ntt.forwardHost(data.slice()));
    timings.push({ polys, cpuMs, gpuMs });
  }
  return { n: ntt.n, primes: ntt.moduli.length, minPolys: thresholdFrom(timings), timings };
}

/** The smallest measured batch from which the GPU is faster at every larger measured size. */
export function thresholdFrom(timings: readonly BatchTiming[]): number | null {
  let min: number | null = null;
  for (let i = timings.length - 1; i >= 0 && timings[i].gpuMs < timings[i].cpuMs; i--) min = timings[i].polys;
  return min;
}

export function shouldOffload(threshold: OffloadThreshold | undefined, polys: number): boolean {
  return threshold?.minPolys != null && polys >= threshold.minPolys;
}

function powersOfTwoUpTo(max: number): number[] {
  const sizes: number[] = [];
  for (let p = 1; p <= max; p *= 2) sizes.push(p);
  return sizes;
}

async function medianMs(repeats: number, run: () => unknown): Promise<number> {
  await run(); // warm-up: pipeline creation, buffer allocation, JIT
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function randomReduced(ntt: GpuNtt, polys: number): BigUint64Array {
  const data = new BigUint64Array(polys * ntt.moduli.length * ntt.n);
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < data.length; i++) {
    const q = ntt.moduli[Math.floor(i / ntt.n) % ntt.moduli.length];
    const qHi = Number(q >> 32n);
    // Below q: a high word under q's high word (or a low word under q when q fits in 32 bits).
    words[2 * i] = qHi === 0 ? Math.floor(Math.random() * Number(q)) : (Math.random() * 2 ** 32) >>> 0;
    words[2 * i + 1] = qHi === 0 ? 0 : Math.floor(Math.random() * qHi);
  }
  return data;
}

export interface NttDispatcher {
  /** The measured threshold (auto), or undefined when the path is fixed (on, off, no device). */
  readonly threshold: OffloadThreshold | undefined;
  readonly gpu: GpuNtt | null;
  /** In-place forward NTT of polys × K × N values; says which path ran. */
  forward(data: BigUint64Array): Promise<'gpu' | 'cpu'>;
  inverse(data: BigUint64Array): Promise<'gpu' | 'cpu'>;
  /** The path a batch of `polys` polynomials takes. */
  route(polys: number): 'gpu' | 'cpu';
  destroy(): void;
}

/**
 * Batched NTTs routed per call: HEFTY_GPU=off (or no device) → CPU; on → GPU always; auto → GPU from the
 * batch size measured at creation against `cpu`. Both paths give identical results, so routing is invisible.
 */
export async function createNttDispatcher(
  config: GpuNttConfig,
  cpu: { forward: CpuTransform; inverse: CpuTransform },
  options: GpuOptions & MeasureOptions = {},
): Promise<NttDispatcher> {
  const mode = options.mode ?? gpuModeFromEnv();
  const gpu = mode === 'off' ? null : await createGpuNtt(config, { ...options, mode });
  const threshold = gpu && mode === 'auto' ? await measureOffloadThreshold(gpu, cpu.forward, options) : undefined;
  const polyWords = config.n * config.moduli.length;
  // A lost device sends auto back to the CPU; on keeps asking the GPU and gets E_BACKEND_UNAVAILABLE.
  const route = (polys: number) =>
    gpu && (mode === 'on' || (!gpu.gpu.lost && shouldOffload(threshold, polys))) ? 'gpu' : 'cpu';
  const run = async (data: BigUint64Array, direction: 'forward' | 'inverse') => {
    const path = route(data.length / polyWords);
    if (path === 'gpu' && gpu) await (direction === 'forward' ? gpu.forwardHost(data) : gpu.inverseHost(data));
    else await cpu[direction](data);
    return path;
  };
  return {
    threshold,
    gpu,
    route,
    forward: (data) => run(data, 'forward'),
    inverse: (data) => run(data, 'inverse'),
    destroy: () => gpu?.destroy(),
  };
}
