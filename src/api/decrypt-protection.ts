/**
 * Protection of CKKS decryptions that leave the client. A raw CKKS decryption is c0 + c1·s with its noise
 * still in it, and from a few shared decryptions and their ciphertexts the secret key follows by linear
 * algebra (Li–Micciancio, Eurocrypt 2021; test/api/li-micciancio.ts runs it). Two protections:
 *
 * - 'flooded' (what OpenFHE's NOISE_FLOODING_DECRYPT does): Gaussian noise, from a cryptographic RNG, is added
 *   to every released slot with σ = 2^(noiseBits + 1 + κ/2), where noiseBits is log2 of the L2 norm of the
 *   decryption noise over the released slots. For any two noise vectors within that bound the released
 *   distributions are then within order-2 Rényi divergence α‖e − e'‖²/(2σ²) ≤ 2^-κ (in nats) per release:
 *   κ is the statistical security parameter (default 30, as in OpenFHE). Flooding costs about κ/2 + 1 bits
 *   of precision above the noise, so share from contexts with a large scale (2^50 at N ≥ 8192 keeps ~20 bits),
 *   and pass a measured noiseBits (estimateNoiseBits, on a run of the same program with known inputs, as
 *   OpenFHE's noise-estimation mode does) rather than the conservative default.
 * - 'rounded' (what Lattigo does): each value is rounded to a multiple of 2^-precisionBits, by default at the
 *   noise bound, so the low bits that carry the noise are not released. Cheaper on precision, but with no
 *   proof: the attack above fails, cleverer ones are not ruled out.
 *
 * The default noise bound per slot is 2^(log2 N + 10) / scale. It covers a few key switches and rescales (a
 * 64-element dot product at N = 8192, scale 2^40, measures 2^-19 against the bound's 2^-17; a fresh encryption
 * 2^-28); deeper programs must pass their measured noiseBits.
 *
 * decrypt() defaults to 'rounded': decrypted results get shared (a scoring service's outputs are its clients'
 * answers to act on), and a default that is safe to share is the one that gets used. At the default scale 2^40
 * it keeps 17 fractional bits at N = 8192 (18 at 4096), the precision of a result after a few operations
 * anyway; 'raw' is the exact decoding, asked for by name where nothing is released (measuring noise, tests of
 * the engine's precision, comparisons with node-seal).
 */
import { randomFillSync } from 'node:crypto';
import { HeftyError } from '../errors.ts';

export type DecryptProtection = 'raw' | 'flooded' | 'rounded';

export interface DecryptOptions {
  /** 'rounded' (default), 'flooded' (provable, costs precision), or 'raw': the exact decoding, never to be shared. */
  protection?: DecryptProtection;
  /** κ for 'flooded' (default 30). */
  statisticalSecurity?: number;
  /** log2 of the L2 norm of the decryption noise over the released slots (estimateNoiseBits). */
  noiseBits?: number;
  /** For 'rounded': values are rounded to multiples of 2^-precisionBits (default: at the noise bound). */
  precisionBits?: number;
}

export const DEFAULT_PROTECTION: DecryptProtection = 'rounded';
export const DEFAULT_STATISTICAL_SECURITY = 30;
/** Bits of noise growth, over a fresh encryption's, that the default bound allows. */
const DEFAULT_NOISE_HEADROOM_BITS = 10;

/** What the protection needs to know about the ciphertext. */
export interface DecryptShape {
  polyModulusDegree: number;
  scale: number;
}

/** Conservative log2 bound on one slot's decryption noise. */
export function defaultSlotNoiseBits(shape: DecryptShape): number {
  return Math.log2(shape.polyModulusDegree) + DEFAULT_NOISE_HEADROOM_BITS - Math.log2(shape.scale);
}

/** log2 of the L2 norm of (decrypted − expected): the noise of a run whose true result is known. */
export function estimateNoiseBits(decrypted: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (decrypted.length !== expected.length || decrypted.length === 0)
    throw new HeftyError('E_LENGTH_MISMATCH', 'noise estimation needs decrypted and expected values of one length');
  let sum = 0;
  for (let i = 0; i < decrypted.length; i++) sum += (decrypted[i] - expected[i]) ** 2;
  // A run that came out exact (all zeros) still has noise below the float resolution of its values.
  return Math.log2(Math.max(Math.sqrt(sum), Number.EPSILON));
}

/** Standard normal samples from the cryptographic RNG (Box–Muller over 53-bit uniforms in (0, 1)). */
function gaussians(count: number): Float64Array {
  const out = new Float64Array(count);
  const words = new Uint32Array(4 * Math.ceil(count / 2));
  randomFillSync(words);
  const uniform = (k: number): number => ((words[k] >>> 5) * 67108864 + (words[k + 1] >>> 6) + 0.5) / 2 ** 53;
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform(2 * i)));
    const angle = 2 * Math.PI * uniform(2 * i + 2);
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

function checkOptions(options: DecryptOptions): Required<Pick<DecryptOptions, 'protection'>> & DecryptOptions {
  if (options === null || typeof options !== 'object')
    throw new HeftyError('E_INVALID_ARGUMENT', 'decrypt options must be an object');
  const protection = options.protection ?? DEFAULT_PROTECTION;
  if (!['raw', 'flooded', 'rounded'].includes(protection))
    throw new HeftyError('E_INVALID_ARGUMENT', 'protection must be raw, flooded or rounded');
  const kappa = options.statisticalSecurity;
  if (kappa !== undefined && !(Number.isInteger(kappa) && kappa >= 1 && kappa <= 128))
    throw new HeftyError('E_INVALID_ARGUMENT', 'statisticalSecurity must be an integer in 1..128');
  for (const key of ['noiseBits', 'precisionBits'] as const) {
    const v = options[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1100))
      throw new HeftyError('E_INVALID_ARGUMENT', `${key} must be a finite number of bits`);
  }
  return { ...options, protection };
}

/** Applies the chosen protection to released values (in place) and returns them. */
export function protectDecryption(
  values: Float64Array,
  shape: DecryptShape,
  options: DecryptOptions = {},
): Float64Array {
  const checked = checkOptions(options);
  if (checked.protection === 'raw' || values.length === 0) return values;
  const slotBits = defaultSlotNoiseBits(shape);
  if (checked.protection === 'rounded') {
    const step = 2 ** -(checked.precisionBits ?? Math.floor(-slotBits));
    for (let i = 0; i < values.length; i++) values[i] = Math.round(values[i] / step) * step;
    return values;
  }
  const noiseBits = checked.noiseBits ?? slotBits + Math.log2(values.length) / 2;
  const kappa = checked.statisticalSecurity ?? DEFAULT_STATISTICAL_SECURITY;
  const sigma = 2 ** (noiseBits + 1 + kappa / 2);
  const noise = gaussians(values.length);
  for (let i = 0; i < values.length; i++) values[i] += sigma * noise[i];
  return values;
}
