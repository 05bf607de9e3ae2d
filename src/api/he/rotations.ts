/**
 * Rotations by steps that have no galois key of their own, composed from steps that do. Rotations compose
 * additively modulo the slot count, so a step is written as a short signed sum of available steps: its
 * non-adjacent form (NAF) over ±powers of two, which SEAL's default key set covers with the fewest terms
 * (at most ceil(log2(slots) / 2), taking the shorter of the forms of step and step − slots), or else its
 * plain binary form over positive powers of two.
 */

/** Normalizes a rotation step into [0, slotCount). */
export function normalizeStep(step: number, slotCount: number): number {
  return ((step % slotCount) + slotCount) % slotCount;
}

/**
 * Non-adjacent form of a non-negative integer: signed powers of two, no two adjacent, lowest first
 * (e.g. 7 → [-1, 8]). It has the fewest nonzero terms of any signed binary representation.
 */
export function nonAdjacentForm(value: number): number[] {
  const terms: number[] = [];
  let rest = value;
  let power = 1;
  while (rest > 0) {
    if (rest % 2 === 1) {
      // Choose ±1 so that the remainder is divisible by 4: this is what keeps nonzero digits apart.
      const digit = rest % 4 === 1 ? 1 : -1;
      terms.push(digit * power);
      rest -= digit;
    }
    rest /= 2;
    power *= 2;
  }
  return terms;
}

/** Power-of-two terms of the binary form, lowest first. */
function binaryForm(value: number): number[] {
  const terms: number[] = [];
  for (let bit = 1; bit <= value; bit *= 2) if (Math.floor(value / bit) % 2 === 1) terms.push(bit);
  return terms;
}

/**
 * Terms are reduced modulo the slot count (a term of ±slotCount is no rotation at all and is dropped), and
 * each is written as the representative that has a key (-1 and slotCount-1 are the same rotation).
 */
function usable(terms: number[], slotCount: number, hasKey: (step: number) => boolean): number[] | null {
  const out: number[] = [];
  for (const term of terms) {
    const step = normalizeStep(term, slotCount);
    if (step === 0) continue;
    if (!hasKey(step)) return null;
    out.push(step);
  }
  return out;
}

/**
 * The rotations (each with its own key, normalized to [0, slotCount)) whose composition rotates by `step`;
 * [] for no rotation, null when the available keys cannot compose it. `hasKey` takes a normalized step.
 */
export function composeRotation(step: number, slotCount: number, hasKey: (step: number) => boolean): number[] | null {
  const target = normalizeStep(step, slotCount);
  if (target === 0) return [];
  if (hasKey(target)) return [target];
  const candidates = [
    nonAdjacentForm(target),
    nonAdjacentForm(slotCount - target).map((t) => -t),
    binaryForm(target),
    binaryForm(slotCount - target).map((t) => -t),
  ];
  let best: number[] | null = null;
  for (const terms of candidates) {
    const parts = usable(terms, slotCount, hasKey);
    if (parts !== null && (best === null || parts.length < best.length)) best = parts;
  }
  return best;
}

/** Galois steps of SEAL's default key set ('power-of-two'): ±2^k for 2^k < slotCount, normalized. */
export function powerOfTwoSteps(slotCount: number): number[] {
  const steps = new Set<number>();
  for (let p = 1; p < slotCount; p *= 2) {
    steps.add(p);
    steps.add(slotCount - p);
  }
  return [...steps].sort((a, b) => a - b);
}
