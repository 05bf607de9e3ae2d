/**
 * Fixed-seed end-to-end vectors (spec §11): with SEAL's fixed-seed Blake2xb factory (seed bytes 00..3f) and the
 * secret key s_i = (i mod 3) - 1, the native engine must reproduce SEAL 4.1.2's bytes exactly for keys, seeded
 * objects, symmetric encryption and every evaluator operation.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeContext } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { nativeAvailable } from './native-available.ts';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/seal-test-vectors.json', import.meta.url), 'utf8'));
const E2E = VECTORS.end_to_end;

interface Expected {
  sha256: string;
  bytes: number;
  hex?: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

function expectBytes(actual: Uint8Array, expected: Expected, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.bytes);
  expect(sha256(actual), `${what} sha256`).toBe(expected.sha256);
}

/** The SEAL secret key bytes for s_i = (i mod 3) - 1: NTT (spec §5 definition, BigInt) of s mod each key prime. */
function patternSecretKey(ctx: B.BackendContext, psis: bigint[]): Uint8Array {
  const n = ctx.params.polyModulusDegree;
  const primes = ctx.levels[0].primes;
  const logN = Math.log2(n);
  const brv = (x: number): number => {
    let r = 0;
    for (let b = 0; b < logN; b++) r |= ((x >> b) & 1) << (logN - 1 - b);
    return r;
  };
  const words: bigint[] = [];
  primes.forEach((q, j) => {
    const roots = new Array<bigint>(n);
    roots[0] = 1n;
    let power = 1n;
    for (let i = 1; i < n; i++) {
      power = (power * psis[j]) % q;
      roots[brv(i)] = power;
    }
    const a = Array.from({ length: n }, (_, i) => ((BigInt((i % 3) - 1) % q) + q) % q);
    for (let m = 1, gap = n / 2, k = 1; m < n; m *= 2, gap /= 2) {
      for (let g = 0; g < m; g++) {
        const w = roots[k++];
        for (let i = 2 * g * gap; i < 2 * g * gap + gap; i++) {
          const x = a[i];
          const y = (a[i + gap] * w) % q;
          a[i] = (x + y) % q;
          a[i + gap] = (x - y + q) % q;
        }
      }
    }
    words.push(...a);
  });
  const body = 32 + 8 + 8 + 24 + 8 * words.length;
  const out = new Uint8Array(16 + body);
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

const CASES = [
  { name: 'ckks_n64', n: 64, bits: [40, 30, 40], scale: 2 ** 30, security: 'none' as const },
  { name: 'ckks_n8192', n: 8192, bits: [60, 40, 40, 60], scale: 2 ** 40, security: 128 as const },
];

describe.runIf(await nativeAvailable())('native engine reproduces SEAL fixed-seed vectors', () => {
  describe.each(CASES)('$name', ({ name, n, bits, scale, security }) => {
    const v = E2E[name];

    it('keys, encryption and every evaluator op match byte for byte', async () => {
      const backend = await createNativeBackend();
      const ctx = backend.createContext(
        { scheme: 'ckks', polyModulusDegree: n, coeffModulus: backend.coeffModulusCreate(n, bits) },
        security,
      ) as NativeContext;
      ctx.setTestSeed(Uint8Array.from({ length: 64 }, (_, i) => i));

      let skBytes: Uint8Array;
      if (v.secret_key.hex) {
        skBytes = fromHex(v.secret_key.hex);
      } else {
        const created = VECTORS.coeff_modulus_create['Create(8192,{60,40,40,60})'] as { psi: string }[];
        skBytes = patternSecretKey(
          ctx,
          created.map((p) => BigInt(p.psi)),
        );
      }
      expectBytes(skBytes, v.secret_key, 'secret key');
      const sk = ctx.load.secretKey(skBytes);
      expectBytes(sk.save(), v.secret_key, 'secret key re-saved');

      const keygen = ctx.createKeyGenerator(sk);
      expectBytes(keygen.createPublicKey().save(), v.public_key, 'public key');
      expectBytes(keygen.createPublicKeySeeded(), v.public_key_seeded, 'seeded public key');
      const relin = keygen.createRelinKeys();
      expectBytes(relin.save(), v.relin_keys, 'relin keys');
      const relinSeeded = keygen.createRelinKeysSeeded();
      expectBytes(relinSeeded, v.relin_keys_seeded, 'seeded relin keys');
      expect(sha256(ctx.load.relinKeys(relinSeeded).save())).toBe(v.relin_keys.sha256);
      const galois = keygen.createGaloisKeys([1, -1, 0]);
      expectBytes(galois.save(), v.galois_keys_steps_1_m1_0, 'galois keys');
      expectBytes(keygen.createGaloisKeysSeeded([1, -1, 0]), v.galois_keys_steps_1_m1_0_seeded, 'seeded galois keys');

      const encoder = ctx.createCkksEncoder();
      const plain = encoder.encode(Float64Array.from([1, 2, 3, 4]), scale);
      expectBytes(plain.save(), v.plain_1234, 'plaintext');
      const encryptor = ctx.createEncryptor({ secretKey: sk });
      const ct = encryptor.encryptSymmetric(plain);
      expectBytes(ct.save(), v.ct_sym, 'symmetric ciphertext');
      const seeded = encryptor.encryptSymmetricSeeded(plain);
      expectBytes(seeded, v.ct_sym_seeded, 'seeded symmetric ciphertext');
      expect(sha256(ctx.load.ciphertext(seeded).save())).toBe(v.ct_sym.sha256);
      for (const key of ['ct_sym_zlib_hex_node_seal', 'ct_sym_zstd_hex_node_seal']) {
        if (v[key]) expect(sha256(ctx.load.ciphertext(fromHex(v[key])).save())).toBe(v.ct_sym.sha256);
      }

      const ev = ctx.createEvaluator();
      const product = ev.multiply(ct, ct);
      expectBytes(product.save(), v.mul_ct_ct_size3, 'multiply');
      expect(sha256(ev.square(ct).save())).toBe(v.mul_ct_ct_size3.sha256);
      const relinearized = ev.relinearize(product, relin);
      expectBytes(relinearized.save(), v.mul_relin, 'relinearize');
      const rescaled = ev.rescaleToNext(relinearized);
      expectBytes(rescaled.save(), v.mul_relin_rescale, 'rescale');
      expect(String(rescaled.scale)).toBe(v.mul_relin_rescale.scale);
      const rotated = ev.rotateVector(ct, 1, galois);
      expectBytes(rotated.save(), v.rotate_p1, 'rotate +1');
      expectBytes(ev.rotateVector(ct, -1, galois).save(), v.rotate_m1, 'rotate -1');
      expectBytes(ev.complexConjugate(ct, galois).save(), v.conjugate, 'conjugate');
      expectBytes(ev.modSwitchToNext(ct).save(), v.mod_switch_to_next, 'mod switch');
      expectBytes(ev.multiplyPlain(ct, plain).save(), v.multiply_plain, 'multiply_plain');
      expectBytes(ev.addPlain(ct, plain).save(), v.add_plain, 'add_plain');
      expectBytes(ev.add(ct, rotated).save(), v.add_ct_rot1, 'add');
      expectBytes(ev.modSwitchPlainToNext(plain).save(), v.plain_1234_mod_switched, 'plain mod switch');

      const decryptor = ctx.createDecryptor(sk);
      const slots = encoder.decode(decryptor.decrypt(rescaled));
      expect(Array.from(slots.slice(0, 4), (x) => Math.round(x))).toEqual([1, 4, 9, 16]);
    });
  });
});
