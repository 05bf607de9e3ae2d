/**
 * node-seal 7 (SEAL 4.1.2 in WebAssembly) as a BGV oracle for the native engine's tests. Objects cross as SEAL
 * bytes: every call loads its operands into node-seal, runs SEAL's own operation and returns SEAL bytes, so
 * the tests compare the two engines byte for byte without any adapter logic in between.
 */
import SEAL from 'node-seal';

type Seal = Awaited<ReturnType<typeof SEAL>>;
type Raw = { delete(): void; saveToArray(mode: unknown): unknown };

let runtime: Promise<Seal> | undefined;

export type EvalOp =
  | 'negate'
  | 'add'
  | 'sub'
  | 'addPlain'
  | 'subPlain'
  | 'multiply'
  | 'square'
  | 'multiplyPlain'
  | 'relinearize'
  | 'modSwitchToNext'
  | 'rotateRows'
  | 'rotateColumns'
  | 'exponentiate'
  | 'multiplyMany';

export class SealBgv {
  readonly #seal: Seal;
  readonly #ctx: InstanceType<Seal['SEALContext']>;
  readonly #evaluator: InstanceType<Seal['Evaluator']>;
  readonly #encoder: InstanceType<Seal['BatchEncoder']>;
  readonly #keys = new Map<string, Raw>();
  readonly #parms: InstanceType<Seal['EncryptionParameters']>;

