/**
 * Writes test/fixtures/seal-bgv-vectors.json: fixed-seed BGV vectors made by node-seal 7 (SEAL 4.1.2 in WebAssembly).
 *
 * node-seal has no seed setting, so this script makes its entropy fixed instead: SEAL seeds every PRNG it
 * creates from 64 bytes of the system's random device, which node-seal reads through crypto.getRandomValues;
 * while keys and ciphertexts are made, that function fills every request with 0x5a. Every PRNG SEAL creates
 * then starts from the same seed (64 × 0x5a) — what the native engine's test seed hook replays. The secret key
 * is the pattern s_i = (i mod 3) - 1 loaded from bytes (SEAL's ternary sampler goes through the C++ standard
 * library's uniform_int_distribution, which differs between standard libraries). Usage:
 *   node scripts/seal-bgv-vectors.ts
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const FIXED_BYTE = 0x5a;
/** Galois keys for these steps (0: the column swap); a rotation by 3 is composed from -1 and 4. */
const GALOIS_STEPS = [1, -1, 4, 0];
let fixedEntropy = false;
const systemRandom = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
Object.defineProperty(globalThis.crypto, 'getRandomValues', {
  configurable: true,
  writable: true,
  value: <T extends ArrayBufferView | null>(view: T): T => {
    if (!fixedEntropy || view === null) return systemRandom(view as never) as T;
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(FIXED_BYTE);
    return view;
  },
});
const { default: SEAL } = await import('node-seal');
const seal = await SEAL();
type Raw = { saveToArray(mode: unknown): unknown };

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (raw: Raw): Uint8Array => Uint8Array.from(raw.saveToArray(seal.ComprModeType.none) as Uint8Array);

interface Case {
  name: string;
  n: number;
  coeffModulus: { create: number[] } | 'BFVDefault';
  plainBits: number;
  secure: boolean;
  /** Full bytes are stored (hex) when the objects are small. */
  hex: boolean;
}

const CASES: Case[] = [
  { name: 'bgv_n64', n: 64, coeffModulus: { create: [40, 40, 40] }, plainBits: 17, secure: false, hex: true },
  { name: 'bgv_n4096', n: 4096, coeffModulus: 'BFVDefault', plainBits: 20, secure: true, hex: false },
  { name: 'bgv_n8192', n: 8192, coeffModulus: 'BFVDefault', plainBits: 20, secure: true, hex: false },
];

/** SEAL bytes of a plaintext in coefficient form (zero parms_id, scale 1) with the given coefficients. */
function plaintextBytes(coefficients: readonly number[]): Uint8Array {
  const count = coefficients.length;
  const out = new Uint8Array(16 + 32 + 8 + 8 + 16 + 8 + 8 * count);
  const view = new DataView(out.buffer);
  const header = (at: number, size: number): void => {
    out.set([0x5e, 0xa1, 0x10, 4, 1, 0, 0, 0], at);
    view.setBigUint64(at + 8, BigInt(size), true);
  };
  header(0, out.length);
  view.setBigUint64(48, BigInt(count), true);
  view.setFloat64(56, 1, true);
  header(64, 24 + 8 * count);
  view.setBigUint64(80, BigInt(count), true);
  coefficients.forEach((c, i) => view.setBigUint64(88 + 8 * i, BigInt(c), true));
  return out;
}

