/**
 * The Li–Micciancio key-recovery attack on CKKS (Eurocrypt 2021), for tests: from two ciphertexts and their
 * shared decryptions (real slot values), recover the secret key by linear algebra.
 *
 * A decryption is m' = c0 + c1·s (+ nothing else: CKKS leaves the noise in). Only the real parts of its slots
 * are released, which re-encode (exactly, when nothing was added or rounded away) to m' + τ(m'), where
 * τ: X ↦ X⁻¹ is complex conjugation of the slots. In the NTT domain τ swaps evaluation points ζ and ζ⁻¹ (slot
 * i and slot N−1−i in SEAL's bit-reversed order), so each decryption gives, for each such pair and each prime,
 *   E_i = c1_i·s_i + c1_j·s_j   with E_i = M_i − c0_i − c0_j,  M = NTT(encode(2·z)),  j = N−1−i,
 * and two decryptions give a 2×2 system per pair: s follows in the NTT domain, prime by prime.
 */
import type { HeftyContext } from '../../src/api/context.ts';

/** Words of a SEAL object: ciphertexts start at byte 113, plaintexts and secret keys at byte 88. */
function words(bytes: Uint8Array, offset: number, count: number): BigUint64Array {
  const copy = bytes.slice(offset, offset + 8 * count);
  return new BigUint64Array(copy.buffer, 0, count);
}

function modInverse(a: bigint, q: bigint): bigint {
  let [r0, r1, t0, t1] = [q, ((a % q) + q) % q, 0n, 1n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [t0, t1] = [t1, t0 - k * t1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((t0 % q) + q) % q;
}

export interface Observation {
  /** Bare SEAL ciphertext bytes (size 2, NTT form, uncompressed), as a server sees them. */
  ciphertext: Uint8Array;
  /** The decrypted slot values the client shared. */
  decrypted: Float64Array;
}

/**
 * Returns the candidate secret key in the NTT domain for the ciphertexts' primes (prime-major, N words each).
 * Uses only public information: the ciphertexts, the shared values, the parameters and the encoder.
 */
export function recoverSecretKey(ctx: HeftyContext, [a, b]: [Observation, Observation]): BigUint64Array {
  const n = ctx.params.polyModulusDegree;
  const level = ctx.session.ctx.levels.find((l) => l.parmsId === ctx.session.ctx.firstParmsId)!;
  const primes = level.primes.map(BigInt);
  const L = primes.length;
  const scale = ctx.session.scale;
  const observed = [a, b].map(({ ciphertext, decrypted }) => {
    const c = words(ciphertext, 113, 2 * n * L);
    const doubled = Float64Array.from(decrypted, (v) => 2 * v);
    const plain = ctx.session.ckksEncoder.encode(doubled, scale);
    try {
      return { c, m: words(plain.save('none'), 88, n * L) };
    } finally {
      plain.dispose();
    }
  });
  const s = new BigUint64Array(n * L);
  for (let p = 0; p < L; p++) {
    const q = primes[p];
    const c0 = (o: (typeof observed)[number], i: number): bigint => o.c[p * n + i];
    const c1 = (o: (typeof observed)[number], i: number): bigint => o.c[(L + p) * n + i];
    for (let i = 0; i < n / 2; i++) {
      const j = n - 1 - i;
      const [x, y] = observed;
      const e1 = (((x.m[p * n + i] - c0(x, i) - c0(x, j)) % q) + 2n * q) % q;
      const e2 = (((y.m[p * n + i] - c0(y, i) - c0(y, j)) % q) + 2n * q) % q;
      const det = (((c1(x, i) * c1(y, j) - c1(x, j) * c1(y, i)) % q) + q) % q;
      const inv = modInverse(det, q);
      s[p * n + i] = (((((e1 * c1(y, j) - e2 * c1(x, j)) % q) + q) % q) * inv) % q;
      s[p * n + j] = (((((c1(x, i) * e2 - c1(y, i) * e1) % q) + q) % q) * inv) % q;
    }
  }
  return s;
}

/** The true secret key's NTT words for the first `primes` primes (from the key-level secret key bytes). */
export function secretKeyWords(ctx: HeftyContext, primes: number): BigUint64Array {
  const n = ctx.params.polyModulusDegree;
  return words(ctx.exportSecretKey(), 88, n * primes);
}
