/** hefty's public API. */
export { HeftyError, ERROR_CODES, type HeftyErrorCode } from './errors.ts';
export {
  createContext,
  loadContext,
  loadSecretContext,
  HeftyContext,
  type ContextOptions,
  type LoadContextOptions,
  type KeygenOptions,
  type ProgramContextOptions,
  type PlannedContext,
  type PlannedIntegerContext,
  type IntegerContext,
  type ExportKeySetOptions,
} from './api/context.ts';
export { CKKSVector, type CkksOperand, type EncryptOptions } from './api/ckks-vector.ts';
export {
  estimateNoiseBits,
  DEFAULT_PROTECTION,
  DEFAULT_STATISTICAL_SECURITY,
  type DecryptOptions,
  type DecryptProtection,
} from './api/decrypt-protection.ts';
export {
  IntegerVector,
  // The integer vector's name from when it served BFV alone.
  IntegerVector as BFVVector,
  type IntegerOperand,
  type IntegerOperand as BfvOperand,
  type IntegerValues,
} from './api/integer-vector.ts';
export {
  validateProgram,
  programGaloisSteps,
  PROGRAM_LIMITS,
  type Program,
  type Step,
  type InputKind,
  type Operand,
} from './api/program.ts';
export type { ProgramInput, RunHooks } from './api/run.ts';
export {
  polynomialCost,
  polynomialCostOf,
  polynomialLevels,
  polynomialMultiplications,
  type PolynomialBasis,
  type PolynomialCost,
  type PolynomialOptions,
  type Interval,
} from './api/he/polynomial.ts';
export {
  approximate,
  chebyshevAt,
  activationPolynomial,
  activationCost,
  ACTIVATIONS,
  type ActivationName,
  type ActivationOptions,
} from './api/he/chebyshev.ts';
export {
  linearTransformSteps,
  outputPeriod,
  type LinearTransformOptions,
  type LinearTransformSteps,
} from './api/he/linear-transform.ts';
export { composeRotation, nonAdjacentForm } from './api/he/rotations.ts';
export type { DiagonalCacheStats } from './api/he/diagonal-cache.ts';
export { encodeKeySet, decodeKeySet, isKeySetEnvelope, type KeySetBundle } from './api/bundle.ts';
export { isSealObject } from './api/vector-wire.ts';
export { loadBackend, availableBackends, type BackendChoice } from './backend/load.ts';
export type * as backend from './backend/types.ts';
export { createBatchEvaluator, releaseGpu, type BatchEvaluator, type BatchEvaluatorOptions } from './gpu/index.ts';
export { BatchKeySwitcher, CpuKeySwitcher } from './api/key-switching.ts';
export type { KeySwitcher, KeySwitchRequest, KeySwitchStats } from './api/key-switching.ts';
export {
  createPool,
  Pool,
  type PoolOptions,
  type PoolInput,
  type BatchOptions,
  type BatchItemResult,
  type ItemOutputs,
  type KeySetHandle,
} from './pool/pool.ts';
export { CiphertextCache, type CacheStats } from './pool/cache.ts';
export {
  planProgram,
  planIntegerProgram,
  programCost,
  KEY_BUDGET_BYTES,
  type PlanOptions,
  type IntegerPlanOptions,
  type ProgramPlan,
  type ProgramCost,
  type StepPlan,
  type InputSize,
} from './api/he/planner.ts';
export { keySetBytes, type KeySetBytes, type KeySetShape } from './api/he/key-size.ts';
