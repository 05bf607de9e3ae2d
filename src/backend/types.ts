/**
 * The Backend interface: what every engine (native addon, node-seal WASM) provides. It is small and
 * byte-oriented at its edges: objects load from and save to SEAL-format bytes, and operations take opaque
 * handles that own engine memory. Handles are released with `dispose()` (or `using`); a
 * FinalizationRegistry in each backend is only a safety net.
 *
 * Evaluator operations are functional: they return a new handle and never modify their inputs.
 */

export type Scheme = 'ckks' | 'bfv' | 'bgv';
/** The exact-integer schemes: slots hold integers mod the plaintext modulus t, in a 2×(N/2) batching matrix. */
export type IntegerScheme = Exclude<Scheme, 'ckks'>;

export function isIntegerScheme(scheme: Scheme): scheme is IntegerScheme {
  return scheme === 'bfv' || scheme === 'bgv';
}
export type Compression = 'none' | 'zlib' | 'zstd';
/** HomomorphicEncryption.org classical security level; 'none' disables the check (must be allowed explicitly). */
export type SecurityLevel = 128 | 192 | 256 | 'none';
export type BackendName = 'native' | 'wasm';

/** Encryption parameters as an immutable value. `coeffModulus` lists explicit primes, special prime last. */
export interface ParamsSpec {
  readonly scheme: Scheme;
  readonly polyModulusDegree: number;
  readonly coeffModulus: readonly bigint[];
  /** BFV and BGV: the plaintext modulus t. */
  readonly plainModulus?: bigint;
}

/** One level of the modulus chain. `chainIndex` 0 is the last level (one prime); the key level is highest. */
export interface LevelInfo {
  readonly parmsId: string;
  readonly chainIndex: number;
  readonly primes: readonly bigint[];
}

/** Something that owns engine memory. */
export interface Owned {
  readonly disposed: boolean;
  dispose(): void;
  [Symbol.dispose](): void;
}

export interface Saveable {
  save(compression?: Compression): Uint8Array;
}

export interface Plaintext extends Owned, Saveable {
  readonly kind: 'plaintext';
  /** Hex parms_id; all zero for BFV and BGV plaintexts (not in NTT form). */
  readonly parmsId: string;
  readonly scale: number;
}

export interface Ciphertext extends Owned, Saveable {
  readonly kind: 'ciphertext';
  /** Byte count of save('none'). */
  savedSize(): number;
  /**
   * Writes save('none')'s bytes at the start of `target` and returns their count, as SEAL's save into a caller's
   * buffer does: a caller that reuses its buffer pays no fresh allocation (E_INVALID_ARGUMENT when it is too small).
   */
  saveInto(target: Uint8Array): number;
  readonly parmsId: string;
  /** Index in the modulus chain (0 = last level). */
  readonly chainIndex: number;
  /** Number of polynomials: 2 after relinearization, 3 after a multiply. */
  readonly size: number;
  readonly scale: number;
  readonly isNttForm: boolean;
  clone(): Ciphertext;
  /** Returns a copy with the scale field replaced (no arithmetic); used to align scales that differ by rounding. */
  withScale(scale: number): Ciphertext;
}

export interface SecretKey extends Owned, Saveable {
  readonly kind: 'secret-key';
}
export interface PublicKey extends Owned, Saveable {
  readonly kind: 'public-key';
}
export interface RelinKeys extends Owned, Saveable {
  readonly kind: 'relin-keys';
}
export interface GaloisKeys extends Owned, Saveable {
  readonly kind: 'galois-keys';
  /** Galois elements present. */
  readonly galoisElts: readonly number[];
  hasKey(galoisElt: number): boolean;
}

/** Which galois keys to create: explicit rotation steps, or SEAL's default (all powers of two, ± , and conjugation). */
export type GaloisSpec = 'power-of-two' | readonly number[];

export interface KeyGenerator extends Owned {
  secretKey(): SecretKey;
  createPublicKey(): PublicKey;
  createRelinKeys(): RelinKeys;
  createGaloisKeys(spec: GaloisSpec): GaloisKeys;
  /** Seeded ("serializable") forms: bytes only, about half the size; they expand on load. */
  createPublicKeySeeded(compression?: Compression): Uint8Array;
  createRelinKeysSeeded(compression?: Compression): Uint8Array;
  createGaloisKeysSeeded(spec: GaloisSpec, compression?: Compression): Uint8Array;
}

export interface Encryptor extends Owned {
  /** Public-key encryption (needs a public key). */
  encrypt(plain: Plaintext): Ciphertext;
  /** Secret-key encryption (needs a secret key). */
  encryptSymmetric(plain: Plaintext): Ciphertext;
  /** Secret-key encryption with the second polynomial replaced by a seed: about half the size. */
  encryptSymmetricSeeded(plain: Plaintext, compression?: Compression): Uint8Array;
}

export interface Decryptor extends Owned {
  decrypt(cipher: Ciphertext): Plaintext;
  /** BFV and BGV: remaining noise budget in bits (0 means decryption is no longer correct). */
  invariantNoiseBudget(cipher: Ciphertext): number;
}

export interface CkksEncoder extends Owned {
  readonly slotCount: number;
  /** Encodes up to slotCount reals (missing slots are 0) at `scale`, at the level of `parmsId` (default: first). */
  encode(values: Float64Array, scale: number, parmsId?: string): Plaintext;
  /** Encodes one real into every slot. */
  encodeScalar(value: number, scale: number, parmsId?: string): Plaintext;
  decode(plain: Plaintext): Float64Array;
}

