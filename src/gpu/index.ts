/** hefty's optional WebGPU path: batched SEAL-exact NTTs and NTT-domain ops, with a measured offload policy. */
export { acquireGpu, gpuAvailable, gpuModeFromEnv, releaseGpu } from './device.ts';
export type { GpuAcquisition, GpuHandle, GpuMode, GpuOptions } from './device.ts';
export { createGpuNtt, GpuNtt, GpuPolyBatch } from './ntt.ts';
export type { GpuNttConfig } from './ntt.ts';
export { createNttDispatcher, measureOffloadThreshold, shouldOffload, thresholdFrom } from './offload.ts';
export type { BatchTiming, CpuTransform, NttDispatcher, OffloadThreshold } from './offload.ts';
export { referenceForward, referenceInverse } from './reference-ntt.ts';
