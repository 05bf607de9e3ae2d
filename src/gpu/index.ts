/**
 * hefty's optional WebGPU path: batched SEAL-exact NTTs, NTT-domain ops and key switching (relinearize, rotate),
 * with a measured offload policy.
 */
export { acquireGpu, gpuAvailable, gpuModeFromEnv, releaseGpu } from './device.ts';
export type { GpuAcquisition, GpuHandle, GpuMode, GpuOptions } from './device.ts';
export { createGpuNtt, GpuNtt, GpuPolyBatch } from './ntt.ts';
export type { GpuNttConfig } from './ntt.ts';
export { createNttDispatcher, measureOffloadThreshold, shouldOffload, thresholdFrom } from './offload.ts';
export type { BatchTiming, CpuTransform, NttDispatcher, OffloadThreshold } from './offload.ts';
export { referenceForward, referenceInverse } from './reference-ntt.ts';
export { createBatchEvaluator } from './batch-evaluator.ts';
export type { BatchEvaluator, BatchEvaluatorOptions, KeySwitchOp } from './batch-evaluator.ts';
export { GpuKeySwitch } from './key-switch.ts';
