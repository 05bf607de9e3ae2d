/**
 * What a program will cost before it is queued, from its key switches and the key set's size. A key switch
 * (relinearization or rotation) dominates CKKS evaluation time and grows as N·L² (L = number of primes), so the
 * unit is one key switch at N = 4096 with 2 primes; other ops count a tenth of one. Outputs are bounded by
 * their count and an upper bound on their bytes (every output chunk a fresh two-polynomial ciphertext at the
 * top level). Once src/api has a program planner this module can take its counts instead of its own.
 */
import type { Operand, Program } from '../api/program.ts';

export interface KeySetShape {
  polyModulusDegree: number;
  slotCount: number;
  /** Number of primes in the coefficient modulus (special prime included). */
  primes: number;
}

export interface CostEstimate {
  keySwitches: number;
  /** Cost units: key switches (and light ops) scaled by N·L² relative to N = 4096, L = 2, times chunks. */
  units: number;
  outputs: number;
  /** Upper bound on the serialized outputs' bytes (before base64). */
  outputBytes: number;
}

const LIGHT_OP = 0.1;
const BASE_N = 4096;
const BASE_PRIMES = 2;
/** Bytes of a serialized ciphertext beyond its coefficients (headers, chunk framing). */
const CIPHERTEXT_OVERHEAD = 256;

function log2Ceil(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
}

/** Key switches each step needs; `vectors` names the values that are ciphertexts. */
function stepKeySwitches(program: Program, slots: number): number {
  const vectors = new Set(Object.keys(program.inputs).filter((n) => program.inputs[n] === 'vector'));
  const isVector = (operand: Operand): boolean => typeof operand === 'string' && vectors.has(operand);
  let total = 0;
  for (const step of program.steps) {
    vectors.add(step.out); // every step's result is encrypted (its first argument must be)
    switch (step.op) {
      case 'add':
      case 'sub':
      case 'negate':
        total += LIGHT_OP;
        break;
      case 'mul':
        total += isVector(step.args[1]) ? 1 : LIGHT_OP;
        break;
      case 'square':
      case 'rotate':
      case 'rotateColumns':
        total += 1;
        break;
      case 'sum':
        total += log2Ceil(slots);
        break;
      case 'dot':
        total += log2Ceil(slots) + (isVector(step.args[1]) ? 1 : 0);
        break;
      case 'polyval':
        total += Math.max(1, step.coeffs.length - 1);
        break;
      case 'matvec': {
        const columns = typeof step.matrix === 'string' ? slots : Math.max(1, ...step.matrix.map((r) => r.length));
        total += Math.min(slots, columns);
        break;
      }
    }
  }
  return total;
}

/** Largest number of ciphertext chunks a value can have: from the inputs, and from matrix heights and constants. */
function maxChunks(program: Program, slots: number, inputChunks: number): number {
  let longest = 0;
  for (const step of program.steps) {
    if (step.op === 'matvec' && typeof step.matrix !== 'string') longest = Math.max(longest, step.matrix.length);
    for (const arg of step.args) {
      if (typeof arg === 'object' && Array.isArray(arg.const)) longest = Math.max(longest, arg.const.length);
    }
  }
  return Math.max(1, inputChunks, Math.ceil(longest / slots));
}

/**
 * Estimates one evaluation. `inputChunks` is the most chunks any encrypted input has (1 for single ciphertexts).
 */
export function estimateCost(program: Program, keySet: KeySetShape, inputChunks: number = 1): CostEstimate {
  const slots = Math.max(1, keySet.slotCount);
  const chunks = maxChunks(program, slots, inputChunks);
  const keySwitches = stepKeySwitches(program, slots);
  const scale = (keySet.polyModulusDegree / BASE_N) * (keySet.primes / BASE_PRIMES) ** 2;
  const ciphertextBytes = 2 * keySet.polyModulusDegree * Math.max(1, keySet.primes - 1) * 8 + CIPHERTEXT_OVERHEAD;
  const outputs = program.outputs.length;
  return {
    keySwitches,
    units: Math.ceil(Math.max(LIGHT_OP, keySwitches) * scale * chunks),
    outputs,
    outputBytes: outputs * chunks * ciphertextBytes,
  };
}
