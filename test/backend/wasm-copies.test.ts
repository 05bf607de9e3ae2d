/**
 * The WASM engine's clone() and withScale() return independent ciphertexts. embind's own clone() shares one SEAL
 * object between handles, so setting the scale of a "copy" changed the source's as well.
 */
import { expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backend/wasm.ts';

it('clone and withScale leave the source ciphertext as it was', async () => {
  const backend = await createWasmBackend();
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: 8192, coeffModulus: backend.coeffModulusCreate(8192, [60, 40, 40, 60]) },
    128,
  );
  const gen = ctx.createKeyGenerator();
  const encoder = ctx.createCkksEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: gen.createPublicKey(), secretKey: gen.secretKey() });
  const source = encryptor.encrypt(encoder.encode(Float64Array.of(1, 2), 2 ** 40));
  const earlierClone = source.clone();
  const rescaled = source.withScale(2 ** 30);
  expect(rescaled.scale).toBe(2 ** 30);
  expect(source.scale).toBe(2 ** 40);
  expect(earlierClone.scale).toBe(2 ** 40);
  expect(source.save('none')).toEqual(earlierClone.save('none'));
  earlierClone.dispose();
  expect(source.scale).toBe(2 ** 40); // disposing a copy leaves the source usable
  for (const c of [source, rescaled]) c.dispose();
  ctx.dispose();
});
