/** Security defaults and context-level errors. */
import { describe, expect, it } from 'vitest';
import { createContext, decodeKeySet, encodeKeySet, loadContext } from '../../src/index.ts';
import { expectHeftyError, expectHeftyErrorAsync } from '../helpers.ts';

describe('security defaults', () => {
  it('refuses parameters below 128-bit security unless explicitly allowed', async () => {
    await expectHeftyErrorAsync(
      createContext({ scheme: 'ckks', polyModulusDegree: 4096, coeffModulusBits: [60, 60, 60] }),
      'E_INSECURE_PARAMS',
    );
    await expectHeftyErrorAsync(
      createContext({ scheme: 'ckks', polyModulusDegree: 4096, coeffModulusBits: [60, 60, 60], security: 'none' }),
      'E_INSECURE_PARAMS',
    );
    const insecure = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 4096,
      coeffModulusBits: [60, 60, 60],
      scale: 2 ** 40,
      security: 'none',
      allowInsecure: true,
    });
    expect(insecure.params.coeffModulus).toHaveLength(3);
    insecure.dispose();
  });

  it('refuses secret keys in key sets meant for servers', async () => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    ctx.keygen();
    const withSecret = encodeKeySet({ ...ctx.exportKeySet(), secretKey: ctx.exportSecretKey() });
    expectHeftyError(() => decodeKeySet(withSecret), 'E_SECRET_KEY_REFUSED');
    expect(decodeKeySet(withSecret, { allowSecretKey: true }).secretKey).toBeDefined();
    await expectHeftyErrorAsync(
      loadContext({ ...ctx.exportKeySet(), secretKey: ctx.exportSecretKey() }),
      'E_SECRET_KEY_REFUSED',
    );
    ctx.dispose();
  });

  it('rejects invalid options and malformed key sets', async () => {
    await expectHeftyErrorAsync(
      createContext({ scheme: 'rsa' as 'ckks', polyModulusDegree: 8192 }),
      'E_INVALID_PARAMS',
    );
    await expectHeftyErrorAsync(createContext({ scheme: 'ckks', polyModulusDegree: 1000 }), 'E_INVALID_PARAMS');
    await expectHeftyErrorAsync(
      createContext({ scheme: 'ckks', polyModulusDegree: 8192, scale: 2 ** 200 }),
      'E_SCALE_OUT_OF_BOUNDS',
    );
    expectHeftyError(() => decodeKeySet(new Uint8Array([1, 2, 3])), 'E_BAD_SERIALIZATION');
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    ctx.keygen();
    const good = encodeKeySet(ctx.exportKeySet());
    expectHeftyError(() => decodeKeySet(good.subarray(0, good.length - 1)), 'E_BAD_SERIALIZATION');
    const tampered = ctx.exportKeySet();
    await expectHeftyErrorAsync(
      loadContext({ ...tampered, params: tampered.params.subarray(0, 40) }),
      'E_BAD_SERIALIZATION',
    );
    const other = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
    await expectHeftyErrorAsync(
      loadContext({ params: other.exportKeySet().params, relinKeys: tampered.relinKeys }),
      'E_BAD_SERIALIZATION',
    );
    ctx.dispose();
    other.dispose();
  });
});
