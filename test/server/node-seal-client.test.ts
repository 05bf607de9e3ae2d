/**
 * A plain node-seal client (raw embind API, no hefty code on the client side except HeftyClient for HTTP):
 * it makes its own parameters, seeded evaluation keys and ciphertexts, the service evaluates, and node-seal
 * decrypts the bare SEAL result and compares it with float64.
 */
import SEAL from 'node-seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeftyClient } from '../../src/client/client.ts';
import type { Program } from '../../src/api/program.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { randomVector } from '../helpers.ts';
import { ALICE, tempDir, testApp } from './fixtures.ts';

const N = 4096;
const SCALE = 2 ** 29;

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let client: HeftyClient;

beforeAll(async () => {
  dir = tempDir();
  app = await testApp(dir.path);
  client = new HeftyClient({ baseUrl: await app.listen({ host: '127.0.0.1', port: 0 }), apiKey: ALICE });
});

afterAll(async () => {
  await app?.close();
  dir?.remove();
});

describe('node-seal client against the service', () => {
  it('uploads seeded SEAL keys as multipart, sends SEAL ciphertexts, decrypts SEAL results', async () => {
    const seal = await SEAL();
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    parms.setPolyModulusDegree(N);
    parms.setCoeffModulus(seal.CoeffModulus.Create(N, Int32Array.from([40, 29, 40])));
    const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
    const keygen = new seal.KeyGenerator(context);
    const publicKey = keygen.createPublicKey();
    const steps = Int32Array.from(Array.from({ length: 11 }, (_, i) => 2 ** i));
    const zstd = seal.ComprModeType.zstd;
    const keys = {
      params: parms.saveToArray(zstd) as Uint8Array,
      publicKey: publicKey.saveToArray(zstd) as Uint8Array,
      relinKeys: keygen.createRelinKeysSerializable().saveToArray(zstd) as Uint8Array,
      galoisKeys: keygen.createGaloisKeysSerializableWithSteps(steps).saveToArray(zstd) as Uint8Array,
    };
    const keySet = await client.uploadSealKeys(keys);
    expect(keySet.info).toMatchObject({ polyModulusDegree: N, hasRelinKeys: true, galoisElements: 11 });

    const encoder = new seal.CKKSEncoder(context);
    const encryptor = new seal.Encryptor(context, publicKey);
    const decryptor = new seal.Decryptor(context, keygen.secretKey());
    const encrypt = (values: number[]): Uint8Array => {
      const plain = new seal.Plaintext();
      const cipher = new seal.Ciphertext();
      const padded = new Float64Array(N / 2);
      padded.set(values);
      encoder.encode(padded, SCALE, plain);
      encryptor.encrypt(plain, cipher);
      const bytes = cipher.saveToArray(seal.ComprModeType.none) as Uint8Array;
      plain.delete();
      cipher.delete();
      return bytes;
    };
    const decrypt = (bytes: Uint8Array): Float64Array => {
      const cipher = new seal.Ciphertext();
      cipher.loadFromArray(context, bytes);
      const plain = new seal.Plaintext();
      decryptor.decrypt(cipher, plain);
      const values = Float64Array.from(encoder.decodeFloat64(plain) as ArrayLike<number>);
      plain.delete();
      cipher.delete();
      return values;
    };

    const x = randomVector(N / 2, 31);
    const y = randomVector(N / 2, 32);
    const w = randomVector(N / 2, 33);
    const program: Program = {
      inputs: { x: 'vector', y: 'vector', w: 'plain' },
      steps: [
        { out: 'xy', op: 'mul', args: ['x', 'y'] },
        { out: 's', op: 'add', args: ['x', 'y'] },
        { out: 'd', op: 'dot', args: ['s', 'w'] },
      ],
      outputs: ['xy', 'd'],
    };
    // x goes as a binary multipart part, y as a previously uploaded ciphertext id.
    const yId = await client.uploadCiphertext(keySet.id, encrypt(y));
    const outputs = await client.eval(
      keySet.id,
      program,
      { x: encrypt(x), y: { ciphertext: yId }, w },
      { format: 'seal' },
    );
    const product = decrypt(outputs.xy);
    let worst = 0;
    for (let i = 0; i < N / 2; i++) worst = Math.max(worst, Math.abs(product[i] - x[i] * y[i]));
    expect(worst).toBeLessThan(1e-3);
    const dot = x.reduce((sum, v, i) => sum + (v + y[i]) * w[i], 0);
    expect(Math.abs(decrypt(outputs.d)[0] - dot)).toBeLessThan(1e-1);
    for (const o of [parms, context, keygen, publicKey, encoder, encryptor, decryptor]) o.delete();
  });
});
