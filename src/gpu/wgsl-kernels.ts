/**
 * WGSL for the batched negacyclic NTT (SEAL's algorithm and tables, spec §5) and the pointwise NTT-domain ops.
 *
 * Device data layout (shared with the host, see ntt.ts):
 *  - data: rows × N words, row = poly·K + prime (prime-major, as in hefty's u64 arrays).
 *  - consts: 8 words per prime: q, −q^−1 mod 2^w, 2^(2w) mod q, N^−1, its Shoup quotient, Rinv[N−1]·N^−1, its
 *    Shoup quotient, unused.
 *  - twiddles: 4N words per prime: R, Shoup(R), Rinv, Shoup(Rinv).
 * Stages whose butterflies span more than a tile run over global memory, two stages per dispatch (radix-4: each
 * thread owns the 4 coefficients the two stages mix), one when a single stage is left; the remaining stages
 * (forward: the last log2(TILE); inverse: the first) run fused in workgroup memory, one tile per workgroup.
 */
import { wgslArithmetic, wordBytes, type WordMode } from './wgsl-arith.ts';

export const WORKGROUP_SIZE = 256;
/** Workgroup storage per tile: 16 KiB, WebGPU's default limit (2048 u64 or 4096 u32 coefficients). */
const TILE_BYTES = 16384;

export function tileSize(n: number, mode: WordMode): number {
  return Math.min(n, TILE_BYTES / wordBytes(mode));
}

/** Test-only kernel bugs: a wrong butterfly, and a carry lost in the 64-bit product (wrong only sometimes). */
export type NttMutation = 'none' | 'forward-butterfly' | 'drop-carry';
const DROPPABLE_CARRY = 'c1 = c1 + select(0u, 1u, s1 < p10.x);';

/** The word arithmetic, with the carry bug injected for 'drop-carry' (it breaks every 64-bit product). */
function arithmetic(mode: WordMode, mutation: NttMutation): string {
  const source = wgslArithmetic(mode);
  if (mutation !== 'drop-carry') return source;
  if (mode !== 'u64' || !source.includes(DROPPABLE_CARRY)) throw new Error('drop-carry needs the u64 kernels');
  return source.replace(DROPPABLE_CARRY, '');
}

/** Arithmetic plus the uniform and per-prime constant bindings every kernel module starts with. */
export function kernelPrelude(mode: WordMode, mutation: NttMutation = 'none'): string {
  return arithmetic(mode, mutation) + COMMON;
}

const COMMON = /* wgsl */ `
struct Params { n: u32, k: u32, m: u32, m_end: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> consts: array<W>;
const WG: u32 = ${WORKGROUP_SIZE}u;
fn prime_q(prime: u32) -> W { return consts[prime * 8u]; }
`;

/**
 * One module, four entry points. `mutation` injects a deliberate bug for the mutation test: the same tests that
 * prove the real kernel exact must catch it.
 */
