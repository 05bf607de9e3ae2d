/** SEAL's mapping from rotation steps to galois elements (spec §8.6); shared by every backend. */
import { HeftyError } from '../errors.ts';

function powMod(base: number, exp: number, mod: number): number {
  let result = 1n;
  let b = BigInt(base) % BigInt(mod);
  let e = exp;
  const m = BigInt(mod);
  while (e > 0) {
    if (e & 1) result = (result * b) % m;
    b = (b * b) % m;
    e >>>= 1;
  }
  return Number(result);
}

/** Galois element for a CKKS vector rotation (or BFV row rotation) by `steps`; 0 means conjugation. */
export function galoisEltFromStep(steps: number, polyModulusDegree: number): number {
  const m = 2 * polyModulusDegree;
  const half = polyModulusDegree / 2;
  if (!Number.isSafeInteger(steps) || Math.abs(steps) >= half) {
    throw new HeftyError('E_INVALID_ARGUMENT', `rotation steps must be an integer with |steps| < ${half}`);
  }
  if (steps === 0) return m - 1;
  return powMod(3, steps > 0 ? steps : half + steps, m);
}

/** SEAL's default galois set: steps ±1, ±2, ±4, … ±N/4 plus conjugation (each element once). */
export function defaultGaloisSteps(polyModulusDegree: number): number[] {
  const steps: number[] = [];
  for (let s = 1; s < polyModulusDegree / 2; s *= 2) steps.push(s, -s);
  return steps;
}

/** Reduces a rotation to the canonical step in [0, slotCount) that gives the same permutation. */
export function normalizeStep(steps: number, slotCount: number): number {
  return ((steps % slotCount) + slotCount) % slotCount;
}
