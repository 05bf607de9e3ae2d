/** Shared test helpers: error measures and the list of backends that load on this machine. */
import { availableBackends } from '../src/backend/load.ts';
import type { BackendName } from '../src/backend/types.ts';
import { HeftyError, type HeftyErrorCode } from '../src/errors.ts';
import { expect } from 'vitest';

export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBeGreaterThanOrEqual(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

export function randomVector(length: number, seed: number, magnitude = 1): number[] {
  let state = seed >>> 0 || 1;
  return Array.from({ length }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (((state >>> 0) / 2 ** 32) * 2 - 1) * magnitude;
  });
}

/** Backends under test: every one that loads here, or the one forced by HEFTY_TEST_BACKENDS=wasm,native. */
export async function backendsUnderTest(): Promise<BackendName[]> {
  const forced = process.env.HEFTY_TEST_BACKENDS;
  if (forced) return forced.split(',') as BackendName[];
  return availableBackends();
}

export function expectHeftyError(fn: () => unknown, code: HeftyErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(HeftyError);
  expect((thrown as HeftyError).code).toBe(code);
}

export async function expectHeftyErrorAsync(promise: Promise<unknown>, code: HeftyErrorCode): Promise<void> {
  await expect(promise).rejects.toSatisfy((e: unknown) => e instanceof HeftyError && e.code === code);
}
