/**
 * Compute pipelines for one (word mode, tile size, mutation), compiled once per device and shared by every plan
 * that needs them (N only changes uniforms, not the shader, once N ≥ the tile).
 */
import type { GpuHandle } from './device.ts';
import type { WordMode } from './wgsl-arith.ts';
import { nttShader, pointwiseShader, tileSize, type NttMutation, type PointwiseOp } from './wgsl-kernels.ts';
import { ioKernels, ioShader, type IoKernel } from './wgsl-io.ts';

export interface Pipelines {
  nttLayout: GPUBindGroupLayout;
  pointwiseLayout: GPUBindGroupLayout;
  innerProductLayout: GPUBindGroupLayout;
  innerProduct: GPUComputePipeline;
  fwdGlobal: GPUComputePipeline;
  fwdGlobal4: GPUComputePipeline;
  fwdTile: GPUComputePipeline;
  invGlobal: GPUComputePipeline;
  invGlobal4: GPUComputePipeline;
  invTile: GPUComputePipeline;
  pointwise: Record<PointwiseOp, GPUComputePipeline>;
  /** Host-edge kernels (wgsl-io.ts): check for u64 plans, narrow/widen for u32 plans. */
  io: Partial<Record<IoKernel, GPUComputePipeline>>;
  /** check and widen: input, output (or flag). */
  ioLayout: GPUBindGroupLayout;
  /** narrow: input, flag, output. */
  narrowLayout: GPUBindGroupLayout;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Pipelines>>>();

export function buildPipelines(gpu: GpuHandle, mode: WordMode, n: number, mutation: NttMutation): Promise<Pipelines> {
  let perDevice = pipelineCache.get(gpu.device);
  if (!perDevice) pipelineCache.set(gpu.device, (perDevice = new Map()));
  const key = `${mode}:${tileSize(n, mode)}:${mutation}`;
  let pipelines = perDevice.get(key);
  if (!pipelines) {
    pipelines = compilePipelines(gpu, mode, n, mutation);
    perDevice.set(key, pipelines);
  }
  return pipelines;
}

async function compilePipelines(gpu: GpuHandle, mode: WordMode, n: number, mutation: NttMutation) {
  const device = gpu.device;
  const compute = gpu.flags.shader.COMPUTE;
  const storage = (binding: number, type: GPUBufferBindingType) => ({ binding, visibility: compute, buffer: { type } });
  const uniform = { binding: 0, visibility: compute, buffer: { type: 'uniform' as const, hasDynamicOffset: true } };
  const nttLayout = device.createBindGroupLayout({
    entries: [uniform, storage(1, 'read-only-storage'), storage(2, 'read-only-storage'), storage(3, 'storage')],
  });
  const pointwiseLayout = device.createBindGroupLayout({
    entries: [
      uniform,
      storage(1, 'read-only-storage'),
      storage(2, 'read-only-storage'),
      storage(3, 'read-only-storage'),
      storage(4, 'storage'),
    ],
  });
  const innerProductLayout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: compute, buffer: { type: 'uniform' as const } },
      storage(1, 'read-only-storage'),
      storage(2, 'read-only-storage'),
      storage(3, 'read-only-storage'),
      storage(4, 'storage'),
    ],
  });
  const plainUniform = { binding: 0, visibility: compute, buffer: { type: 'uniform' as const } };
  const ioLayout = device.createBindGroupLayout({
    entries: [plainUniform, storage(1, 'read-only-storage'), storage(2, 'read-only-storage'), storage(3, 'storage')],
  });
  const narrowLayout = device.createBindGroupLayout({
    entries: [
      plainUniform,
      storage(1, 'read-only-storage'),
      storage(2, 'read-only-storage'),
      storage(3, 'storage'),
      storage(4, 'storage'),
    ],
  });
  const nttModule = device.createShaderModule({ code: nttShader(mode, n, mutation) });
  const pointwiseModule = device.createShaderModule({ code: pointwiseShader(mode, mutation) });
  const make = (layout: GPUBindGroupLayout, module: GPUShaderModule, entryPoint: string) =>
    device.createComputePipelineAsync({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint },
    });
  const all = await Promise.all([
    make(nttLayout, nttModule, 'fwd_global'),
    make(nttLayout, nttModule, 'fwd_global4'),
    make(nttLayout, nttModule, 'fwd_tile'),
    make(nttLayout, nttModule, 'inv_global'),
    make(nttLayout, nttModule, 'inv_global4'),
    make(nttLayout, nttModule, 'inv_tile'),
    make(pointwiseLayout, pointwiseModule, 'pw_add'),
    make(pointwiseLayout, pointwiseModule, 'pw_sub'),
    make(pointwiseLayout, pointwiseModule, 'pw_mul'),
    make(pointwiseLayout, pointwiseModule, 'pw_mac'),
    make(innerProductLayout, pointwiseModule, 'inner_product'),
  ]);
  const [fwdGlobal, fwdGlobal4, fwdTile, invGlobal, invGlobal4, invTile, add, sub, mul, mac, innerProduct] = all;
  const io: Pipelines['io'] = {};
  for (const kernel of ioKernels(mode)) {
    io[kernel] = await make(
      kernel === 'narrow' ? narrowLayout : ioLayout,
      device.createShaderModule({ code: ioShader(mode, kernel) }),
      'main',
    );
  }
  return {
    nttLayout,
    pointwiseLayout,
    innerProductLayout,
    innerProduct,
    fwdGlobal,
    fwdGlobal4,
    fwdTile,
    invGlobal,
    invGlobal4,
    invTile,
    pointwise: { add, sub, mul, mac },
    io,
    ioLayout,
    narrowLayout,
  };
}