export function nttShader(mode: WordMode, n: number, mutation: NttMutation = 'none'): string {
  const tile = tileSize(n, mode);
  const forwardSub = mutation === 'forward-butterfly' ? 'add_mod(x, y, q)' : 'sub_mod(x, y, q)';
  return (
    arithmetic(mode, mutation) +
    COMMON +
    /* wgsl */ `
@group(0) @binding(2) var<storage, read> twiddles: array<W>;
@group(0) @binding(3) var<storage, read_write> data: array<W>;
const TILE: u32 = ${tile}u;
var<workgroup> tile: array<W, ${tile}>;

// Forward (Cooley–Tukey) butterfly of stage m on the pair (j, j + gap) of some buffer; w = R[m + g].
fn fwd_pair(x: W, yv: W, tw: u32, wi: u32, q: W) -> array<W, 2> {
  let y = shoup_mul(yv, twiddles[tw + wi], twiddles[tw + P.n + wi], q);
  return array<W, 2>(add_mod(x, y, q), ${forwardSub});
}

// Inverse (Gentleman–Sande) butterfly of stage m; the m = 1 stage folds in N^−1 as SEAL does.
fn inv_pair(x: W, y: W, tw: u32, m: u32, g: u32, prime: u32, q: W) -> array<W, 2> {
  let d = sub_mod(x, y, q);
  if (m == 1u) {
    let c = prime * 8u;
    return array<W, 2>(shoup_mul(add_mod(x, y, q), consts[c + 3u], consts[c + 4u], q),
                       shoup_mul(d, consts[c + 5u], consts[c + 6u], q));
  }
  let wi = P.n - 2u * m + 1u + g;
  return array<W, 2>(add_mod(x, y, q), shoup_mul(d, twiddles[tw + 2u * P.n + wi], twiddles[tw + 3u * P.n + wi], q));
}

// One global-memory stage: P.m groups of 2·gap; one thread per butterfly, workgroup row y = data row.
@compute @workgroup_size(WG)
fn fwd_global(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x * WG + lid;
  if (t >= P.n / 2u) { return; }
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime);
  let log_gap = countTrailingZeros(P.n / (2u * P.m));
  let g = t >> log_gap;
  let j = row * P.n + (g << (log_gap + 1u)) + (t & ((1u << log_gap) - 1u));
  let gap = 1u << log_gap;
  let r = fwd_pair(data[j], data[j + gap], prime * 4u * P.n, P.m + g, q);
  data[j] = r[0]; data[j + gap] = r[1];
}

@compute @workgroup_size(WG)
fn inv_global(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x * WG + lid;
  if (t >= P.n / 2u) { return; }
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime);
  let log_gap = countTrailingZeros(P.n / (2u * P.m));
  let g = t >> log_gap;
  let j = row * P.n + (g << (log_gap + 1u)) + (t & ((1u << log_gap) - 1u));
  let gap = 1u << log_gap;
  let r = inv_pair(data[j], data[j + gap], prime * 4u * P.n, P.m, g, prime, q);
  data[j] = r[0]; data[j + gap] = r[1];
}

// Global stages m and 2m in one pass: 4 coefficients j0 + {0, g/2, g, 3g/2} with g = N/(2m).
@compute @workgroup_size(WG)
fn fwd_global4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x * WG + lid;
  if (t >= P.n / 4u) { return; }
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime); let tw = prime * 4u * P.n;
  let log_half = countTrailingZeros(P.n / (4u * P.m)); // log2(g/2)
  let grp = t >> log_half;
  let h = 1u << log_half;
  let j = row * P.n + (grp << (log_half + 2u)) + (t & (h - 1u));
  let a = fwd_pair(data[j], data[j + 2u * h], tw, P.m + grp, q);
  let b = fwd_pair(data[j + h], data[j + 3u * h], tw, P.m + grp, q);
  let c = fwd_pair(a[0], b[0], tw, 2u * P.m + 2u * grp, q);
  let d = fwd_pair(a[1], b[1], tw, 2u * P.m + 2u * grp + 1u, q);
  data[j] = c[0]; data[j + h] = c[1]; data[j + 2u * h] = d[0]; data[j + 3u * h] = d[1];
}

// Global stages m and m/2 in one pass: 4 coefficients j0 + {0, h, 2h, 3h} with h = N/(2m).
@compute @workgroup_size(WG)
fn inv_global4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x * WG + lid;
  if (t >= P.n / 4u) { return; }
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime); let tw = prime * 4u * P.n;
  let log_h = countTrailingZeros(P.n / (2u * P.m));
  let grp = t >> log_h;
  let h = 1u << log_h;
  let j = row * P.n + (grp << (log_h + 2u)) + (t & (h - 1u));
  let a = inv_pair(data[j], data[j + h], tw, P.m, 2u * grp, prime, q);
  let b = inv_pair(data[j + 2u * h], data[j + 3u * h], tw, P.m, 2u * grp + 1u, prime, q);
  let c = inv_pair(a[0], b[0], tw, P.m / 2u, grp, prime, q);
  let d = inv_pair(a[1], b[1], tw, P.m / 2u, grp, prime, q);
  data[j] = c[0]; data[j + 2u * h] = c[1]; data[j + h] = d[0]; data[j + 3u * h] = d[1];
}

// Forward stages m = P.m … N/2 (gap TILE/2 … 1) on one tile in workgroup memory, two stages per barrier
// (radix-4, as in fwd_global4) and a last single stage when log2(TILE) is odd.
@compute @workgroup_size(WG)
fn fwd_tile(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime);
  let base = row * P.n + wg.x * TILE;
  let tw = prime * 4u * P.n;
  for (var i = lid; i < TILE; i += WG) { tile[i] = data[base + i]; }
  workgroupBarrier();
  var m = P.m;
  var log_gap = countTrailingZeros(TILE) - 1u;
  var left = countTrailingZeros(TILE);
  while (left > 0u) {
    if (left >= 2u) {
      let log_half = log_gap - 1u; let h = 1u << log_half;
      let first_group = (wg.x * TILE) >> (log_gap + 1u);
      for (var t = lid; t < TILE / 4u; t += WG) {
        let grp = t >> log_half;
        let j = (grp << (log_half + 2u)) + (t & (h - 1u));
        let g = first_group + grp;
        let a = fwd_pair(tile[j], tile[j + 2u * h], tw, m + g, q);
        let b = fwd_pair(tile[j + h], tile[j + 3u * h], tw, m + g, q);
        let c = fwd_pair(a[0], b[0], tw, 2u * m + 2u * g, q);
        let d = fwd_pair(a[1], b[1], tw, 2u * m + 2u * g + 1u, q);
        tile[j] = c[0]; tile[j + h] = c[1]; tile[j + 2u * h] = d[0]; tile[j + 3u * h] = d[1];
      }
      m = m * 4u; left = left - 2u;
      if (left > 0u) { log_gap = log_gap - 2u; }
    } else {
      let first_group = (wg.x * TILE) >> (log_gap + 1u);
      for (var t = lid; t < TILE / 2u; t += WG) {
        let g = t >> log_gap;
        let j = (g << (log_gap + 1u)) + (t & ((1u << log_gap) - 1u));
        let r = fwd_pair(tile[j], tile[j + (1u << log_gap)], tw, m + first_group + g, q);
        tile[j] = r[0]; tile[j + (1u << log_gap)] = r[1];
      }
      m = m * 2u; left = left - 1u;
    }
    workgroupBarrier();
  }
  for (var i = lid; i < TILE; i += WG) { data[base + i] = tile[i]; }
}

// Inverse stages m = N/2 … P.m_end (gap 1 … TILE/2) on one tile in workgroup memory, two stages per barrier
// (as in inv_global4) and a last single stage when their count is odd.
@compute @workgroup_size(WG)
fn inv_tile(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.y; let prime = row % P.k; let q = prime_q(prime);
  let base = row * P.n + wg.x * TILE;
  let tw = prime * 4u * P.n;
  for (var i = lid; i < TILE; i += WG) { tile[i] = data[base + i]; }
  workgroupBarrier();
  var m = P.n / 2u;
  var log_gap = 0u;
  var left = countTrailingZeros(P.n / P.m_end);
  while (left > 0u) {
    if (left >= 2u) {
      let h = 1u << log_gap;
      let first_group = (wg.x * TILE) >> (log_gap + 2u); // groups of stage m/2 before this tile
      for (var t = lid; t < TILE / 4u; t += WG) {
        let grp = t >> log_gap;
        let j = (grp << (log_gap + 2u)) + (t & (h - 1u));
        let g = first_group + grp;
        let a = inv_pair(tile[j], tile[j + h], tw, m, 2u * g, prime, q);
        let b = inv_pair(tile[j + 2u * h], tile[j + 3u * h], tw, m, 2u * g + 1u, prime, q);
        let c = inv_pair(a[0], b[0], tw, m / 2u, g, prime, q);
        let d = inv_pair(a[1], b[1], tw, m / 2u, g, prime, q);
        tile[j] = c[0]; tile[j + 2u * h] = c[1]; tile[j + h] = d[0]; tile[j + 3u * h] = d[1];
      }
      m = m / 4u; log_gap = log_gap + 2u; left = left - 2u;
    } else {
      let first_group = (wg.x * TILE) >> (log_gap + 1u);
      for (var t = lid; t < TILE / 2u; t += WG) {
        let g = t >> log_gap;
        let j = (g << (log_gap + 1u)) + (t & ((1u << log_gap) - 1u));
        let r = inv_pair(tile[j], tile[j + (1u << log_gap)], tw, m, first_group + g, prime, q);
        tile[j] = r[0]; tile[j + (1u << log_gap)] = r[1];
      }
      m = m / 2u; log_gap = log_gap + 1u; left = left - 1u;
    }
    workgroupBarrier();
  }
  for (var i = lid; i < TILE; i += WG) { data[base + i] = tile[i]; }
}
`
  );
}

