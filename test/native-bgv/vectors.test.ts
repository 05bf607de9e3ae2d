/**
 * Fixed-seed BGV vectors (native/bgv/SPEC.md): node-seal 7 (SEAL 4.1.2) made them with every PRNG seeded by 64 × 0x5a
 * and the secret key s_i = (i mod 3) - 1 (scripts/seal-bgv-vectors.ts). With the same seed the native engine
 * reproduces SEAL's bytes for the public key and key-switching keys, the batch encoder, symmetric encryption (full
 * and seeded), decryption, the noise budget and every evaluator op, correction factors included. Public-key
 * encryption draws u through the C++ library's uniform_int_distribution (node-seal's is libc++'s): its bytes are
 * not portable, so only its decryption is compared.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNativeBackend, type NativeContext } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { patternSecretKey } from '../native-bfv/pattern-key.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/seal-bgv-vectors.json', import.meta.url), 'utf8'));

interface Expected {
  sha256: string;
  bytes: number;
  hex?: string;
  ct_size?: number;
  coeff_modulus_size?: number;
  decoded_slots_0_1_2_3_half_last?: number[];
  noise_budget?: number;
  decrypted_plain_sha256?: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function expectBytes(actual: Uint8Array, expected: Expected, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.bytes);
  expect(sha256(actual), `${what} sha256`).toBe(expected.sha256);
}

const CASES = [
  { name: 'bgv_n64', n: 64, security: 'none' as const, bits: [40, 40, 40], plainBits: 17 },
  { name: 'bgv_n4096', n: 4096, security: 128 as const, bits: undefined, plainBits: 20 },
  { name: 'bgv_n8192', n: 8192, security: 128 as const, bits: undefined, plainBits: 20 },
];

describe.runIf(await nativeAvailable())('native BGV reproduces node-seal fixed-seed vectors', () => {
  describe.each(CASES)('$name', ({ name, n, security, bits, plainBits }) => {
    const v = VECTORS[name];

    it('keys, encoding, encryption, decryption and every evaluator op match byte for byte', async () => {
      const backend = await createNativeBackend();
      const coeffModulus = bits ? backend.coeffModulusCreate(n, bits) : backend.coeffModulusBfvDefault(n, 128);
      const plainModulus = backend.plainModulusBatching(n, plainBits);
      expect(coeffModulus.map(String)).toEqual(v.parameters.coeff_modulus);
      expect(String(plainModulus)).toBe(v.parameters.plain_modulus);
      const ctx = backend.createContext(
        { scheme: 'bgv', polyModulusDegree: n, coeffModulus, plainModulus },
        security,
      ) as NativeContext;
      ctx.setTestSeed(new Uint8Array(64).fill(0x5a));

      const skBytes = patternSecretKey(backend, ctx);
      expectBytes(skBytes, v.secret_key, 'secret key');
      const sk = ctx.load.secretKey(skBytes);
      expectBytes(sk.save(), v.secret_key, 'secret key re-saved');

      const keygen = ctx.createKeyGenerator(sk);
      const publicKey = keygen.createPublicKey();
      expectBytes(publicKey.save(), v.public_key, 'public key');
      expectBytes(keygen.createPublicKeySeeded(), v.public_key_seeded, 'seeded public key');
      const relinSeeded = keygen.createRelinKeysSeeded();
      expectBytes(relinSeeded, v.relin_keys_seeded, 'seeded relin keys');
      const relin = ctx.load.relinKeys(relinSeeded);
      expectBytes(relin.save(), v.relin_keys, 'relin keys expanded from their seeds');
      expectBytes(keygen.createRelinKeys().save(), v.relin_keys, 'relin keys');
      const steps = [1, -1, 4, 0];
      expectBytes(keygen.createGaloisKeysSeeded(steps), v.galois_keys_seeded, 'seeded galois keys');
      const galois = keygen.createGaloisKeys(steps);

      const encoder = ctx.createBatchEncoder();
      const plain = encoder.encode(BigInt64Array.from({ length: n }, (_, i) => BigInt(i + 1)));
      expectBytes(plain.save(), v.plain_batch_1_to_N, 'batch-encoded plaintext');
      const signed = encoder.encode(BigInt64Array.from({ length: n }, (_, i) => BigInt((i % 7) - 3)));
      expectBytes(signed.save(), v.plain_batch_signed, 'batch-encoded signed plaintext');

      const encryptor = ctx.createEncryptor({ secretKey: sk, publicKey });
      const decryptor = ctx.createDecryptor(sk);
      const check = (ct: B.Ciphertext, what: string): B.Ciphertext => {
        const expected: Expected = v[what];
        expectBytes(ct.save(), expected, what);
        expect(ct.isNttForm, `${what} is in NTT form`).toBe(true);
        expect(ct.size, `${what} size`).toBe(expected.ct_size);
        expect(ct.chainIndex + 1, `${what} level`).toBe(expected.coeff_modulus_size);
        const decrypted = decryptor.decrypt(ct);
        expect(sha256(decrypted.save()), `${what} decrypts to SEAL's plaintext`).toBe(expected.decrypted_plain_sha256);
        const slots = encoder.decode(decrypted);
        const picked = [0, 1, 2, 3, n / 2, n - 1].map((i) => Number(slots[i]));
        expect(picked, `${what} slots`).toEqual(expected.decoded_slots_0_1_2_3_half_last);
        expect(decryptor.invariantNoiseBudget(ct), `${what} noise budget`).toBe(expected.noise_budget);
        return ct;
      };

      const ct = check(encryptor.encryptSymmetric(plain), 'ct_sym');
      const ctSigned = check(encryptor.encryptSymmetric(signed), 'ct_sym_signed');
      expectBytes(encryptor.encryptSymmetricSeeded(plain), v.ct_sym_seeded, 'seeded symmetric ciphertext');
      expectBytes(
        ctx.load.ciphertext(encryptor.encryptSymmetricSeeded(plain)).save(),
        v.ct_sym,
        'seeded ciphertext expanded',
      );
      const publicEncrypted = decryptor.decrypt(encryptor.encrypt(plain));
      expect(sha256(publicEncrypted.save()), 'public-key encryption decrypts').toBe(v.ct_public.decrypted_plain_sha256);

      const ev = ctx.createEvaluator();
      const product = check(ev.multiply(ct, ctSigned), 'multiply');
      check(ev.square(ct), 'square');
      const relinearized = check(ev.relinearize(product, relin), 'relinearize');
      const rotated = check(ev.rotateRows(ct, 1, galois), 'rotate_rows_p1');
      check(ev.rotateRows(ct, 3, galois), 'rotate_rows_p3_composed');
      check(ev.rotateColumns(ct, galois), 'rotate_columns');
      const switched = check(ev.modSwitchToNext(ct), 'mod_switch_to_next');
      check(ev.multiplyPlain(ct, signed), 'multiply_plain');
      check(ev.addPlain(ct, signed), 'add_plain');
      check(ev.subPlain(ct, signed), 'sub_plain');
      check(ev.add(ct, rotated), 'add');
      check(ev.sub(ct, rotated), 'sub');
      check(ev.negate(ct), 'negate');
      check(ev.add(product, ctSigned), 'add_size3_size2');
      check(ev.sub(ctSigned, product), 'sub_size2_size3');
      check(ev.exponentiate(ctSigned, 3, relin), 'exponentiate_3');
      check(ev.addPlain(switched, signed), 'mod_switch_add_plain');
      check(ev.subPlain(switched, signed), 'mod_switch_sub_plain');
      const switchedSigned = check(ev.modSwitchToNext(ctSigned), 'mod_switch_signed');
      const switchedProduct = check(ev.multiply(switchedSigned, switchedSigned), 'mod_switch_product');
      check(ev.relinearize(switchedProduct, relin), 'mod_switch_product_relinearize');
      check(ev.add(switchedProduct, switchedSigned), 'add_balanced');
      check(ev.sub(switchedSigned, switchedProduct), 'sub_balanced');
      check(ev.modSwitchToNext(relinearized), 'mod_switch_relinearized');
      check(ev.rotateRows(switchedSigned, 1, galois), 'rotate_rows_after_mod_switch');
    });
  });
});
