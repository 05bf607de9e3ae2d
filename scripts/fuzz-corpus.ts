/**
 * Seed corpora for the libFuzzer targets (native/test/fuzz): valid objects of every kind, made by the native
 * engine for the targets' parameters (CKKS, N = 64, CoeffModulus.Create(64, [40, 30, 40]); fuzz_bfv and fuzz_bgv:
 * BFV and BGV, N = 64).
 * Usage: node scripts/fuzz-corpus.ts <out-dir>   → <out-dir>/<target>/<name>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createNativeBackend } from '../src/backend/native.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/fuzz-corpus.ts <out-dir>');
  process.exit(2);
}

const backend = await createNativeBackend();
const n = 64;
const params = {
  scheme: 'ckks',
  polyModulusDegree: n,
  coeffModulus: backend.coeffModulusCreate(n, [40, 30, 40]),
} as const;
const ctx = backend.createContext(params, 'none');
const gen = ctx.createKeyGenerator();
const sk = gen.secretKey();
const pk = gen.createPublicKey();
const rk = gen.createRelinKeys();
const encoder = ctx.createCkksEncoder();
const evaluator = ctx.createEvaluator();
const encryptor = ctx.createEncryptor({ publicKey: pk, secretKey: sk });
const plain = encoder.encode(Float64Array.from([1, -2, 3.5]), 2 ** 30);
const ct = encryptor.encrypt(plain);
const product = evaluator.multiply(ct, ct);

const seeded = {
  ciphertext: encryptor.encryptSymmetricSeeded(plain),
  publicKey: gen.createPublicKeySeeded(),
  relinKeys: gen.createRelinKeysSeeded(),
  galoisKeys: gen.createGaloisKeysSeeded([1, -1, 0]),
};
/** The seeded target's first byte picks its loader: 0 ciphertext, 1 public key, 2 key set. */
const selected = (loader: number, bytes: Uint8Array): Uint8Array => Uint8Array.of(loader, ...bytes);
/** A seeded ciphertext of `primes` rows re-labelled as SHAKE256-seeded (prng type byte after the c0 array). */
const shake256 = (bytes: Uint8Array, primes: number): Uint8Array => {
  const out = bytes.slice();
  out[89 + 24 + 8 * n * primes + 16] = 2;
  return out;
};

/** BFV objects for fuzz_bfv (N = 64, Create(64, [40, 40, 40]), t = Batching(64, 17)); the first byte picks the
 * loader: 0 plaintext, 1 ciphertext, 2 secret key, 3 public key, 4 key-switching keys. */
const bfvCtx = backend.createContext(
  {
    scheme: 'bfv',
    polyModulusDegree: n,
    coeffModulus: backend.coeffModulusCreate(n, [40, 40, 40]),
    plainModulus: backend.plainModulusBatching(n, 17),
  },
  'none',
);
const bfvGen = bfvCtx.createKeyGenerator();
const bfvSk = bfvGen.secretKey();
const bfvPlain = bfvCtx.createBatchEncoder().encode(BigInt64Array.from({ length: n }, (_, i) => BigInt(i - 32)));
const bfvEncryptor = bfvCtx.createEncryptor({ publicKey: bfvGen.createPublicKey(), secretKey: bfvSk });
const bfvCt = bfvEncryptor.encrypt(bfvPlain);

/** BGV objects for fuzz_bgv (same parameters and loader byte as fuzz_bfv), correction factors other than 1 included. */
const bgvCtx = backend.createContext({ ...bfvCtx.params, scheme: 'bgv' }, 'none');
const bgvGen = bgvCtx.createKeyGenerator();
const bgvSk = bgvGen.secretKey();
const bgvPlain = bgvCtx.createBatchEncoder().encode(BigInt64Array.from({ length: n }, (_, i) => BigInt(i - 32)));
const bgvEncryptor = bgvCtx.createEncryptor({ publicKey: bgvGen.createPublicKey(), secretKey: bgvSk });
const bgvCt = bgvEncryptor.encrypt(bgvPlain);
const bgvEvaluator = bgvCtx.createEvaluator();

const corpora: Record<string, Record<string, Uint8Array>> = {
  fuzz_bgv: {
    plaintext: selected(0, bgvPlain.save()),
    ciphertext: selected(1, bgvCt.save()),
    seededCiphertext: selected(1, bgvEncryptor.encryptSymmetricSeeded(bgvPlain)),
    product: selected(1, bgvEvaluator.multiply(bgvCt, bgvCt).save()),
    switched: selected(1, bgvEvaluator.modSwitchToNext(bgvCt).save()),
    secretKey: selected(2, bgvSk.save()),
    publicKey: selected(3, bgvGen.createPublicKey().save()),
    relinKeys: selected(4, bgvGen.createRelinKeysSeeded()),
    galoisKeys: selected(4, bgvGen.createGaloisKeys([1, 0]).save()),
  },
  fuzz_bfv: {
    plaintext: selected(0, bfvPlain.save()),
    ciphertext: selected(1, bfvCt.save()),
    seededCiphertext: selected(1, bfvEncryptor.encryptSymmetricSeeded(bfvPlain)),
    product: selected(1, bfvCtx.createEvaluator().multiply(bfvCt, bfvCt).save()),
    secretKey: selected(2, bfvSk.save()),
    publicKey: selected(3, bfvGen.createPublicKey().save()),
    relinKeys: selected(4, bfvGen.createRelinKeysSeeded()),
    galoisKeys: selected(4, bfvGen.createGaloisKeys([1, 0]).save()),
  },
  fuzz_params: {
    ckks: backend.saveParams(params),
    bfv: backend.saveParams({
      scheme: 'bfv',
      polyModulusDegree: n,
      coeffModulus: params.coeffModulus,
      plainModulus: backend.plainModulusBatching(n, 17),
    }),
  },
  fuzz_plaintext: {
    first: plain.save(),
    lower: evaluator.modSwitchPlainToNext(plain).save(),
  },
  fuzz_secret_key: { sk: sk.save() },
  fuzz_ciphertext: {
    public: ct.save(),
    symmetric: encryptor.encryptSymmetric(plain).save(),
    seeded: seeded.ciphertext,
    size3: product.save(),
    rescaled: evaluator.rescaleToNext(evaluator.relinearize(product, rk)).save(),
  },
  fuzz_public_key: { full: pk.save(), seeded: seeded.publicKey },
  fuzz_kswitch_keys: {
    relin: rk.save(),
    relinSeeded: seeded.relinKeys,
    galois: gen.createGaloisKeys([1]).save(),
    galoisSeeded: seeded.galoisKeys,
  },
  fuzz_seeded: {
    ciphertext: selected(0, seeded.ciphertext),
    ciphertextShake256: selected(0, shake256(seeded.ciphertext, 2)),
    publicKeyShake256: selected(1, shake256(seeded.publicKey, 3)),
    publicKey: selected(1, seeded.publicKey),
    relinKeys: selected(2, seeded.relinKeys),
    galoisKeys: selected(2, seeded.galoisKeys),
  },
};

for (const [target, files] of Object.entries(corpora)) {
  const dir = path.join(out, target);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
}
console.log(`fuzz corpora: ${Object.keys(corpora).length} targets in ${out}`);
