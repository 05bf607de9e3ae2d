/**
 * WGSL for the elementwise steps of SEAL's key switching (spec §8.3) that sit between the NTTs and the inner
 * product, on the extended basis E = (q_0 … q_{L−1}, P) of one level: K = L + 1 rows per polynomial, row L
 * being the special prime P. Every value is canonical, so results are bit-identical to the CPU engine's.
 *
 * Bindings: 0 shape (n, K, L, flag), 1 the plan's per-prime constants (q, −q^−1, 2^(2w) mod q, …), 2 the
 * key-switching constants per prime i of E (⌊P/2⌋ mod q_i, P^−1 mod q_i), then the data buffers.
 */
import { kernelPrelude } from './wgsl-kernels.ts';
import type { WordMode } from './wgsl-arith.ts';

export type KeySwitchKernel = 'expand' | 'delta' | 'combine';
/**
 * Test-only: 'floor-division' drops the ⌊P/2⌋ shift, so the division by P floors instead of rounding. Results
 * still decrypt (the error grows by at most 1 per coefficient) but differ from SEAL's bytes: the tests must
 * catch it.
 */
export type KeySwitchMutation = 'none' | 'floor-division';

function prelude(mode: WordMode): string {
  const one = mode === 'u32' ? '1u' : 'vec2<u32>(1u, 0u)';
  return (
    kernelPrelude(mode) +
    /* wgsl */ `
@group(0) @binding(2) var<storage, read> ks: array<W>;
// v mod q_p for any word v: a Montgomery product with 1 (v·1 < q·2^w keeps redc exact).
fn reduce_to(v: W, p: u32) -> W {
  return mont_mul(v, ${one}, prime_q(p), consts[p * 8u + 1u], consts[p * 8u + 2u]);
}
`
  );
}

const BODIES: Record<KeySwitchKernel, string> = {
  // Digits → every modulus: dst poly (b·L + j), row p = src poly b, row j (coefficient form) reduced mod E_p.
  expand: /* wgsl */ `
@group(0) @binding(3) var<storage, read> src: array<W>;
@group(0) @binding(4) var<storage, read_write> dst: array<W>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let p = wg.y % P.k; let j = (wg.y / P.k) % P.m; let b = wg.y / (P.k * P.m);
  dst[wg.y * P.n + col] = reduce_to(src[(b * P.k + j) * P.n + col], p);
}
`,
  // Per polynomial, in place: row L holds v = INTT_P(acc_P); rows i < L get δ = ((v + ⌊P/2⌋) mod P mod q_i) − ⌊P/2⌋.
  delta: /* wgsl */ `
@group(0) @binding(3) var<storage, read_write> v: array<W>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let base = wg.y * P.k * P.n + col;
  let shifted = add_mod(v[base + P.m * P.n], ks[2u * P.m], prime_q(P.m));
  for (var i = 0u; i < P.m; i = i + 1u) {
    v[base + i * P.n] = sub_mod(reduce_to(shifted, i), ks[2u * i], prime_q(i));
  }
}
`,
  // c[i] (+)= (acc[i] − NTT(δ)[i]) · P^−1 for rows i < L; with flag 1 the second polynomial of each pair is
  // replaced instead of accumulated (apply_galois overwrites c1).
  combine: /* wgsl */ `
@group(0) @binding(3) var<storage, read> acc: array<W>;
@group(0) @binding(4) var<storage, read> delta: array<W>;
@group(0) @binding(5) var<storage, read_write> c: array<W>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y % P.k; if (i == P.m) { return; }
  let q = prime_q(i); let at = wg.y * P.n + col;
  let r = mont_mul(sub_mod(acc[at], delta[at], q), ks[2u * i + 1u], q, consts[i * 8u + 1u], consts[i * 8u + 2u]);
  let replace = P.m_end == 1u && ((wg.y / P.k) % 2u) == 1u;
  c[at] = select(add_mod(c[at], r, q), r, replace);
}
`,
};

export function keySwitchShader(mode: WordMode, kernel: KeySwitchKernel, mutation: KeySwitchMutation = 'none'): string {
  const body = BODIES[kernel];
  if (mutation === 'none' || kernel !== 'delta') return prelude(mode) + body;
  const floored = body
    .replace('add_mod(v[base + P.m * P.n], ks[2u * P.m], prime_q(P.m))', 'v[base + P.m * P.n]')
    .replace('sub_mod(reduce_to(shifted, i), ks[2u * i], prime_q(i))', 'reduce_to(shifted, i)');
  if (floored === body) throw new Error('floor-division mutation no longer applies');
  return prelude(mode) + floored;
}
