import type { Ciphertext } from './types.ts';

/** Rotations one after another (engines without hoisting); those made are disposed when a later one fails. */
export function rotateEach(steps: readonly number[], rotate: (step: number) => Ciphertext): Ciphertext[] {
  const out: Ciphertext[] = [];
  try {
    for (const step of steps) out.push(rotate(step));
  } catch (e) {
    for (const c of out) c.dispose();
    throw e;
  }
  return out;
}
