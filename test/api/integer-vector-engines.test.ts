/**
 * The integer API on the native engine against node-seal: the same keys and the same input ciphertext give the
 * same result bytes for every deterministic composite operation (composed rotations, sums, matrix products,
 * polynomials), so the native path computes exactly what SEAL computes. Each scheme runs where the native engine
 * has it and is skipped elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, loadSecretContext, type IntegerContext, type IntegerVector } from '../../src/index.ts';
import { availableBackends, loadBackend } from '../../src/backend/load.ts';

const nativeSchemes = (await availableBackends()).includes('native')
  ? (await loadBackend('native')).capabilities.schemes
  : [];

describe.each(['bfv', 'bgv'] as const)('IntegerVector: native %s and node-seal give the same bytes', (scheme) => {
  if (!nativeSchemes.includes(scheme)) {
    it.skip(`the native engine has no ${scheme} here`, () => {});
    return;
  }
  let wasm: IntegerContext;
  let native: IntegerContext;
  let input: Uint8Array;
  const x = Array.from({ length: 40 }, (_, i) => ((i * 37) % 61) - 30);

  beforeAll(async () => {
    // BGV moves down a level after each product: N = 8192 gives it the levels N = 4096 gives BFV's budget.
    wasm = await createContext({ scheme, polyModulusDegree: scheme === 'bfv' ? 4096 : 8192, backend: 'wasm' });
    wasm.keygen({ galois: 'power-of-two' });
    const keys = wasm.exportKeySet({ form: 'full' });
    native = (await loadSecretContext(keys, wasm.exportSecretKey(), {
      backend: 'native',
    })) as unknown as IntegerContext;
    expect(native.backend.name).toBe('native');
    input = wasm.encrypt(x).serialize();
  });
  afterAll(() => {
    wasm?.dispose();
    native?.dispose();
  });

  const matrix = Array.from({ length: 6 }, (_, r) => Array.from({ length: 40 }, (_, c) => ((r * 7 + c * 3) % 11) - 5));
  const cases: [string, (v: IntegerVector) => IntegerVector][] = [
    ['rotate by 3 (composed: 4 − 1)', (v) => v.rotate(3)],
    ['rotateColumns', (v) => v.rotateColumns()],
    ['sum', (v) => v.sum()],
    ['dot with plain integers', (v) => v.dot(x)],
    ['square', (v) => v.square()],
    ['matvec', (v) => v.matvec(matrix)],
    ['polyval 3 − x + 2x²', (v) => v.polyval([3, -1, 2])],
    // −1 in every slot is the one-term plaintext t − 1, which SEAL multiplies by as stored (not centered).
    ['polyval −x (a one-term plaintext above t/2)', (v) => v.polyval([0, -1])],
    ['modSwitchToNext', (v) => v.modSwitchToNext()],
  ];
  for (const [name, op] of cases) {
    it(name, () => {
      const fromWasm = op(wasm.loadVector(input));
      const fromNative = op(native.loadVector(input));
      const bytes = fromNative.serialize();
      expect(Buffer.from(bytes).equals(Buffer.from(fromWasm.serialize()))).toBe(true);
      // And the result decrypts (in node-seal) to what the operation means.
      expect(wasm.loadVector(bytes).decrypt()).toEqual(fromWasm.decrypt());
    });
  }
});
