/**
 * The CKKS speed targets the benchmarks print beside their ratios (node-seal time / native time), shared by
 * bench/native-ops.ts and the backend-op table of `npm run bench`.
 */
/** The speed targets (node-seal time / native time), single-threaded and with 2 intra-op threads. */
export const TARGETS: Record<string, { single: number; twoThreads?: number }> = {
  relinearize: { single: 3, twoThreads: 5 },
  rotate: { single: 3, twoThreads: 5 },
  rescale: { single: 3 },
  multiply: { single: 4 },
  multiply_plain: { single: 4 },
};

/**
 * Issue 17: the speed-up over node-seal that SEAL 4.1.2 with Intel HEXL (AVX-512 IFMA) reaches on the same op,
 * measured on this machine class; native (1 thread) should reach it. Relinearize and rotate: 1.5× HEXL's.
 * SEAL's serialize wrote into a buffer it reused; `serialize` (a fresh buffer per call, what save() returns) and
 * `serialize_into` (the caller's buffer, reused) both carry its target.
 */
export const HEXL_TARGETS: Record<number, Record<string, number>> = {
  8192: {
    encode: 4,
    encrypt: 3.8,
    decrypt: 9,
    multiply_plain: 14,
    add: 2.7,
    serialize: 3.4,
    serialize_into: 3.4,
    keygen: 1.8,
    relinearize: 6.5,
    rotate: 7.5,
  },
  16384: {
    encode: 4.5,
    encrypt: 4.5,
    decrypt: 10,
    multiply_plain: 16,
    add: 2.1,
    serialize: 4.2,
    serialize_into: 4.2,
    keygen: 2,
    relinearize: 8.5,
    rotate: 5.5,
  },
};
