/**
 * A plain node-seal client on BFV and BGV (raw embind API; hefty only as HeftyClient for HTTP): its seeded keys go
 * up as multipart SEAL objects, its bare SEAL ciphertexts through eval (row rotations composed from SEAL's default
 * keys, a column swap, a product, a dot product with plain integers) and batch, and node-seal decrypts the results
 * exactly (compared with the same arithmetic on plain integers mod t). Key sets the service cannot evaluate are
 * refused at upload with a typed 4xx.
 */
import SEAL from 'node-seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeftyClient } from '../../src/client/client.ts';
import { HeftyError } from '../../src/errors.ts';
import type { Program } from '../../src/api/program.ts';
import { loadBackend } from '../../src/backend/load.ts';
import type { HeftyApp } from '../../src/server/app.ts';
import { ALICE, tempDir, testApp } from './fixtures.ts';

const N = 8192;
const ROW = N / 2;

type Seal = Awaited<ReturnType<typeof SEAL>>;

/** A node-seal BFV or BGV client: parameters, seeded keys as SEAL bytes, encryption and decryption of slots. */
function sealClient(seal: Seal, scheme: 'bfv' | 'bgv', plainModulus?: bigint) {
  const parms = new seal.EncryptionParameters(seal.SchemeType[scheme]);
  parms.setPolyModulusDegree(N);
  parms.setCoeffModulus(seal.CoeffModulus.BFVDefault(N, seal.SecLevelType.tc128));
  parms.setPlainModulus(
    plainModulus === undefined ? seal.PlainModulus.Batching(N, 20) : new seal.Modulus(BigInt(plainModulus)),
  );
  const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
  const keygen = new seal.KeyGenerator(context);
  const publicKey = keygen.createPublicKey();
  const zstd = seal.ComprModeType.zstd;
  const keys = {
    params: parms.saveToArray(zstd) as Uint8Array,
    publicKey: publicKey.saveToArray(zstd) as Uint8Array,
    relinKeys: keygen.createRelinKeysSerializable().saveToArray(zstd) as Uint8Array,
    // SEAL's default galois keys: ±powers of two and the column swap; a step like 3 must be composed.
    galoisKeys: keygen.createGaloisKeysSerializable().saveToArray(zstd) as Uint8Array,
  };
  const t = BigInt(parms.plainModulus().value());
  if (plainModulus !== undefined) return { keys, t, encrypt: undefined, decrypt: undefined };
  const encoder = new seal.BatchEncoder(context);
  const encryptor = new seal.Encryptor(context, publicKey);
  const decryptor = new seal.Decryptor(context, keygen.secretKey());
  const encrypt = (values: readonly bigint[]): Uint8Array => {
    const plain = new seal.Plaintext();
    const cipher = new seal.Ciphertext();
    encoder.encode(BigInt64Array.from(values), plain);
    encryptor.encrypt(plain, cipher);
    const bytes = cipher.saveToArray(seal.ComprModeType.none) as Uint8Array;
    plain.delete();
    cipher.delete();
    return bytes;
  };
  const decrypt = (bytes: Uint8Array): bigint[] => {
    const cipher = new seal.Ciphertext();
    cipher.loadFromArray(context, new Uint8Array(bytes));
    const plain = new seal.Plaintext();
    decryptor.decrypt(cipher, plain);
    expect(decryptor.invariantNoiseBudget(cipher)).toBeGreaterThan(0);
    const values = Array.from(encoder.decodeBigInt64(plain) as ArrayLike<bigint>);
    plain.delete();
    cipher.delete();
    return values;
  };
  return { keys, t, encrypt, decrypt };
}

function ints(count: number, seed: number, bound: number): bigint[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return BigInt((state % (2 * bound + 1)) - bound);
  });
}

async function expectRefused(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(HeftyError);
  expect((error as HeftyError).code).toBe(code);
}

let dir: ReturnType<typeof tempDir>;
let app: HeftyApp;
let client: HeftyClient;
let seal: Seal;
type Peer = ReturnType<typeof sealClient>;
let peers: Record<'bfv' | 'bgv' | 'unbatched', Peer>;

beforeAll(async () => {
  seal = await SEAL();
  // Keys first: node-seal keygen takes seconds, and a client connection idle past the service's keep-alive
  // timeout (5 s) can be closed just as the next request goes out on it.
  peers = { bfv: sealClient(seal, 'bfv'), bgv: sealClient(seal, 'bgv'), unbatched: sealClient(seal, 'bfv', 1024n) };
  dir = tempDir();
  app = await testApp(dir.path);
  client = new HeftyClient({ baseUrl: await app.listen({ host: '127.0.0.1', port: 0 }), apiKey: ALICE });
});

afterAll(async () => {
  await app?.close();
  dir?.remove();
});

const program: Program = {
  inputs: { x: 'vector', y: 'vector', w: 'plain' },
  steps: [
    { out: 'r', op: 'rotate', args: ['x'], steps: 3 },
    { out: 'c', op: 'rotateColumns', args: ['x'] },
    { out: 'xy', op: 'mul', args: ['x', 'y'] },
    { out: 'd', op: 'dot', args: ['x', 'w'] },
    { out: 'e', op: 'add', args: ['xy', { const: 5 }] },
  ],
  outputs: ['r', 'c', 'xy', 'd', 'e'],
};

