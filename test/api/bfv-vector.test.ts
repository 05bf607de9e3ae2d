/** BFVVector: exact integer arithmetic, checked value for value. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type BFVVector, type IntegerContext } from '../../src/index.ts';
import { expectHeftyError } from '../helpers.ts';

describe('BFVVector (N=4096, t: 20-bit batching prime)', () => {
  let ctx: IntegerContext;
  const a = Array.from({ length: 300 }, (_, i) => ((i * 37) % 101) - 50);
  const b = Array.from({ length: 300 }, (_, i) => ((i * 11) % 23) - 11);
  let va: BFVVector;
  let vb: BFVVector;
  const big = (values: number[]) => BigInt64Array.from(values.map(BigInt));

  beforeAll(async () => {
    ctx = await createContext({ scheme: 'bfv', polyModulusDegree: 4096 });
    ctx.keygen({ galois: 'power-of-two' });
    va = ctx.encrypt(a);
    vb = ctx.encrypt(b);
  });
  afterAll(() => ctx.dispose());

  it('adds, subtracts, negates and multiplies exactly', () => {
    expect(va.add(vb).decrypt()).toEqual(big(a.map((v, i) => v + b[i])));
    expect(va.sub(b).decrypt()).toEqual(big(a.map((v, i) => v - b[i])));
    expect(va.add(7).decrypt()).toEqual(big(a.map((v) => v + 7)));
    expect(va.negate().decrypt()).toEqual(big(a.map((v) => -v)));
    expect(va.mul(vb).decrypt()).toEqual(big(a.map((v, i) => v * b[i])));
    expect(va.mul(b).decrypt()).toEqual(big(a.map((v, i) => v * b[i])));
    expect(va.mul(-3).decrypt()).toEqual(big(a.map((v) => v * -3)));
    expect(va.mul(va).decrypt()).toEqual(big(a.map((v) => v * v)));
  });

  it('sums and takes dot products exactly, across both batching rows and chunks', () => {
    expect(va.sum().decrypt()).toEqual(big([a.reduce((s, v) => s + v, 0)]));
    expect(va.dot(vb).decrypt()).toEqual(big([a.reduce((s, v, i) => s + v * b[i], 0)]));
    const long = Array.from({ length: 9000 }, (_, i) => (i % 7) - 3);
    const v = ctx.encrypt(long);
    expect(v.sum().decrypt()).toEqual(big([long.reduce((s, x) => s + x, 0)]));
    expect(v.dot(long).decrypt()).toEqual(big([long.reduce((s, x) => s + x * x, 0)]));
    expect(va.noiseBudget()).toBeGreaterThan(10);
  });

  it('rotates batching rows (any step, composed from power-of-two keys) and swaps them', () => {
    const rowSize = ctx.slotCount / 2;
    const slots = (values: number[]): bigint[] => {
      const out = new Array<bigint>(ctx.slotCount).fill(0n);
      values.forEach((v, i) => (out[i] = BigInt(v)));
      return out;
    };
    const padded = slots(a);
    const rowRotated = (steps: number): bigint[] =>
      padded.map((_, i) => {
        const row = i < rowSize ? 0 : rowSize;
        return padded[row + ((((i - row + steps) % rowSize) + rowSize) % rowSize)];
      });
    for (const steps of [1, 3, -5, 100, rowSize - 1]) {
      expect(Array.from(va.rotateRows(steps).decrypt()), `steps ${steps}`).toEqual(
        rowRotated(steps).slice(0, a.length),
      );
    }
    const wide = Array.from({ length: ctx.slotCount }, (_, i) => (i % 11) - 5);
    const swapped = ctx.encrypt(wide).rotateColumns().decrypt();
    expect(Array.from(swapped)).toEqual(wide.map((_, i) => BigInt(wide[(i + rowSize) % ctx.slotCount])));
  });

  it('round-trips through bytes and rejects bad input', () => {
    expect(ctx.loadVector(va.serialize()).decrypt()).toEqual(big(a));
    expectHeftyError(() => ctx.encrypt([1.5]), 'E_INVALID_ARGUMENT');
    expectHeftyError(() => ctx.encrypt([Number.NaN]), 'E_NOT_FINITE');
    expectHeftyError(() => ctx.encrypt([2 ** 40]), 'E_VALUE_OUT_OF_RANGE');
    expectHeftyError(() => va.add(vb.sum()), 'E_LENGTH_MISMATCH');
  });
});