function makeCase(c: Case): Record<string, unknown> {
  const parms = new seal.EncryptionParameters(seal.SchemeType.bgv);
  parms.setPolyModulusDegree(c.n);
  const level = c.secure ? seal.SecLevelType.tc128 : seal.SecLevelType.none;
  parms.setCoeffModulus(
    c.coeffModulus === 'BFVDefault'
      ? seal.CoeffModulus.BFVDefault(c.n, level)
      : seal.CoeffModulus.Create(c.n, Int32Array.from(c.coeffModulus.create)),
  );
  const t = seal.PlainModulus.Batching(c.n, c.plainBits);
  parms.setPlainModulus(t);
  const ctx = new seal.SEALContext(parms, true, level);
  if (!ctx.parametersSet()) throw new Error(`${c.name}: parameters rejected`);
  const primes = (seal.jsArrayFromVecModulus(parms.coeffModulus()) as bigint[]).map(String);
  const tValue = t.value();
  const evaluator = new seal.Evaluator(ctx);
  const encoder = new seal.BatchEncoder(ctx);
  const out: Record<string, unknown> = { parameters: { n: c.n, coeff_modulus: primes, plain_modulus: String(tValue) } };
  const rows = (ct: InstanceType<typeof seal.Ciphertext>) => ct.coeffModulusSize();
  const record = (raw: Raw, extra: Record<string, unknown> = {}) => {
    const bytes = bytesOf(raw);
    return {
      sha256: sha256(bytes),
      bytes: bytes.length,
      ...(c.hex ? { hex: Buffer.from(bytes).toString('hex') } : {}),
      ...extra,
    };
  };

  // Secret key s_i = (i mod 3) - 1: the plaintext with coefficients s_i mod t, lifted (centered) to the key level's
  // primes and transformed to NTT form — exactly the secret key's stored form.
  const skPlain = new seal.Plaintext();
  skPlain.loadFromArray(
    ctx,
    plaintextBytes(Array.from({ length: c.n }, (_, i) => ((i % 3) - 1 + Number(tValue)) % Number(tValue))),
  );
  const skNtt = new seal.Plaintext();
  evaluator.plainTransformToNtt(skPlain, ctx.keyParmsId(), skNtt);
  const secretKey = new seal.SecretKey();
  secretKey.loadFromArray(ctx, bytesOf(skNtt));
  out.secret_key = record(secretKey);

  fixedEntropy = true;
  const keygen = new seal.KeyGenerator(ctx, secretKey);
  out.public_key = record(keygen.createPublicKey());
  out.public_key_seeded = record(keygen.createPublicKeySerializable());
  const relinKeys = keygen.createRelinKeys();
  out.relin_keys_seeded = record(keygen.createRelinKeysSerializable());
  out.relin_keys = record(relinKeys);
  const galoisKeys = keygen.createGaloisKeysWithSteps(Int32Array.from(GALOIS_STEPS));
  out.galois_keys_seeded = record(keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(GALOIS_STEPS)));

  const plain = new seal.Plaintext();
  encoder.encode(
    BigInt64Array.from({ length: c.n }, (_, i) => BigInt(i + 1)),
    plain,
  );
  out.plain_batch_1_to_N = record(plain);
  const plainSigned = new seal.Plaintext();
  encoder.encode(
    BigInt64Array.from({ length: c.n }, (_, i) => BigInt((i % 7) - 3)),
    plainSigned,
  );
  out.plain_batch_signed = record(plainSigned);

  const encryptor = new seal.Encryptor(ctx, keygen.createPublicKey(), secretKey);
  const ct = new seal.Ciphertext();
  encryptor.encryptSymmetric(plain, ct);
  out.ct_sym_seeded = record(encryptor.encryptSymmetricSerializable(plain));
  const ctSigned = new seal.Ciphertext();
  encryptor.encryptSymmetric(plainSigned, ctSigned);
  const ctPublic = new seal.Ciphertext();
  encryptor.encrypt(plain, ctPublic);
  fixedEntropy = false;

  const decryptor = new seal.Decryptor(ctx, secretKey);
  const picks = [0, 1, 2, 3, c.n / 2, c.n - 1];
  const cipher = (name: string, ct: InstanceType<typeof seal.Ciphertext>) => {
    const decrypted = new seal.Plaintext();
    decryptor.decrypt(ct, decrypted);
    const slots = encoder.decodeBigInt64(decrypted) as BigInt64Array;
    out[name] = record(ct, {
      ct_size: ct.size(),
      coeff_modulus_size: rows(ct),
      decoded_slots_0_1_2_3_half_last: picks.map((i) => Number(slots[i])),
      noise_budget: decryptor.invariantNoiseBudget(ct),
      decrypted_plain_sha256: sha256(bytesOf(decrypted)),
    });
  };
  const op = (name: string, run: (dst: InstanceType<typeof seal.Ciphertext>) => void) => {
    const dst = new seal.Ciphertext();
    try {
      run(dst);
    } catch (e) {
      throw new Error(`${c.name} ${name}: ${String((e as { message?: unknown }).message)}`, { cause: e });
    }
    cipher(name, dst);
    return dst;
  };
  cipher('ct_sym', ct);
  cipher('ct_sym_signed', ctSigned);
  cipher('ct_public', ctPublic);
  const product = op('multiply', (d) => evaluator.multiply(ct, ctSigned, d));
  op('square', (d) => evaluator.square(ct, d));
  const relinearized = op('relinearize', (d) => evaluator.relinearize(product, relinKeys, d));
  const rotated = op('rotate_rows_p1', (d) => evaluator.rotateRows(ct, 1, galoisKeys, d));
  op('rotate_rows_p3_composed', (d) => evaluator.rotateRows(ct, 3, galoisKeys, d));
  op('rotate_columns', (d) => evaluator.rotateColumns(ct, galoisKeys, d));
  const switched = op('mod_switch_to_next', (d) => evaluator.cipherModSwitchToNext(ct, d));
  op('multiply_plain', (d) => evaluator.multiplyPlain(ct, plainSigned, d));
  op('add_plain', (d) => evaluator.addPlain(ct, plainSigned, d));
  op('sub_plain', (d) => evaluator.subPlain(ct, plainSigned, d));
  op('add', (d) => evaluator.add(ct, rotated, d));
  op('sub', (d) => evaluator.sub(ct, rotated, d));
  op('negate', (d) => evaluator.negate(ct, d));
  op('add_size3_size2', (d) => evaluator.add(product, ctSigned, d));
  op('sub_size2_size3', (d) => evaluator.sub(ctSigned, product, d));
  op('exponentiate_3', (d) => evaluator.exponentiate(ctSigned, 3n, relinKeys, d));
  // Correction factors: a switched ciphertext carries q_last^-1 (mod t), a product of two carries its square; sums
  // of the two are balanced, and plaintexts added to them are scaled by the factor.
  op('mod_switch_add_plain', (d) => evaluator.addPlain(switched, plainSigned, d));
  op('mod_switch_sub_plain', (d) => evaluator.subPlain(switched, plainSigned, d));
  const switchedSigned = op('mod_switch_signed', (d) => evaluator.cipherModSwitchToNext(ctSigned, d));
  const switchedProduct = op('mod_switch_product', (d) => evaluator.multiply(switchedSigned, switchedSigned, d));
  op('mod_switch_product_relinearize', (d) => evaluator.relinearize(switchedProduct, relinKeys, d));
  op('add_balanced', (d) => evaluator.add(switchedProduct, switchedSigned, d));
  op('sub_balanced', (d) => evaluator.sub(switchedSigned, switchedProduct, d));
  op('mod_switch_relinearized', (d) => evaluator.cipherModSwitchToNext(relinearized, d));
  op('rotate_rows_after_mod_switch', (d) => evaluator.rotateRows(switchedSigned, 1, galoisKeys, d));
  return out;
}

