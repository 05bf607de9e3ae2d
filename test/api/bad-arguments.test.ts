/** Library entry points given null, undefined or values of the wrong type throw a typed HeftyError, never a TypeError. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import {
  createContext,
  decodeKeySet,
  encodeKeySet,
  HeftyError,
  isKeySetEnvelope,
  isSealObject,
  loadContext,
  programGaloisSteps,
} from '../../src/index.ts';

const BAD = [null, undefined, 42, 'text', {}, [], new Uint8Array(0)];
let ctx: HeftyContext;

beforeAll(async () => {
  ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
  ctx.keygen();
});
afterAll(() => ctx.dispose());

async function expectTyped(call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
  }
}

describe('bad arguments give typed errors', () => {
  const calls: Record<string, (v: never) => unknown> = {
    loadContext: (v) => loadContext(v),
    decodeKeySet: (v) => decodeKeySet(v),
    encodeKeySet: (v) => encodeKeySet(v),
    loadVector: (v) => ctx.loadVector(v),
    encrypt: (v) => ctx.encrypt(v),
    keygen: (v) => ctx.keygen(v),
    programGaloisSteps: (v) => programGaloisSteps(v, 2048),
    run: (v) => ctx.run(v, {}),
  };
  it.each(Object.keys(calls))('%s', async (name) => {
    for (const value of BAD) await expectTyped(() => calls[name](value as never));
  });

  it('the envelope predicates answer false for non-bytes', () => {
    for (const value of BAD) {
      expect(isKeySetEnvelope(value as never)).toBe(false);
      expect(isSealObject(value as never)).toBe(false);
    }
  });
});
