/** High-level CKKS API: every vector op decrypted and compared with a float64 reference, on every backend. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createContext,
  loadContext,
  decodeKeySet,
  encodeKeySet,
  type HeftyContext,
  CKKSVector,
} from '../../src/index.ts';
import { backendsUnderTest, expectHeftyError, maxAbsError, randomVector } from '../helpers.ts';

const backends = await backendsUnderTest();

/** Bound for results after at most two rescales at scale 2^40 (observed errors are ~1e-8 to 1e-6). */
const TIGHT = 1e-5;

describe.each(backends)('CKKSVector on %s (N=8192, scale 2^40)', (backend) => {
  let ctx: HeftyContext;
  const x = randomVector(100, 11, 2);
  const y = randomVector(100, 12, 2);
  let vx: CKKSVector;
  let vy: CKKSVector;

  beforeAll(async () => {
    ctx = await createContext({
      scheme: 'ckks',
      polyModulusDegree: 8192,
      coeffModulusBits: [60, 40, 40, 60],
      scale: 2 ** 40,
      backend,
    });
    ctx.keygen({ galois: 'power-of-two' });
    vx = ctx.encrypt(x);
    vy = ctx.encrypt(y);
  });
  afterAll(() => ctx.dispose());

  const report = (op: string, error: number) => {
    console.log(`[${backend}] ${op}: max abs error ${error.toExponential(2)}`);
    return error;
  };

  it('add / sub / negate with vectors, plain vectors and scalars', () => {
    expect(
      report(
        'add',
        maxAbsError(
          vx.add(vy).decrypt(),
          x.map((v, i) => v + y[i]),
        ),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      report(
        'add plain',
        maxAbsError(
          vx.add(y).decrypt(),
          x.map((v, i) => v + y[i]),
        ),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.add(3.5).decrypt(),
        x.map((v) => v + 3.5),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.sub(vy).decrypt(),
        x.map((v, i) => v - y[i]),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.sub(y).decrypt(),
        x.map((v, i) => v - y[i]),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.negate().decrypt(),
        x.map((v) => -v),
      ),
    ).toBeLessThan(TIGHT);
  });

  it('mul / square with automatic relinearization and rescale', () => {
    const product = vx.mul(vy);
    expect(product.chainIndex).toBe(vx.chainIndex - 1);
    expect(
      report(
        'mul',
        maxAbsError(
          product.decrypt(),
          x.map((v, i) => v * y[i]),
        ),
      ),
    ).toBeLessThan(TIGHT);
    const plain = vx.mul(y);
    expect(plain.scale).toBe(vx.scale); // plain factors are encoded at the dropped prime: scale is kept exactly
    expect(
      report(
        'mul plain',
        maxAbsError(
          plain.decrypt(),
          x.map((v, i) => v * y[i]),
        ),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.mul(-0.75).decrypt(),
        x.map((v) => v * -0.75),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      report(
        'square',
        maxAbsError(
          vx.square().decrypt(),
          x.map((v) => v * v),
        ),
      ),
    ).toBeLessThan(TIGHT);
  });

  it('aligns levels and scales between operands automatically', () => {
    const squared = vx.square(); // one level down, scale drifted by the rescale
    expect(
      maxAbsError(
        squared.add(vx).decrypt(),
        x.map((v) => v * v + v),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        vx.sub(squared).decrypt(),
        x.map((v) => v - v * v),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        squared.mul(vy).decrypt(),
        x.map((v, i) => v * v * y[i]),
      ),
    ).toBeLessThan(1e-4);
  });

  it('rotates over the slot ring', () => {
    const full = randomVector(4096, 5);
    const v = ctx.encrypt(full);
    expect(
      maxAbsError(
        v.rotate(1).decrypt(),
        full.map((_, i) => full[(i + 1) % 4096]),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        v.rotate(-2).decrypt(),
        full.map((_, i) => full[(i - 2 + 4096) % 4096]),
      ),
    ).toBeLessThan(TIGHT);
  });

  it('sum, dot, polyval and matvec', () => {
    const sum = x.reduce((a, b) => a + b, 0);
    expect(report('sum', maxAbsError(vx.sum().decrypt(), [sum]))).toBeLessThan(TIGHT);
    const dot = x.reduce((a, v, i) => a + v * y[i], 0);
    expect(report('dot', maxAbsError(vx.dot(vy).decrypt(), [dot]))).toBeLessThan(1e-4);
    expect(maxAbsError(vx.dot(y).decrypt(), [dot])).toBeLessThan(1e-4);
    const coeffs = [0.5, 0.197, 0, -0.004];
    const poly = x.map((v) => coeffs[0] + coeffs[1] * v + coeffs[3] * v ** 3);
    expect(report('polyval', maxAbsError(vx.polyval(coeffs).decrypt(), poly))).toBeLessThan(1e-4);
    const matrix = Array.from({ length: 8 }, (_, r) => randomVector(100, 100 + r));
    const expected = matrix.map((row) => row.reduce((a, m, i) => a + m * x[i], 0));
    expect(report('matvec', maxAbsError(vx.matvec(matrix).decrypt(), expected))).toBeLessThan(1e-4);
  });

  it('sums a rotated (dirty) vector by masking first', () => {
    const full = randomVector(4096, 6);
    const rotated = ctx.encrypt(full.slice(0, 10)).rotate(3); // slots past length now hold moved values
    expect(rotated.clean).toBe(false);
    const expectedVisible = full.slice(3, 10).concat([0, 0, 0]);
    expect(maxAbsError(rotated.sum().decrypt(), [expectedVisible.reduce((a, b) => a + b, 0)])).toBeLessThan(TIGHT);
  });

  it('chunks vectors longer than one ciphertext transparently', () => {
    const long = randomVector(10_000, 7);
    const other = randomVector(10_000, 8);
    const v = ctx.encrypt(long);
    expect(v.chunkCount).toBe(3);
    expect(
      maxAbsError(
        v.add(other).decrypt(),
        long.map((a, i) => a + other[i]),
      ),
    ).toBeLessThan(TIGHT);
    expect(
      maxAbsError(
        v.mul(ctx.encrypt(other)).decrypt(),
        long.map((a, i) => a * other[i]),
      ),
    ).toBeLessThan(TIGHT);
    expect(maxAbsError(v.sum().decrypt(), [long.reduce((a, b) => a + b, 0)])).toBeLessThan(1e-4);
    const matrix = [other, long];
    expect(
      maxAbsError(
        v.matvec(matrix).decrypt(),
        matrix.map((row) => row.reduce((a, m, i) => a + m * long[i], 0)),
      ),
    ).toBeLessThan(1e-3);
  });

  it('serializes, and computes in a public context that has no secret key', async () => {
    const server = await loadContext(decodeKeySet(encodeKeySet(ctx.exportKeySet())), { backend });
    expect(server.hasSecretKey).toBe(false);
    const onServer = server.loadVector(vx.serialize()) as CKKSVector;
    const result = onServer.mul(y).add(1);
    expectHeftyError(() => result.decrypt(), 'E_MISSING_KEY');
    const back = ctx.loadVector(result.serialize()) as CKKSVector;
    expect(
      maxAbsError(
        back.decrypt(),
        x.map((v, i) => v * y[i] + 1),
      ),
    ).toBeLessThan(TIGHT);
    // bare SEAL ciphertext form for node-seal clients
    expect(
      maxAbsError(
        (ctx.loadVector(result.serialize('seal')) as CKKSVector).decrypt(),
        x.map((v, i) => v * y[i] + 1),
      ),
    ).toBeLessThan(TIGHT);
    server.dispose();
  });

  it('rejects bad input with typed errors', () => {
    expectHeftyError(() => ctx.encrypt([1, Number.NaN]), 'E_NOT_FINITE');
    expectHeftyError(() => ctx.encrypt([]), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => vx.add(ctx.encrypt([1, 2])), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => vx.mul([1, 2, 3]), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => vx.add(Number.POSITIVE_INFINITY), 'E_NOT_FINITE');
    expectHeftyError(() => vx.square().square().square(), 'E_LEVEL_EXHAUSTED');
    expectHeftyError(() => vx.matvec([[1, 2]]), 'E_LENGTH_MISMATCH');
    expectHeftyError(() => ctx.loadVector(new Uint8Array([1, 2, 3, 4])), 'E_BAD_SERIALIZATION');
    const bytes = vx.serialize();
    expectHeftyError(() => ctx.loadVector(bytes.subarray(0, bytes.length - 10)), 'E_BAD_SERIALIZATION');
    const disposed = ctx.encrypt([1]);
    disposed.dispose();
    expectHeftyError(() => disposed.add(1), 'E_DISPOSED');
    // A galois spec that is neither 'power-of-two' nor steps is named as such, before any key is made.
    expectHeftyError(() => ctx.keygen({ galois: 'none' as never }), 'E_INVALID_ARGUMENT');
    expect(() => ctx.keygen({ galois: 'none' as never })).toThrow(/leave it out for no galois keys/);
  });

  it('reports missing galois keys', async () => {
    const noGalois = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend });
    noGalois.keygen();
    expectHeftyError(() => noGalois.encrypt([1, 2]).sum(), 'E_MISSING_GALOIS_KEY');
    const someGalois = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, backend });
    someGalois.keygen({ galois: [1] });
    expectHeftyError(() => someGalois.encrypt([1, 2, 3]).rotate(2), 'E_MISSING_GALOIS_KEY');
    const composed = someGalois.encrypt([1, 2, 3]);
    expect(maxAbsError(composed.rotate(1).decrypt(), [2, 3, 0])).toBeLessThan(TIGHT);
    noGalois.dispose();
    someGalois.dispose();
  });
});
