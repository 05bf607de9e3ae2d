/**
 * Fixed-seed BFV vectors (spec §9, §11): with SEAL's fixed-seed Blake2xb factory (seed bytes 00..3f) and the secret
 * key s_i = (i mod 3) - 1, the native engine reproduces SEAL 4.1.2's bytes for keys, the batch encoder, symmetric
 * encryption (full and seeded), decryption, the noise budget and every evaluator operation.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeContext } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';
import { patternSecretKey } from './pattern-key.ts';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/seal-bfv-vectors.json', import.meta.url), 'utf8'));

interface Expected {
  sha256: string;
  bytes: number;
  hex?: string;
  c0_0_c0_1_c1_0_c1_1?: string[];
  decoded_slots_0_1_2_3_half_last?: number[];
  noise_budget?: number;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

function expectBytes(actual: Uint8Array, expected: Expected, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.bytes);
  expect(sha256(actual), `${what} sha256`).toBe(expected.sha256);
}

/** The first two words of c0 and of c1 (rows 0 and 1 of each polynomial's first coefficient: SEAL's layout). */
function leadingWords(bytes: Uint8Array, n: number, rows: number): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = 16 + 73 + 16 + 8; // header, metadata, DynArray header and count
  const word = (index: number): string => view.getBigUint64(data + 8 * index, true).toString();
  return [word(0), word(1), word(n * rows), word(n * rows + 1)];
}

const CASES = [
  { name: 'bfv_n64', n: 64, security: 'none' as const },
  { name: 'bfv_n4096', n: 4096, security: 128 as const },
];

describe.runIf(await nativeAvailable())('native BFV reproduces SEAL fixed-seed vectors', () => {
  describe.each(CASES)('$name', ({ name, n, security }) => {
    const v = VECTORS[name];

    it('keys, encoding, encryption, decryption and every evaluator op match byte for byte', async () => {
      const backend = await createNativeBackend();
      const coeffModulus =
        n === 64 ? backend.coeffModulusCreate(64, [40, 40, 40]) : backend.coeffModulusBfvDefault(4096, 128);
      const plainModulus = backend.plainModulusBatching(n, n === 64 ? 17 : 20);
      const ctx = backend.createContext(
        { scheme: 'bfv', polyModulusDegree: n, coeffModulus, plainModulus },
        security,
      ) as NativeContext;
      ctx.setTestSeed(Uint8Array.from({ length: 64 }, (_, i) => i));
      const rows = ctx.levels[1].primes.length;

      const skBytes = v.secret_key.hex ? fromHex(v.secret_key.hex) : patternSecretKey(backend, ctx);
      expectBytes(skBytes, v.secret_key, 'secret key');
      const sk = ctx.load.secretKey(skBytes);
      expectBytes(sk.save(), v.secret_key, 'secret key re-saved');

      const keygen = ctx.createKeyGenerator(sk);
      const relinSeeded = keygen.createRelinKeysSeeded();
      expectBytes(relinSeeded, v.relin_keys_seeded, 'seeded relin keys');
      expectBytes(keygen.createGaloisKeysSeeded([1, 0]), v.galois_keys_steps_1_0_seeded, 'seeded galois keys');
      const relin = ctx.load.relinKeys(relinSeeded);
      expect(sha256(relin.save())).toBe(sha256(keygen.createRelinKeys().save()));
      const galois = keygen.createGaloisKeys([1, 0]);

      const encoder = ctx.createBatchEncoder();
      const plain = encoder.encode(BigInt64Array.from({ length: n }, (_, i) => BigInt(i + 1)));
      expectBytes(plain.save(), v.plain_batch_1_to_N, 'batch-encoded plaintext');

      const encryptor = ctx.createEncryptor({ secretKey: sk });
      const decryptor = ctx.createDecryptor(sk);
      const check = (ct: B.Ciphertext, expected: Expected, what: string): void => {
        const bytes = ct.save();
        expectBytes(bytes, expected, what);
        if (expected.c0_0_c0_1_c1_0_c1_1) {
          expect(leadingWords(bytes, n, ct.chainIndex + 1), `${what} words`).toEqual(expected.c0_0_c0_1_c1_0_c1_1);
        }
        if (expected.decoded_slots_0_1_2_3_half_last) {
          const slots = encoder.decode(decryptor.decrypt(ct));
          const picked = [0, 1, 2, 3, n / 2, n - 1].map((i) => Number(slots[i]));
          expect(picked, `${what} decrypts`).toEqual(expected.decoded_slots_0_1_2_3_half_last);
        }
        if (expected.noise_budget !== undefined) {
          expect(decryptor.invariantNoiseBudget(ct), `${what} noise budget`).toBe(expected.noise_budget);
        }
      };

      const ct = encryptor.encryptSymmetric(plain);
      expect(ct.isNttForm).toBe(false);
      expect(ct.chainIndex + 1).toBe(rows);
      check(ct, v.ct_sym, 'symmetric ciphertext');
      const seeded = encryptor.encryptSymmetricSeeded(plain);
      expectBytes(seeded, v.ct_sym_seeded, 'seeded symmetric ciphertext');
      expect(encoder.decode(decryptor.decrypt(ctx.load.ciphertext(seeded)))).toEqual(
        encoder.decode(decryptor.decrypt(ct)),
      );

      const ev = ctx.createEvaluator();
      const product = ev.multiply(ct, ct);
      check(product, v.mul_ct_ct_size3, 'multiply');
      expect(sha256(ev.square(ct).save())).toBe(v.mul_ct_ct_size3.sha256);
      check(ev.relinearize(product, relin), v.mul_relin, 'relinearize');
      check(ev.rotateRows(ct, 1, galois), v.rotate_rows_p1, 'rotate rows +1');
      check(ev.rotateColumns(ct, galois), v.rotate_columns, 'rotate columns');
      check(ev.modSwitchToNext(ct), v.mod_switch_to_next, 'mod switch');
      check(ev.multiplyPlain(ct, plain), v.multiply_plain, 'multiply_plain');
      check(ev.addPlain(ct, plain), v.add_plain, 'add_plain');
    });
  });
});
