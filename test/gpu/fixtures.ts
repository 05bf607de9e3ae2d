/** Shared inputs and assertions for the GPU checks: NTT-friendly primes, seeded batches with edge values. */
import { HeftyError } from '../../src/errors.ts';
import { millerRabin } from '../../src/gpu/ntt-tables.ts';

// All 1 mod 2^17, so they serve every N up to 65536. Small primes: one 31-bit (the u32 kernels' limit), two 30-bit.
export const PRIMES_30 = [2147352577n, 1073479681n, 1071513601n];
export const PRIMES_60 = [1152921504606584833n, 1152921504598720513n, 1152921504597016577n];
export const PRIME_61 = 2305843009211596801n;

/** The largest prime below 2^bits that is 1 mod 2^17. */
export function largestNttPrime(bits: number): bigint {
  const step = 1n << 17n;
  let candidate = (1n << BigInt(bits)) - step + 1n;
  while (!millerRabin(candidate)) candidate -= step;
  return candidate;
}

/** Deterministic xorshift values below each row's prime, with 0 and q−1 planted at fixed spots. */
export function sampleBatch(n: number, moduli: readonly bigint[], polys: number, seed: number): BigUint64Array {
  let state = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const next = () => {
    state ^= (state << 13n) & 0xffffffffffffffffn;
    state ^= state >> 7n;
    state ^= (state << 17n) & 0xffffffffffffffffn;
    return state;
  };
  const data = new BigUint64Array(polys * moduli.length * n);
  for (let i = 0; i < data.length; i++) {
    const q = moduli[Math.floor(i / n) % moduli.length];
    const col = i % n;
    data[i] = col === 0 || col === n - 1 ? q - 1n : col === 1 || col === n / 2 ? 0n : next() % q;
  }
  // One row of all q−1 (largest values everywhere) and one of all zeros, when the batch has room.
  if (data.length >= 3 * n) {
    data.fill(moduli[1 % moduli.length] - 1n, n, 2 * n);
    data.fill(0n, 2 * n, 3 * n);
  }
  return data;
}

export function expectEqual(actual: BigUint64Array, expected: BigUint64Array, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  let mismatches = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      mismatches++;
      if (first < 0) first = i;
    }
  }
  if (mismatches > 0) {
    throw new Error(
      `${what}: ${mismatches}/${actual.length} differ, first at ${first}: ${actual[first]} ≠ ${expected[first]}`,
    );
  }
}

export async function expectCode(code: string, action: () => unknown) {
  try {
    await action();
  } catch (error) {
    if (error instanceof HeftyError && error.code === code) return;
    throw new Error(`expected ${code}, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}
