/**
 * Set-up for the native ⇄ node-seal CKKS interop tests: both engines on the same parameters, each with its own
 * key set, and helpers that move objects between engines as SEAL bytes (the only way they can meet).
 */
import type * as B from '../../src/backend/types.ts';
import { createWasmBackend } from '../../src/backend/wasm.ts';
import { createNativeBackend } from '../../src/backend/native.ts';

export interface Keys {
  readonly sk: B.SecretKey;
  readonly pk: B.PublicKey;
  readonly rk: B.RelinKeys;
  readonly gk: B.GaloisKeys;
}

export interface Engine extends Keys {
  readonly name: string;
  readonly ctx: B.BackendContext;
  readonly encoder: B.CkksEncoder;
  readonly evaluator: B.Evaluator;
  readonly encryptor: B.Encryptor;
  readonly decryptor: B.Decryptor;
}

export interface Setup {
  readonly n: number;
  readonly scale: number;
  /** node-seal with its own keys. */
  readonly seal: Engine;
  /** The native engine with its own keys. */
  readonly native: Engine;
  /** The native engine holding node-seal's keys (loaded from node-seal's seeded output). */
  readonly nativeWithSealKeys: Engine;
  /** node-seal holding the native engine's keys (loaded from native seeded output). */
  readonly sealWithNativeKeys: Engine;
  /** The same two, holding the other engine's keys in their full (unseeded) form. */
  readonly nativeWithSealFullKeys: Engine;
  readonly sealWithNativeFullKeys: Engine;
}

/** SEAL-example style chains: 60-bit (40-bit at N=4096) outer primes, scale-sized middle primes. */
export const CHAINS: Record<number, { bits: number[]; scale: number }> = {
  4096: { bits: [40, 29, 40], scale: 2 ** 29 },
  8192: { bits: [60, 40, 40, 60], scale: 2 ** 40 },
  16384: { bits: [60, 40, 40, 40, 40, 40, 40, 60], scale: 2 ** 40 },
  32768: { bits: [60, 40, 40, 40, 40, 60], scale: 2 ** 40 },
};

function engine(name: string, ctx: B.BackendContext, keys: Keys): Engine {
  return {
    name,
    ctx,
    ...keys,
    encoder: ctx.createCkksEncoder(),
    evaluator: ctx.createEvaluator(),
    encryptor: ctx.createEncryptor({ publicKey: keys.pk, secretKey: keys.sk }),
    decryptor: ctx.createDecryptor(keys.sk),
  };
}

interface KeyBytes {
  readonly sk: Uint8Array;
  readonly pk: Uint8Array;
  readonly rk: Uint8Array;
  readonly gk: Uint8Array;
}

/** A key set as SEAL bytes; public, relin and galois keys in their seeded form (compressed two ways). */
function makeKeyBytes(ctx: B.BackendContext, steps: readonly number[]): KeyBytes {
  const gen = ctx.createKeyGenerator();
  return {
    sk: gen.secretKey().save('zstd'),
    pk: gen.createPublicKeySeeded(),
    rk: gen.createRelinKeysSeeded('zstd'),
    gk: gen.createGaloisKeysSeeded(steps, 'zlib'),
  };
}

/** A loaded key set saved again: the full form, which a seeded object expands to. */
function fullKeyBytes(keys: Keys): KeyBytes {
  return { sk: keys.sk.save(), pk: keys.pk.save('none'), rk: keys.rk.save('none'), gk: keys.gk.save('none') };
}

function loadKeys(ctx: B.BackendContext, bytes: KeyBytes): Keys {
  return {
    sk: ctx.load.secretKey(bytes.sk),
    pk: ctx.load.publicKey(bytes.pk),
    rk: ctx.load.relinKeys(bytes.rk),
    gk: ctx.load.galoisKeys(bytes.gk),
  };
}

/**
 * Builds both engines. Each engine makes its key set as seeded bytes and both engines load those same bytes,
 * so an operation sees identical key material on either side (fresh keys alone change the error several-fold).
 */
export async function makeSetup(n: number, steps: readonly number[]): Promise<Setup> {
  const wasm = await createWasmBackend();
  const native = await createNativeBackend();
  const { bits, scale } = CHAINS[n];
  const params: B.ParamsSpec = { scheme: 'ckks', polyModulusDegree: n, coeffModulus: wasm.coeffModulusCreate(n, bits) };
  const sealCtx = wasm.createContext(params, 128);
  const nativeCtx = native.createContext(params, 128);
  const fromSeal = makeKeyBytes(sealCtx, steps);
  const fromNative = makeKeyBytes(nativeCtx, steps);
  const sealKeys = loadKeys(sealCtx, fromSeal);
  const nativeKeys = loadKeys(nativeCtx, fromNative);
  return {
    n,
    scale,
    seal: engine('node-seal', sealCtx, sealKeys),
    native: engine('native', nativeCtx, nativeKeys),
    nativeWithSealKeys: engine('native (node-seal keys)', nativeCtx, loadKeys(nativeCtx, fromSeal)),
    sealWithNativeKeys: engine('node-seal (native keys)', sealCtx, loadKeys(sealCtx, fromNative)),
    nativeWithSealFullKeys: engine(
      'native (node-seal full keys)',
      nativeCtx,
      loadKeys(nativeCtx, fullKeyBytes(sealKeys)),
    ),
    sealWithNativeFullKeys: engine(
      'node-seal (native full keys)',
      sealCtx,
      loadKeys(sealCtx, fullKeyBytes(nativeKeys)),
    ),
  };
}

export function moveCiphertext(ct: B.Ciphertext, to: Engine): B.Ciphertext {
  return to.ctx.load.ciphertext(ct.save());
}

export function movePlaintext(pt: B.Plaintext, to: Engine): B.Plaintext {
  return to.ctx.load.plaintext(pt.save());
}

export function randomValues(count: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
}

export function maxError(actual: ArrayLike<number>, expected: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