export interface BatchEncoder extends Owned {
  readonly slotCount: number;
  /** Encodes up to slotCount signed integers (centered mod t); missing slots are 0. */
  encode(values: BigInt64Array): Plaintext;
  /** Decodes to signed integers in (-t/2, t/2]. */
  decode(plain: Plaintext): BigInt64Array;
}

export interface Evaluator extends Owned {
  negate(a: Ciphertext): Ciphertext;
  add(a: Ciphertext, b: Ciphertext): Ciphertext;
  sub(a: Ciphertext, b: Ciphertext): Ciphertext;
  addPlain(a: Ciphertext, p: Plaintext): Ciphertext;
  subPlain(a: Ciphertext, p: Plaintext): Ciphertext;
  multiply(a: Ciphertext, b: Ciphertext): Ciphertext;
  square(a: Ciphertext): Ciphertext;
  multiplyPlain(a: Ciphertext, p: Plaintext): Ciphertext;
  relinearize(a: Ciphertext, keys: RelinKeys): Ciphertext;
  /** CKKS: divide by the last prime of the level and drop it. */
  rescaleToNext(a: Ciphertext): Ciphertext;
  /** Drop the last prime: without scaling (CKKS), scaling by it (BFV), or with SEAL's t-correction (BGV). */
  modSwitchToNext(a: Ciphertext): Ciphertext;
  modSwitchTo(a: Ciphertext, parmsId: string): Ciphertext;
  modSwitchPlainToNext(p: Plaintext): Plaintext;
  modSwitchPlainTo(p: Plaintext, parmsId: string): Plaintext;
  /** CKKS: cyclic rotation of the slot vector by `steps` (positive = left). */
  rotateVector(a: Ciphertext, steps: number, keys: GaloisKeys): Ciphertext;
  /**
   * CKKS: one ciphertext rotated by each of `steps` (every step needs its own galois key), in that order. The
   * engine may share work between them (hoisting: one decomposition of c1 for all); results then decrypt as
   * rotateVector's do, within its error, but need not be the same bytes. Step 0 gives the input (SEAL's
   * rotateVector does); no steps give no results.
   */
  rotateVectorHoisted(a: Ciphertext, steps: readonly number[], keys: GaloisKeys): Ciphertext[];
  /**
   * BFV and BGV: rotate both rows of the 2×(N/2) batching matrix left by `steps` (|steps| < N/2). A step without
   * its own galois key is composed from the keys of its non-adjacent form, as SEAL does.
   */
  rotateRows(a: Ciphertext, steps: number, keys: GaloisKeys): Ciphertext;
  /** BFV and BGV: swap the two rows. */
  rotateColumns(a: Ciphertext, keys: GaloisKeys): Ciphertext;
  complexConjugate(a: Ciphertext, keys: GaloisKeys): Ciphertext;
  applyGalois(a: Ciphertext, galoisElt: number, keys: GaloisKeys): Ciphertext;
  addMany(list: readonly Ciphertext[]): Ciphertext;
  multiplyMany(list: readonly Ciphertext[], keys: RelinKeys): Ciphertext;
}

export interface ObjectLoader {
  plaintext(bytes: Uint8Array): Plaintext;
  ciphertext(bytes: Uint8Array): Ciphertext;
  secretKey(bytes: Uint8Array): SecretKey;
  publicKey(bytes: Uint8Array): PublicKey;
  relinKeys(bytes: Uint8Array): RelinKeys;
  galoisKeys(bytes: Uint8Array): GaloisKeys;
}

/** A validated SEAL context: parameters plus the modulus chain. */
export interface BackendContext extends Owned {
  readonly backend: Backend;
  readonly params: ParamsSpec;
  readonly security: SecurityLevel;
  /** CKKS: N/2 complex slots used as reals; BFV and BGV: N integer slots (two rows of N/2). */
  readonly slotCount: number;
  /** The chain from the key level (first entry, includes the special prime) down to chainIndex 0. */
  readonly levels: readonly LevelInfo[];
  readonly keyParmsId: string;
  /** parms_id of the highest data level (what fresh ciphertexts have). */
  readonly firstParmsId: string;
  /** Maps rotation steps to SEAL galois elements for this context. */
  galoisElt(steps: number): number;
  readonly conjugationElt: number;
  createKeyGenerator(secretKey?: SecretKey): KeyGenerator;
  createEncryptor(keys: { publicKey?: PublicKey; secretKey?: SecretKey }): Encryptor;
  createDecryptor(secretKey: SecretKey): Decryptor;
  createEvaluator(): Evaluator;
  createCkksEncoder(): CkksEncoder;
  createBatchEncoder(): BatchEncoder;
  readonly load: ObjectLoader;
}

export interface BackendCapabilities {
  readonly schemes: readonly Scheme[];
}

export interface Backend {
  readonly name: BackendName;
  readonly capabilities: BackendCapabilities;
  /** SEAL's CoeffModulus.Create: NTT-friendly primes of the given bit sizes for degree n. */
  coeffModulusCreate(polyModulusDegree: number, bitSizes: readonly number[]): bigint[];
  coeffModulusBfvDefault(polyModulusDegree: number, security: Exclude<SecurityLevel, 'none'>): bigint[];
  plainModulusBatching(polyModulusDegree: number, bitSize: number): bigint;
  maxCoeffModulusBits(polyModulusDegree: number, security: Exclude<SecurityLevel, 'none'>): number;
  /** Builds and validates a context; throws E_INVALID_PARAMS or E_INSECURE_PARAMS. */
  createContext(params: ParamsSpec, security: SecurityLevel): BackendContext;
  saveParams(params: ParamsSpec, compression?: Compression): Uint8Array;
  loadParams(bytes: Uint8Array): ParamsSpec;
}