  private constructor(seal: Seal, n: number, primes: readonly bigint[], t: bigint, secure: boolean) {
    this.#seal = seal;
    const parms = new seal.EncryptionParameters(seal.SchemeType.bgv);
    parms.setPolyModulusDegree(n);
    const vec = new seal.VectorModulus();
    for (const q of primes) vec.push_back(new seal.Modulus(q));
    parms.setCoeffModulus(vec);
    parms.setPlainModulus(new seal.Modulus(t));
    this.#parms = parms;
    this.#ctx = new seal.SEALContext(parms, true, secure ? seal.SecLevelType.tc128 : seal.SecLevelType.none);
    if (!this.#ctx.parametersSet()) throw new Error('node-seal rejected the BGV parameters');
    this.#evaluator = new seal.Evaluator(this.#ctx);
    this.#encoder = new seal.BatchEncoder(this.#ctx);
  }

  /** The EncryptionParameters as node-seal saves them. */
  paramsBytes(): Uint8Array {
    return this.#bytes(this.#parms);
  }

  static async create(n: number, primes: readonly bigint[], t: bigint, secure = true): Promise<SealBgv> {
    runtime ??= SEAL();
    return new SealBgv(await runtime, n, primes, t, secure);
  }

  #bytes(raw: Raw): Uint8Array {
    return Uint8Array.from(raw.saveToArray(this.#seal.ComprModeType.none) as Uint8Array);
  }

  #load<T extends Raw & { loadFromArray(ctx: unknown, bytes: unknown): void }>(make: () => T, bytes: Uint8Array): T {
    const raw = make();
    raw.loadFromArray(this.#ctx, bytes);
    return raw;
  }

  #ct(bytes: Uint8Array): InstanceType<Seal['Ciphertext']> {
    return this.#load(() => new this.#seal.Ciphertext(), bytes);
  }
  #pt(bytes: Uint8Array): InstanceType<Seal['Plaintext']> {
    return this.#load(() => new this.#seal.Plaintext(), bytes);
  }
  #sk(bytes: Uint8Array): InstanceType<Seal['SecretKey']> {
    return this.#load(() => new this.#seal.SecretKey(), bytes);
  }
  /** Relin or Galois keys, loaded once per distinct byte string. */
  #cachedKeys<T extends Raw>(kind: 'relin' | 'galois', bytes: Uint8Array): T {
    const id = `${kind}:${bytes.length}:${Buffer.from(bytes.subarray(0, 4096)).toString('base64')}`;
    let keys = this.#keys.get(id);
    if (keys === undefined) {
      keys = this.#load(() => (kind === 'relin' ? new this.#seal.RelinKeys() : new this.#seal.GaloisKeys()), bytes);
      this.#keys.set(id, keys);
    }
    return keys as T;
  }

  /** Keys made by node-seal (from `secretKey` when given): full and seeded bytes. */
  keygen(galoisSteps: readonly number[], secretKey?: Uint8Array) {
    const sk = secretKey === undefined ? undefined : this.#sk(secretKey);
    const keygen =
      sk === undefined ? new this.#seal.KeyGenerator(this.#ctx) : new this.#seal.KeyGenerator(this.#ctx, sk);
    const steps = Int32Array.from(galoisSteps);
    const out = {
      secretKey: this.#bytes(keygen.secretKey()),
      publicKey: this.#bytes(keygen.createPublicKey()),
      publicKeySeeded: this.#bytes(keygen.createPublicKeySerializable()),
      relinKeys: this.#bytes(keygen.createRelinKeys()),
      relinKeysSeeded: this.#bytes(keygen.createRelinKeysSerializable()),
      galoisKeys: this.#bytes(keygen.createGaloisKeysWithSteps(steps)),
      galoisKeysSeeded: this.#bytes(keygen.createGaloisKeysSerializableWithSteps(steps)),
    };
    keygen.delete();
    sk?.delete();
    return out;
  }

  encode(values: readonly bigint[]): Uint8Array {
    const plain = new this.#seal.Plaintext();
    this.#encoder.encode(BigInt64Array.from(values), plain);
    return this.#bytes(plain);
  }

  decode(plainBytes: Uint8Array): bigint[] {
    return Array.from(this.#encoder.decodeBigInt64(this.#pt(plainBytes)) as BigInt64Array);
  }

  encrypt(publicKey: Uint8Array, plain: Uint8Array): Uint8Array {
    const pk = this.#load(() => new this.#seal.PublicKey(), publicKey);
    const encryptor = new this.#seal.Encryptor(this.#ctx, pk);
    const ct = new this.#seal.Ciphertext();
    encryptor.encrypt(this.#pt(plain), ct);
    return this.#bytes(ct);
  }

  encryptSymmetric(secretKey: Uint8Array, plain: Uint8Array, seeded: boolean): Uint8Array {
    const sk = this.#sk(secretKey);
    const keygen = new this.#seal.KeyGenerator(this.#ctx, sk);
    const encryptor = new this.#seal.Encryptor(this.#ctx, keygen.createPublicKey(), sk);
    if (seeded) return this.#bytes(encryptor.encryptSymmetricSerializable(this.#pt(plain)));
    const ct = new this.#seal.Ciphertext();
    encryptor.encryptSymmetric(this.#pt(plain), ct);
    return this.#bytes(ct);
  }

  /** Decryption as plaintext bytes, plus its slots and SEAL's noise budget. */
  decrypt(secretKey: Uint8Array, cipher: Uint8Array): { plain: Uint8Array; slots: bigint[]; budget: number } {
    const decryptor = new this.#seal.Decryptor(this.#ctx, this.#sk(secretKey));
    const ct = this.#ct(cipher);
    const plain = new this.#seal.Plaintext();
    decryptor.decrypt(ct, plain);
    const budget = decryptor.invariantNoiseBudget(ct);
    return { plain: this.#bytes(plain), slots: this.decode(this.#bytes(plain)), budget };
  }

  /** One evaluator operation on SEAL bytes (ciphertexts `a`, `b`; plaintext `plain`; keys; integer `k`). */
  eval(
    op: EvalOp,
    args: {
      a: Uint8Array;
      b?: Uint8Array;
      plain?: Uint8Array;
      relin?: Uint8Array;
      galois?: Uint8Array;
      k?: number;
      list?: Uint8Array[];
    },
  ): Uint8Array {
    const ev = this.#evaluator;
    const a = this.#ct(args.a);
    const out = new this.#seal.Ciphertext();
    const b = () => this.#ct(args.b as Uint8Array);
    const p = () => this.#pt(args.plain as Uint8Array);
    const rk = () => this.#cachedKeys<InstanceType<Seal['RelinKeys']>>('relin', args.relin as Uint8Array);
    const gk = () => this.#cachedKeys<InstanceType<Seal['GaloisKeys']>>('galois', args.galois as Uint8Array);
    switch (op) {
      case 'negate':
        ev.negate(a, out);
        break;
      case 'add':
        ev.add(a, b(), out);
        break;
      case 'sub':
        ev.sub(a, b(), out);
        break;
      case 'addPlain':
        ev.addPlain(a, p(), out);
        break;
      case 'subPlain':
        ev.subPlain(a, p(), out);
        break;
      case 'multiply':
        ev.multiply(a, b(), out);
        break;
      case 'square':
        ev.square(a, out);
        break;
      case 'multiplyPlain':
        ev.multiplyPlain(a, p(), out);
        break;
      case 'relinearize':
        ev.relinearize(a, rk(), out);
        break;
      case 'modSwitchToNext':
        ev.cipherModSwitchToNext(a, out);
        break;
      case 'rotateRows':
        ev.rotateRows(a, args.k ?? 0, gk(), out);
        break;
      case 'rotateColumns':
        ev.rotateColumns(a, gk(), out);
        break;
      case 'exponentiate':
        ev.exponentiate(a, BigInt(args.k ?? 1), rk(), out);
        break;
      case 'multiplyMany': {
        // node-seal 7 exposes no multiply_many: SEAL's pairing order, spelled out with its own operations.
        let layer = [a, ...(args.list ?? []).map((bytes) => this.#ct(bytes))];
        const products: (typeof a)[] = [];
        for (let i = 0; i + 1 < layer.length; i += 2) {
          const product = new this.#seal.Ciphertext();
          ev.multiply(layer[i], layer[i + 1], product);
          ev.relinearizeInplace(product, rk());
          products.push(product);
        }
        if (layer.length % 2 === 1) products.push(layer[layer.length - 1]);
        for (let i = 0; i + 1 < products.length; i += 2) {
          const product = new this.#seal.Ciphertext();
          ev.multiply(products[i], products[i + 1], product);
          ev.relinearizeInplace(product, rk());
          products.push(product);
        }
        layer = products;
        return this.#bytes(layer[layer.length - 1]);
      }
    }
    return this.#bytes(out);
  }
}