const vectors: Record<string, unknown> = {
  _source:
    "Made by scripts/seal-bgv-vectors.ts with node-seal 7.0.0 (SEAL 4.1.2 in WebAssembly): node-seal's entropy (crypto.getRandomValues) fixed to 0x5a bytes while keys and ciphertexts are made, so every SEAL PRNG starts from the seed 64 × 0x5a.",
  inputs: {
    secret_key: 's_i = (i mod 3) - 1 for i = 0..N-1, stored mod every key-level prime, NTT form',
    randomness: 'every PRNG SEAL creates (key generation, encryption) is Blake2xb seeded with 64 bytes 0x5a',
    slots: 'plain_batch_1_to_N: slots[i] = i + 1; plain_batch_signed: slots[i] = (i mod 7) - 3',
    ops: 'ct_sym/ct_sym_signed/ct_public encrypt the two plaintexts; multiply = ct_sym × ct_sym_signed; relinearize its result; rotations of ct_sym with galois keys for steps {1, -1, 4, 0} (3 composed from -1 and 4); plaintext ops with plain_batch_signed; add and sub of ct_sym and its rotation by 1; mod_switch_* chains exercise correction factors',
  },
};
for (const c of CASES) vectors[c.name] = makeCase(c);
writeFileSync(
  new URL('../test/fixtures/seal-bgv-vectors.json', import.meta.url),
  `${JSON.stringify(vectors, null, 1)}\n`,
);
console.log('wrote test/fixtures/seal-bgv-vectors.json');
