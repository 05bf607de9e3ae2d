/**
 * SEAL's negacyclic NTT tables (spec §5), computed with BigInt: the minimal primitive 2N-th root ψ, the forward
 * table R[brv(i)] = ψ^i and the inverse table Rinv[brv(i−1)+1] = ψ^(−i), plus the constants the GPU kernels need
 * (Shoup quotients for 32- and 64-bit words, Montgomery constants), and a primality test. Shared by the BigInt
 * reference, the GPU plan and the bench.
 */
import { HeftyError } from '../errors.ts';

export function powMod(base: bigint, exp: bigint, q: bigint): bigint {
  let result = 1n;
  let b = base % q;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % q;
    b = (b * b) % q;
    e >>= 1n;
  }
  return result;
}

/** Deterministic Miller–Rabin for n < 3.3·10^24 (the first 13 primes as bases), enough for any RNS prime. */
const BASES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];

export function millerRabin(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of BASES) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (const a of BASES) {
    let x = powMod(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < s; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

export function invMod(a: bigint, q: bigint): bigint {
  let [r0, r1] = [q, ((a % q) + q) % q];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1] = [r1, r0 - quotient * r1];
    [t0, t1] = [t1, t0 - quotient * t1];
  }
  if (r0 !== 1n) throw new HeftyError('E_INVALID_PARAMS', `${a} has no inverse modulo ${q}`);
  return ((t0 % q) + q) % q;
}

export function bitReverse(value: number, bits: number): number {
  let out = 0;
  for (let i = 0; i < bits; i++) out = (out << 1) | ((value >>> i) & 1);
  return out >>> 0;
}

export function log2Exact(n: number): number {
  const bits = Math.log2(n);
  if (!Number.isInteger(bits) || bits < 1 || bits > 17) {
    throw new HeftyError('E_INVALID_ARGUMENT', `NTT size must be a power of two in [2, 2^17], got ${n}`);
  }
  return bits;
}

/** The smallest primitive 2N-th root of unity mod q: the minimum over the odd powers of any such root. */
export function minimalPrimitiveRoot(n: number, q: bigint): bigint {
  const twoN = BigInt(2 * n);
  if ((q - 1n) % twoN !== 0n) {
    throw new HeftyError('E_INVALID_PARAMS', `modulus ${q} is not 1 mod 2N (N=${n}); no negacyclic NTT`);
  }
  const cofactor = (q - 1n) / twoN;
  // For a prime q half of all x give a primitive 2N-th root, so the search ends within a few tries.
  for (let x = 2n; x < q && x < 10_000n; x++) {
    const root = powMod(x, cofactor, q);
    if (powMod(root, BigInt(n), q) !== q - 1n) continue;
    const rootSquared = (root * root) % q;
    let best = root;
    let power = root;
    for (let i = 1; i < n; i++) {
      power = (power * rootSquared) % q;
      if (power < best) best = power;
    }
    return best;
  }
  throw new HeftyError('E_INVALID_PARAMS', `no primitive 2N-th root modulo ${q}`);
}

export interface NttTables {
  readonly n: number;
  readonly q: bigint;
  readonly psi: bigint;
  readonly nInv: bigint;
  /** R[brv(i)] = ψ^i, SEAL's forward order (R[0] = 1). */
  readonly rootPowers: readonly bigint[];
  /** Rinv[brv(i−1)+1] = ψ^(−i), SEAL's inverse order (Rinv[0] = 1). */
  readonly invRootPowers: readonly bigint[];
}

const tableCache = new Map<string, NttTables>();

export function nttTables(n: number, q: bigint): NttTables {
  const key = `${n}:${q}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  const logN = log2Exact(n);
  if (q < 3n || q >= 1n << 62n || !millerRabin(q)) {
    throw new HeftyError('E_INVALID_PARAMS', `modulus must be a prime below 2^62, got ${q}`);
  }
  const psi = minimalPrimitiveRoot(n, q);
  const psiInv = invMod(psi, q);
  const rootPowers = new Array<bigint>(n).fill(0n);
  const invRootPowers = new Array<bigint>(n).fill(0n);
  rootPowers[0] = 1n;
  invRootPowers[0] = 1n;
  let power = 1n;
  let invPower = 1n;
  for (let i = 1; i < n; i++) {
    power = (power * psi) % q;
    invPower = (invPower * psiInv) % q;
    rootPowers[bitReverse(i, logN)] = power;
    invRootPowers[bitReverse(i - 1, logN) + 1] = invPower;
  }
  const tables = { n, q, psi, nInv: invMod(BigInt(n), q), rootPowers, invRootPowers };
  tableCache.set(key, tables);
  return tables;
}

/** Shoup's precomputed quotient ⌊w·2^bits/q⌋ for a fixed multiplicand w < q. */
export function shoupQuotient(w: bigint, q: bigint, bits: 32 | 64): bigint {
  return (w << BigInt(bits)) / q;
}

/** −q^(−1) mod 2^bits, for Montgomery reduction with R = 2^bits. */
export function montgomeryNegInverse(q: bigint, bits: 32 | 64): bigint {
  const r = 1n << BigInt(bits);
  return (r - invMod(q, r)) % r;
}
