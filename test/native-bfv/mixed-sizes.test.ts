/**
 * Native BFV add, sub and negate on ciphertexts of different sizes (a size-3 product with a size-2 ciphertext,
 * both ways round): the rows one operand lacks are copied or negated rather than added. The result bytes must
 * equal node-seal's for the same inputs (moved as SEAL bytes), and decrypt to the expected slots.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { nativeAvailable } from '../native-ckks/native-available.ts';

const N = 4096;

describe.runIf(await nativeAvailable())('native BFV add/sub/negate across ciphertext sizes', () => {
  let native: B.BackendContext;
  let seal: B.BackendContext;
  let sealDecryptor: B.Decryptor;
  let sealEncoder: B.BatchEncoder;
  let t: bigint;
  const inputs: { product: B.Ciphertext; plain: B.Ciphertext; x: bigint[]; y: bigint[] } = {} as never;

  beforeAll(async () => {
    const nativeBackend = await createNativeBackend();
    const wasm = await createWasmBackend();
    const params: B.ParamsSpec = {
      scheme: 'bfv',
      polyModulusDegree: N,
      coeffModulus: nativeBackend.coeffModulusBfvDefault(N, 128),
      plainModulus: nativeBackend.plainModulusBatching(N, 20),
    };
    t = params.plainModulus as bigint;
    native = nativeBackend.createContext(params, 128);
    seal = wasm.createContext(params, 128);
    const keygen = seal.createKeyGenerator();
    const sk = keygen.secretKey();
    sealDecryptor = seal.createDecryptor(sk);
    sealEncoder = seal.createBatchEncoder();
    const encryptor = seal.createEncryptor({ publicKey: keygen.createPublicKey(), secretKey: sk });
    inputs.x = Array.from({ length: N }, (_, i) => BigInt((i * 7) % 100));
    inputs.y = Array.from({ length: N }, (_, i) => BigInt((i * 3) % 50));
    const cx = encryptor.encrypt(sealEncoder.encode(BigInt64Array.from(inputs.x)));
    const cy = encryptor.encrypt(sealEncoder.encode(BigInt64Array.from(inputs.y)));
    inputs.product = seal.createEvaluator().multiply(cx, cx);
    inputs.plain = cy;
  });

  const centered = (v: bigint): bigint => {
    const r = ((v % t) + t) % t;
    return r > t / 2n ? r - t : r;
  };

  const cases: {
    name: string;
    run: (ev: B.Evaluator, p: B.Ciphertext, c: B.Ciphertext) => B.Ciphertext;
    expected: (x: bigint[], y: bigint[]) => bigint[];
  }[] = [
    { name: 'add(size 3, size 2)', run: (ev, p, c) => ev.add(p, c), expected: (x, y) => x.map((v, k) => v * v + y[k]) },
    { name: 'add(size 2, size 3)', run: (ev, p, c) => ev.add(c, p), expected: (x, y) => x.map((v, k) => v * v + y[k]) },
    { name: 'sub(size 3, size 2)', run: (ev, p, c) => ev.sub(p, c), expected: (x, y) => x.map((v, k) => v * v - y[k]) },
    { name: 'sub(size 2, size 3)', run: (ev, p, c) => ev.sub(c, p), expected: (x, y) => x.map((v, k) => y[k] - v * v) },
    { name: 'negate(size 3)', run: (ev, p) => ev.negate(p), expected: (x) => x.map((v) => -v * v) },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const sealResult = c.run(seal.createEvaluator(), inputs.product, inputs.plain);
      const nativeResult = c.run(
        native.createEvaluator(),
        native.load.ciphertext(inputs.product.save()),
        native.load.ciphertext(inputs.plain.save()),
      );
      expect(nativeResult.size).toBe(3);
      expect(Buffer.from(nativeResult.save()).equals(Buffer.from(sealResult.save()))).toBe(true);
      const decoded = Array.from(sealEncoder.decode(sealDecryptor.decrypt(seal.load.ciphertext(nativeResult.save()))));
      expect(decoded.map(centered)).toEqual(c.expected(inputs.x, inputs.y).map(centered));
    });
  }
});
