/**
 * The native engine's negacyclic NTT (spec §5, SEAL's tables and butterflies) on caller-owned words, for
 * benchmarks and checks against the spec vectors: one table set per (N, primes), transforms in place.
 */
import { HeftyError } from '../errors.ts';
import { call } from './native-call.ts';

type Handle = object;

export interface NttAddon {
  nttForward(ntt: Handle, prime: number, words: BigUint64Array): void;
  nttInverse(ntt: Handle, prime: number, words: BigUint64Array): void;
  nttTables(ntt: Handle, prime: number): { rootPowers: BigUint64Array; invRootPowers: BigUint64Array; nInv: bigint };
  ckksDispose(handle: Handle): void;
}

export interface NttTables {
  /** ψ: the minimal primitive 2N-th root of unity (= rootPowers[N/2]). */
  readonly psi: bigint;
  /** SEAL's R[i] = ψ^brv(i) table and Rinv (spec §5), N entries each. */
  readonly rootPowers: BigUint64Array;
  readonly invRootPowers: BigUint64Array;
  readonly nInv: bigint;
}

export class NativeNtt {
  readonly polyModulusDegree: number;
  readonly #addon: NttAddon;
  #handle: Handle | null;

  constructor(addon: NttAddon, handle: Handle, polyModulusDegree: number) {
    this.#addon = addon;
    this.#handle = handle;
    this.polyModulusDegree = polyModulusDegree;
  }

  get #h(): Handle {
    if (this.#handle === null) throw new HeftyError('E_DISPOSED', 'NTT tables were disposed');
    return this.#handle;
  }

  /** In place: N canonical residues modulo prime `prime` (an index into the primes) → NTT (bit-reversed order). */
  forward(prime: number, words: BigUint64Array): void {
    call(() => this.#addon.nttForward(this.#h, prime, words));
  }

  /** In place: the exact inverse of forward(), back to natural coefficient order. */
  inverse(prime: number, words: BigUint64Array): void {
    call(() => this.#addon.nttInverse(this.#h, prime, words));
  }

  tables(prime: number): NttTables {
    const t = call(() => this.#addon.nttTables(this.#h, prime));
    return { ...t, psi: t.rootPowers[this.polyModulusDegree / 2] };
  }

  dispose(): void {
    if (this.#handle === null) return;
    this.#addon.ckksDispose(this.#handle);
    this.#handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