export type PointwiseOp = 'add' | 'sub' | 'mul' | 'mac';

/** Elementwise ops over rows × N; `out` is written (mac reads it too), a and b are only read. */
export function pointwiseShader(mode: WordMode, mutation: NttMutation = 'none'): string {
  return (
    arithmetic(mode, mutation) +
    COMMON +
    /* wgsl */ `
@group(0) @binding(2) var<storage, read> a: array<W>;
@group(0) @binding(3) var<storage, read> b: array<W>;
@group(0) @binding(4) var<storage, read_write> out: array<W>;

fn product(i: u32, prime: u32, q: W) -> W {
  return mont_mul(a[i], b[i], q, consts[prime * 8u + 1u], consts[prime * 8u + 2u]);
}

@compute @workgroup_size(WG)
fn pw_add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y * P.n + col; let q = prime_q(wg.y % P.k);
  out[i] = add_mod(a[i], b[i], q);
}
@compute @workgroup_size(WG)
fn pw_sub(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y * P.n + col; let q = prime_q(wg.y % P.k);
  out[i] = sub_mod(a[i], b[i], q);
}
@compute @workgroup_size(WG)
fn pw_mul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y * P.n + col; let prime = wg.y % P.k; let q = prime_q(prime);
  out[i] = product(i, prime, q);
}
@compute @workgroup_size(WG)
fn pw_mac(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y * P.n + col; let prime = wg.y % P.k; let q = prime_q(prime);
  out[i] = add_mod(out[i], product(i, prime, q), q);
}

// Key-switching inner product: out poly (input·C + c) = Σ_j a poly (input·D + j) ⊙ b poly (j·C + c), with
// D = P.m digits and C = P.m_end outputs per input (the keys b are shared by every input). One Montgomery
// reduction per term, one more at the end (not two per term as in mac).
@compute @workgroup_size(WG)
fn inner_product(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let prime = wg.y % P.k; let c = (wg.y / P.k) % P.m_end; let input = wg.y / (P.k * P.m_end);
  let q = prime_q(prime); let qneg = consts[prime * 8u + 1u];
  var acc = w_zero();
  for (var j = 0u; j < P.m; j = j + 1u) {
    let ai = ((input * P.m + j) * P.k + prime) * P.n + col;
    let bi = ((j * P.m_end + c) * P.k + prime) * P.n + col;
    acc = add_mod(acc, redc(a[ai], b[bi], q, qneg), q);
  }
  out[wg.y * P.n + col] = redc(acc, consts[prime * 8u + 2u], q, qneg);
}
`
  );
}
