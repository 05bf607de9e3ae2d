/**
 * WGSL at the host edges of a batch, so the host only copies bytes: host words are always u64 (lo, hi pairs).
 *  - check (u64 plans): every uploaded word must be below its row's prime.
 *  - narrow (u32 plans): u64 words → the plan's u32 words, with the same check.
 *  - widen (u32 plans): u32 words → u64 pairs for readback.
 * A word that is not reduced leaves the smallest such index in `flag` (atomicMin; 0xffffffff = none), which
 * the next readback reports as E_VALUE_OUT_OF_RANGE.
 *
 * Bindings: 0 shape (n, K, …), 1 the plan's per-prime constants, 2 the input, 3 the output or the flag, 4 the
 * flag (narrow). One workgroup row per data row.
 */
import { kernelPrelude } from './wgsl-kernels.ts';
import type { WordMode } from './wgsl-arith.ts';

export type IoKernel = 'check' | 'narrow' | 'widen';

const HEAD = /* wgsl */ `
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wg.x * WG + lid; if (col >= P.n) { return; }
  let i = wg.y * P.n + col;
`;

const BODIES: Record<IoKernel, string> = {
  check: /* wgsl */ `
@group(0) @binding(2) var<storage, read> words: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> flag: atomic<u32>;
${HEAD}
  if (ge64(words[i], prime_q(wg.y % P.k))) { atomicMin(&flag, i); }
}
`,
  narrow: /* wgsl */ `
@group(0) @binding(2) var<storage, read> words: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> flag: atomic<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
${HEAD}
  let v = words[i];
  if (v.y != 0u || v.x >= prime_q(wg.y % P.k)) { atomicMin(&flag, i); }
  out[i] = v.x;
}
`,
  widen: /* wgsl */ `
@group(0) @binding(2) var<storage, read> words: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec2<u32>>;
${HEAD}
  out[i] = vec2<u32>(words[i], 0u);
}
`,
};

/** The kernels a plan of `mode` uses: check for u64, narrow and widen for u32. */
export function ioKernels(mode: WordMode): IoKernel[] {
  return mode === 'u64' ? ['check'] : ['narrow', 'widen'];
}

export function ioShader(mode: WordMode, kernel: IoKernel): string {
  return kernelPrelude(mode) + BODIES[kernel];
}
