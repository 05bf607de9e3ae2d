/**
 * Decompression bombs on the WASM engine: compressed SEAL objects are inflated by hefty, bounded by the
 * object's legal size for its parameters, before node-seal sees them (node-seal would inflate them inside its
 * heap, which never shrinks again). Legitimately compressed objects still load.
 */
import { zstdCompressSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeftyContext, IntegerContext } from '../../src/api/context.ts';
import { createContext, encodeKeySet, HeftyError, loadContext } from '../../src/index.ts';

/** A SEAL header (v4.1) with compr_mode `mode` around `body`. */
function sealObject(mode: 1 | 2, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  out.set([0x5e, 0xa1, 0x10, 4, 1, mode]);
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(body, 16);
  return out;
}

const zeros = new Uint8Array(64 << 20);
const bombs = {
  zstd: sealObject(2, zstdCompressSync(zeros)),
  zlib: sealObject(1, deflateSync(zeros)),
};

let bfv: IntegerContext;
let ckks: HeftyContext;

beforeAll(async () => {
  bfv = await createContext({ scheme: 'bfv', polyModulusDegree: 4096, backend: 'wasm' });
  bfv.keygen({ galois: [1] });
  ckks = await createContext({ scheme: 'ckks', polyModulusDegree: 4096, backend: 'wasm' });
  ckks.keygen({ galois: [1] });
});
afterAll(() => {
  bfv.dispose();
  ckks.dispose();
});

function expectBomb(work: () => unknown): void {
  let thrown: unknown;
  try {
    work();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(HeftyError);
  expect((thrown as HeftyError).code).toBe('E_BAD_SERIALIZATION');
  expect((thrown as HeftyError).message).toMatch(/cannot decompress/);
}

describe('WASM loaders bound inflation', () => {
  it.each(Object.keys(bombs) as (keyof typeof bombs)[])('%s bombs (64 MiB of zeros) fail before node-seal', (kind) => {
    const bomb = bombs[kind];
    expect(bomb.length).toBeLessThan(100_000);
    for (const ctx of [bfv, ckks]) {
      const load = ctx.session.ctx.load;
      expectBomb(() => load.galoisKeys(bomb));
      expectBomb(() => load.relinKeys(bomb));
      expectBomb(() => load.publicKey(bomb));
      expectBomb(() => load.ciphertext(bomb));
    }
  });

  it('a key set carrying a bomb is refused by loadContext on the wasm engine', async () => {
    const { params } = bfv.exportKeySet();
    const bytes = encodeKeySet({ params, galoisKeys: bombs.zstd });
    await expect(loadContext(bytes, { backend: 'wasm' })).rejects.toMatchObject({ code: 'E_BAD_SERIALIZATION' });
  });

  it('legitimately compressed objects still load', async () => {
    const exported = bfv.exportKeySet({ compression: 'zstd' });
    const loaded = await loadContext(encodeKeySet(exported), { backend: 'wasm' });
    try {
      const v = loaded.encrypt([1, 2, 3]);
      expect(v.serialize().length).toBeGreaterThan(0);
      v.dispose();
    } finally {
      loaded.dispose();
    }
  });
});
