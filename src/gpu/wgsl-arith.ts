/**
 * Exact modular arithmetic in WGSL, which has no 64-bit integers and no mul-high. Two word modes share one
 * interface (type `W`, add_mod, sub_mod, shoup_mul, mont_mul) so the NTT kernels are written once:
 *  - 'u32': primes < 2^31, one u32 per coefficient. Shoup for twiddles (⌊w·2^32/q⌋), Montgomery (R = 2^32) for
 *    products of two variables.
 *  - 'u64': primes < 2^62, a coefficient is vec2<u32>(lo, hi). 32×32→64 products are built from 16-bit halves,
 *    128-bit products from four of those; Shoup uses ⌊w·2^64/q⌋, Montgomery R = 2^64.
 * Every function returns a canonical value in [0, q) given canonical inputs, so results are bit-identical to
 * any exact implementation.
 */
export type WordMode = 'u32' | 'u64';

/** Full 32×32→64 product as (lo, hi) from four 16×16 partial products. */
const MUL_WIDE = /* wgsl */ `
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((mid << 16u) | (p00 & 0xffffu), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}
`;

const ARITH_U32 = /* wgsl */ `
alias W = u32;
fn w_zero() -> W { return 0u; }
fn add_mod(a: W, b: W, q: W) -> W { let s = a + b; return select(s, s - q, s >= q); }
fn sub_mod(a: W, b: W, q: W) -> W { return select(a + q - b, a - b, a >= b); }
// y·w mod q with wq = ⌊w·2^32/q⌋: the estimate is off by at most one q (q < 2^31 keeps 2q in range).
fn shoup_mul(y: W, w: W, wq: W, q: W) -> W {
  let r = y * w - mul_wide(y, wq).y * q;
  return select(r, r - q, r >= q);
}
// Montgomery reduction of a·b: returns a·b·2^−32 mod q. qneg = −q^−1 mod 2^32.
fn redc(a: W, b: W, q: W, qneg: W) -> W {
  let t = mul_wide(a, b);
  let mq = mul_wide(t.x * qneg, q);
  // t.x + mq.x ≡ 0 mod 2^32, so it carries exactly when t.x ≠ 0.
  let r = t.y + mq.y + select(0u, 1u, t.x != 0u);
  return select(r, r - q, r >= q);
}
// a·b mod q; r2 = 2^64 mod q undoes both Montgomery factors.
fn mont_mul(a: W, b: W, q: W, qneg: W, r2: W) -> W { return redc(redc(a, b, q, qneg), r2, q, qneg); }
`;

const ARITH_U64 = /* wgsl */ `
alias W = vec2<u32>;
fn w_zero() -> W { return vec2<u32>(0u, 0u); }
fn ge64(a: W, b: W) -> bool { return a.y > b.y || (a.y == b.y && a.x >= b.x); }
fn add64(a: W, b: W) -> W { let lo = a.x + b.x; return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x)); }
fn sub64(a: W, b: W) -> W { return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x)); }
fn add_mod(a: W, b: W, q: W) -> W { let s = add64(a, b); return select(s, sub64(s, q), ge64(s, q)); }
fn sub_mod(a: W, b: W, q: W) -> W { let d = sub64(a, b); return select(add64(d, q), d, ge64(a, b)); }
// Low 64 bits of a·b.
fn mul64_lo(a: W, b: W) -> W {
  let p00 = mul_wide(a.x, b.x);
  return vec2<u32>(p00.x, p00.y + a.x * b.y + a.y * b.x);
}
// Full 128-bit product as (low 64, high 64).
struct U128 { lo: W, hi: W }
fn mul128(a: W, b: W) -> U128 {
  let p00 = mul_wide(a.x, b.x); let p01 = mul_wide(a.x, b.y);
  let p10 = mul_wide(a.y, b.x); let p11 = mul_wide(a.y, b.y);
  var s1 = p00.y + p01.x; var c1 = select(0u, 1u, s1 < p01.x);
  s1 = s1 + p10.x; c1 = c1 + select(0u, 1u, s1 < p10.x);
  var s2 = p01.y + c1; var c2 = select(0u, 1u, s2 < c1);
  s2 = s2 + p10.y; c2 = c2 + select(0u, 1u, s2 < p10.y);
  s2 = s2 + p11.x; c2 = c2 + select(0u, 1u, s2 < p11.x);
  return U128(vec2<u32>(p00.x, s1), vec2<u32>(s2, p11.y + c2));
}
// y·w mod q with wq = ⌊w·2^64/q⌋; y·w − ⌊y·wq/2^64⌋·q lies in [0, 2q) and q < 2^62.
fn shoup_mul(y: W, w: W, wq: W, q: W) -> W {
  let r = sub64(mul64_lo(y, w), mul64_lo(mul128(y, wq).hi, q));
  return select(r, sub64(r, q), ge64(r, q));
}
// Montgomery reduction of a·b: a·b·2^−64 mod q. qneg = −q^−1 mod 2^64.
fn redc(a: W, b: W, q: W, qneg: W) -> W {
  let t = mul128(a, b);
  let mq = mul128(mul64_lo(t.lo, qneg), q);
  // t.lo + mq.lo ≡ 0 mod 2^64, so it carries exactly when t.lo ≠ 0.
  let carry = select(0u, 1u, t.lo.x != 0u || t.lo.y != 0u);
  let r = add64(add64(t.hi, mq.hi), vec2<u32>(carry, 0u));
  return select(r, sub64(r, q), ge64(r, q));
}
// a·b mod q; r2 = 2^128 mod q undoes both Montgomery factors.
fn mont_mul(a: W, b: W, q: W, qneg: W, r2: W) -> W { return redc(redc(a, b, q, qneg), r2, q, qneg); }
`;

export function wgslArithmetic(mode: WordMode): string {
  return MUL_WIDE + (mode === 'u32' ? ARITH_U32 : ARITH_U64);
}

/** Bytes per coefficient on the device. */
export function wordBytes(mode: WordMode): number {
  return mode === 'u32' ? 4 : 8;
}
