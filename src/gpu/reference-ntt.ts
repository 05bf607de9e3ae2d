/**
 * BigInt reference of SEAL's negacyclic NTT (spec §5): Cooley–Tukey forward and Gentleman–Sande inverse over
 * SEAL's tables, fully reduced at every step. Slow and obviously correct: the oracle the GPU kernels are tested
 * against. Data is prime-major, row (poly·K + prime) of N coefficients, as everywhere in hefty.
 */
import { HeftyError } from '../errors.ts';
import { nttTables } from './ntt-tables.ts';

export function referenceForwardRow(row: BigUint64Array, q: bigint): void {
  const n = row.length;
  const { rootPowers } = nttTables(n, q);
  const a = Array.from(row);
  let k = 1;
  for (let m = 1, gap = n >> 1; m < n; m <<= 1, gap >>= 1) {
    for (let g = 0; g < m; g++) {
      const w = rootPowers[k++];
      for (let j = 2 * g * gap; j < 2 * g * gap + gap; j++) {
        const x = a[j];
        const wy = (w * a[j + gap]) % q;
        a[j] = (x + wy) % q;
        a[j + gap] = (x - wy + q) % q;
      }
    }
  }
  row.set(a);
}

export function referenceInverseRow(row: BigUint64Array, q: bigint): void {
  const n = row.length;
  const { invRootPowers, nInv } = nttTables(n, q);
  const a = Array.from(row);
  let k = 1;
  for (let m = n >> 1, gap = 1; m > 1; m >>= 1, gap <<= 1) {
    for (let g = 0; g < m; g++) {
      const w = invRootPowers[k++];
      for (let j = 2 * g * gap; j < 2 * g * gap + gap; j++) {
        const x = a[j];
        const y = a[j + gap];
        a[j] = (x + y) % q;
        a[j + gap] = (((x - y + q) % q) * w) % q;
      }
    }
  }
  const half = n >> 1;
  const wScaled = (invRootPowers[k] * nInv) % q;
  for (let j = 0; j < half; j++) {
    const x = a[j];
    const y = a[j + half];
    a[j] = ((x + y) * nInv) % q;
    a[j + half] = (((x - y + q) % q) * wScaled) % q;
  }
  row.set(a);
}

function forEachRow(
  data: BigUint64Array,
  n: number,
  moduli: readonly bigint[],
  transform: (row: BigUint64Array, q: bigint) => void,
): void {
  const rowCount = data.length / n;
  if (!Number.isInteger(rowCount) || rowCount % moduli.length !== 0) {
    throw new HeftyError('E_LENGTH_MISMATCH', `data length ${data.length} is not a multiple of N·K`);
  }
  for (let r = 0; r < rowCount; r++) transform(data.subarray(r * n, (r + 1) * n), moduli[r % moduli.length]);
}

/** In-place forward NTT of every row of a polys × K × N batch. */
export function referenceForward(data: BigUint64Array, n: number, moduli: readonly bigint[]): void {
  forEachRow(data, n, moduli, referenceForwardRow);
}

/** In-place inverse NTT of every row of a polys × K × N batch. */
export function referenceInverse(data: BigUint64Array, n: number, moduli: readonly bigint[]): void {
  forEachRow(data, n, moduli, referenceInverseRow);
}
