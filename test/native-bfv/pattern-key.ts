/**
 * The secret key of the fixed-seed vectors (BFV and BGV): s_i = (i mod 3) - 1, as SEAL bytes — its NTT modulo each
 * key-level prime, stored as a Plaintext at the key level.
 */
import type { NativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';

export function patternSecretKey(backend: NativeBackend, ctx: B.BackendContext): Uint8Array {
  const n = ctx.params.polyModulusDegree;
  const primes = ctx.levels[0].primes;
  const ntt = backend.createNtt(n, primes);
  const words = new BigUint64Array(n * primes.length);
  primes.forEach((q, j) => {
    const row = BigUint64Array.from({ length: n }, (_, i) => ((BigInt((i % 3) - 1) % q) + q) % q);
    ntt.forward(j, row);
    words.set(row, j * n);
  });
  const out = new Uint8Array(16 + 32 + 8 + 8 + 24 + 8 * words.length);
  const view = new DataView(out.buffer);
  const header = (at: number, size: number): void => {
    out.set([0x5e, 0xa1, 0x10, 4, 1, 0, 0, 0], at);
    view.setBigUint64(at + 8, BigInt(size), true);
  };
  header(0, out.length);
  const id = ctx.keyParmsId;
  for (let w = 0; w < 4; w++) view.setBigUint64(16 + 8 * w, BigInt('0x' + id.slice(16 * w, 16 * w + 16)), true);
  view.setBigUint64(48, BigInt(words.length), true);
  view.setFloat64(56, 1, true);
  header(64, 24 + 8 * words.length);
  view.setBigUint64(80, BigInt(words.length), true);
  words.forEach((w, i) => view.setBigUint64(88 + 8 * i, w, true));
  return out;
}