for (const scheme of ['bfv', 'bgv'] as const) {
  describe(`node-seal ${scheme.toUpperCase()} client against the service`, () => {
    it('uploads seeded keys, evaluates rotations, a product and a dot product, and batches, all exact', async () => {
      const peer = peers[scheme];
      const { keys, t } = peer;
      const encrypt = peer.encrypt as NonNullable<typeof peer.encrypt>;
      const decrypt = peer.decrypt as NonNullable<typeof peer.decrypt>;
      const mod = (v: bigint): bigint => {
        let r = v % t;
        if (r < 0n) r += t;
        return r > t / 2n ? r - t : r;
      };
      const keySet = await client.uploadSealKeys(keys);
      expect(keySet.info).toMatchObject({ scheme, polyModulusDegree: N, slotCount: N, hasRelinKeys: true });

      const x = ints(N, 1, 3000);
      const y = ints(N, 2, 3000);
      const w = ints(N, 3, 50).map(Number);
      const yId = await client.uploadCiphertext(keySet.id, encrypt(y));
      const out = await client.eval(
        keySet.id,
        program,
        { x: encrypt(x), y: { ciphertext: yId }, w },
        { format: 'seal' },
      );

      const rotated = x.map((_, i) => (i < ROW ? x[(i + 3) % ROW] : x[ROW + ((i - ROW + 3) % ROW)]));
      expect(decrypt(out.r)).toEqual(rotated);
      expect(decrypt(out.c)).toEqual(x.map((_, i) => x[(i + ROW) % N]));
      const xy = x.map((v, i) => mod(v * y[i]));
      expect(decrypt(out.xy)).toEqual(xy);
      expect(decrypt(out.e)).toEqual(xy.map((v) => mod(v + 5n)));
      expect(decrypt(out.d)[0]).toBe(mod(x.reduce((s, v, i) => s + v * BigInt(w[i]), 0n)));

      const items = [ints(N, 4, 100), ints(N, 5, 100)];
      const dot: Program = {
        inputs: { x: 'vector', w: 'plain' },
        steps: [{ out: 'd', op: 'dot', args: ['x', 'w'] }],
        outputs: ['d'],
      };
      const results = await client.batch(
        keySet.id,
        dot,
        items.map((v) => ({ x: encrypt(v), w })),
        { format: 'seal' },
      );
      results.forEach((result, k) => {
        if (!('outputs' in result)) throw new Error(`item ${k}: ${result.error.code} ${result.error.message}`);
        expect(decrypt(result.outputs.d)[0]).toBe(mod(items[k].reduce((s, v, i) => s + v * BigInt(w[i]), 0n)));
      });

      // What the scheme does not have is a typed 400, not a failure inside the engine.
      await expectRefused(
        client.eval(
          keySet.id,
          { ...dot, steps: [{ out: 'd', op: 'activation', args: ['x'], fn: 'sigmoid' }] },
          {
            x: encrypt(x),
            w,
          },
        ),
        'E_BAD_PROGRAM',
      );
      await expectRefused(
        client.eval(
          keySet.id,
          { ...dot, steps: [{ out: 'd', op: 'mul', args: ['x', { const: 0.5 }] }] },
          {
            x: encrypt(x),
            w,
          },
        ),
        'E_BAD_PROGRAM',
      );
    });
  });
}

describe('key sets the service cannot evaluate are refused at upload', () => {
  it('refuses a BFV key set whose plain modulus does not batch (E_INVALID_PARAMS, 400)', async () => {
    const { keys } = peers.unbatched;
    const before = (await client.listKeySets()).keysets.length;
    await expectRefused(client.uploadSealKeys(keys), 'E_INVALID_PARAMS');
    expect((await client.listKeySets()).keysets).toHaveLength(before);
  });

  it('refuses a scheme the configured engine does not run (or serves it where the engine does)', async () => {
    let native;
    try {
      native = await loadBackend('native');
    } catch {
      return; // no native engine here: every scheme runs on node-seal
    }
    const nativeDir = tempDir();
    const nativeApp = await testApp(nativeDir.path, { backend: 'native' });
    try {
      const nativeClient = new HeftyClient({
        baseUrl: await nativeApp.listen({ host: '127.0.0.1', port: 0 }),
        apiKey: ALICE,
      });
      const { keys } = peers.bgv;
      if (native.capabilities.schemes.includes('bgv')) {
        expect((await nativeClient.uploadSealKeys(keys)).info).toMatchObject({ scheme: 'bgv', backend: 'native' });
      } else {
        await expectRefused(nativeClient.uploadSealKeys(keys), 'E_UNSUPPORTED');
        expect((await nativeClient.listKeySets()).keysets).toEqual([]);
      }
    } finally {
      await nativeApp.close();
      nativeDir.remove();
    }
  });
});
