/**
 * Lazy WebGPU device acquisition through the optional npm `webgpu` package (Dawn). Never throws for a missing
 * GPU: the result says why no device is available and hefty stays on the CPU path.
 *
 * Settings (options win over env):
 *  - HEFTY_GPU = auto | on | off (default auto here; hefty's programs and pool read unset as off). `off`
 *    never loads Dawn.
 *  - HEFTY_GPU_BACKEND: Dawn backend (vulkan, opengl, opengles, metal, d3d12, null).
 *  - HEFTY_GPU_ADAPTER: adapter name substring, passed to Dawn as `adapter=`.
 * Dawn's instance object must stay referenced while the device lives (when GC frees it, later calls crash);
 * the handle keeps it, and releaseGpu() drops both so the process can exit.
 */
import { HeftyError } from '../errors.ts';

export type GpuMode = 'auto' | 'on' | 'off';

export interface GpuOptions {
  mode?: GpuMode;
  backend?: string;
  adapter?: string;
  /** Receives one line with the adapter description; default: stderr. */
  log?: (line: string) => void;
}

/** The WebGPU usage flag constants, from Dawn's globals (Node has no GPUBufferUsage global). */
export interface GpuFlags {
  buffer: Record<'MAP_READ' | 'COPY_SRC' | 'COPY_DST' | 'STORAGE' | 'UNIFORM' | 'QUERY_RESOLVE', number>;
  map: { READ: number };
  shader: { COMPUTE: number };
}

export interface GpuHandle {
  readonly device: GPUDevice;
  readonly adapterDescription: string;
  readonly isFallbackAdapter: boolean;
  readonly hasTimestamps: boolean;
  readonly flags: GpuFlags;
  /** Dawn's instance: referenced here so it outlives every call on the device. */
  readonly instance: GPU;
  lost: boolean;
}

export type GpuAcquisition = { ok: true; gpu: GpuHandle } | { ok: false; reason: string };

export function gpuModeFromEnv(value = process.env.HEFTY_GPU): GpuMode {
  const mode = (value ?? 'auto').trim().toLowerCase();
  if (mode === '' || mode === 'auto') return 'auto';
  if (mode === 'on' || mode === '1' || mode === 'true') return 'on';
  if (mode === 'off' || mode === '0' || mode === 'false') return 'off';
  throw new HeftyError('E_INVALID_ARGUMENT', `HEFTY_GPU must be auto, on or off, got "${value}"`);
}

let pending: Promise<GpuAcquisition> | undefined;

/** Acquires the shared device once; later calls return the same result until releaseGpu(). */
export function acquireGpu(options: GpuOptions = {}): Promise<GpuAcquisition> {
  pending ??= acquire(options);
  return pending;
}

/** True when a usable WebGPU device exists (acquiring it if needed). */
export async function gpuAvailable(options: GpuOptions = {}): Promise<boolean> {
  const result = await acquireGpu(options);
  return result.ok && !result.gpu.lost;
}

/** Destroys the device and drops Dawn's instance; a later acquireGpu() starts over. */
export async function releaseGpu(): Promise<void> {
  const acquisition = pending;
  pending = undefined;
  const result = await acquisition;
  if (result?.ok) {
    result.gpu.lost = true;
    result.gpu.device.destroy();
  }
}

async function acquire(options: GpuOptions): Promise<GpuAcquisition> {
  const mode = options.mode ?? gpuModeFromEnv();
  if (mode === 'off') return { ok: false, reason: 'GPU disabled (HEFTY_GPU=off)' };
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (error) {
    return { ok: false, reason: `webgpu package not loadable: ${(error as Error).message}` };
  }
  const flags: string[] = [];
  const backend = options.backend ?? process.env.HEFTY_GPU_BACKEND;
  const adapterName = options.adapter ?? process.env.HEFTY_GPU_ADAPTER;
  if (backend) flags.push(`backend=${backend}`);
  if (adapterName) flags.push(`adapter=${adapterName}`);
  try {
    const instance = dawn.create(flags);
    const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: `no GPU adapter${flags.length ? ` (${flags.join(', ')})` : ''}` };
    const hasTimestamps = adapter.features.has('timestamp-query');
    const device = await adapter.requestDevice({
      requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    const info = adapter.info;
    const description =
      [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown';
    const globals = dawn.globals as unknown as {
      GPUBufferUsage: GpuFlags['buffer'];
      GPUMapMode: GpuFlags['map'];
      GPUShaderStage: GpuFlags['shader'];
    };
    const gpu: GpuHandle = {
      device,
      instance,
      adapterDescription: description,
      isFallbackAdapter: info.isFallbackAdapter ?? false,
      hasTimestamps,
      flags: { buffer: globals.GPUBufferUsage, map: globals.GPUMapMode, shader: globals.GPUShaderStage },
      lost: false,
    };
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    void device.lost.then(() => {
      gpu.lost = true;
    });
    device.onuncapturederror = (event) => log(`[hefty:gpu] uncaptured device error: ${event.error.message}`);
    log(
      `[hefty:gpu] adapter: ${description}${backend ? ` (backend ${backend})` : ''}` +
        `${hasTimestamps ? ', timestamp queries' : ''}`,
    );
    return { ok: true, gpu };
  } catch (error) {
    return { ok: false, reason: `WebGPU device failed: ${(error as Error).message}` };
  }
}
