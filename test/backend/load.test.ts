/** Backend choice: `auto` (the default) runs CKKS and BFV on the native engine wherever its addon loads. */
import { describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/backend/load.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

describe.runIf(await nativeAvailable())('backend choice with the native addon present', () => {
  it('auto and the default pick native for CKKS and BFV; named choices are honoured', async () => {
    const saved = process.env.HEFTY_BACKEND;
    try {
      delete process.env.HEFTY_BACKEND;
      expect((await loadBackend()).name).toBe('native');
      expect((await loadBackend(undefined, 'ckks')).name).toBe('native');
      expect((await loadBackend(undefined, 'bfv')).name).toBe('native');
      process.env.HEFTY_BACKEND = 'auto';
      expect((await loadBackend(undefined, 'ckks')).name).toBe('native');
      expect((await loadBackend(undefined, 'bfv')).name).toBe('native');
      process.env.HEFTY_BACKEND = 'wasm';
      expect((await loadBackend()).name).toBe('wasm');
      expect((await loadBackend('native')).name).toBe('native');
    } finally {
      if (saved === undefined) delete process.env.HEFTY_BACKEND;
      else process.env.HEFTY_BACKEND = saved;
    }
  });
});
