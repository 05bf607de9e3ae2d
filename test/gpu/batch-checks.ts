/**
 * GPU key switching through the batch evaluator (src/gpu/batch-evaluator.ts) against the native backend's own
 * evaluator: the same ciphertexts relinearized / rotated with HEFTY_GPU=on and off must give identical bytes.
 * Run inside the gpu-checks child (see gpu-checks.ts).
 */
import { createNativeBackend } from '../../src/backend/native.ts';
import type * as B from '../../src/backend/types.ts';
import { createBatchEvaluator } from '../../src/gpu/batch-evaluator.ts';
import { readCipher, writeCipher } from '../../src/gpu/seal-words.ts';
import { expectCode } from './fixtures.ts';

interface Fixture {
  ctx: B.BackendContext;
  relin: B.RelinKeys;
  galois: B.GaloisKeys;
  evaluator: B.Evaluator;
  decrypt: (c: B.Ciphertext) => Float64Array;
  /** Size-3 products: `count` at the first data level, then `count` one level lower. */
  products: (count: number) => B.Ciphertext[];
  /** Fresh size-2 ciphertexts of the values 0, 1, 2, … (slot i of ciphertext j holds j + i/1000). */
  fresh: (count: number) => B.Ciphertext[];
  dispose: () => void;
}

async function fixture(n: number, bits: number[], scaleBits: number): Promise<Fixture> {
  const backend = await createNativeBackend(); // not load.ts: the device check runs without node-seal installed
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: n, coeffModulus: backend.coeffModulusCreate(n, bits) },
    128,
  );
  const keygen = ctx.createKeyGenerator();
  const sk = keygen.secretKey();
  const relin = keygen.createRelinKeys();
  const galois = keygen.createGaloisKeys([1, -3, 0]);
  const encryptor = ctx.createEncryptor({ publicKey: keygen.createPublicKey() });
  const decryptor = ctx.createDecryptor(sk);
  const encoder = ctx.createCkksEncoder();
  const evaluator = ctx.createEvaluator();
  const scale = 2 ** scaleBits;
  const values = (j: number) => Float64Array.from({ length: 16 }, (_, i) => slotValue(j, i));
  const fresh = (count: number) =>
    Array.from({ length: count }, (_, j) => encryptor.encrypt(encoder.encode(values(j), scale)));
  const products = (count: number) => {
    const top = fresh(count).map((c) => evaluator.square(c));
    const lower = fresh(count).map((c) => {
      const relinearized = evaluator.relinearize(evaluator.square(c), relin);
      const down = evaluator.rescaleToNext(relinearized);
      return evaluator.multiply(down, evaluator.modSwitchToNext(c).withScale(1)); // scale stays in bounds
    });
    return [...top, ...lower];
  };
  return {
    ctx,
    relin,
    galois,
    evaluator,
    fresh,
    products,
    decrypt: (c) => encoder.decode(decryptor.decrypt(c)),
    dispose: () => ctx.dispose(),
  };
}

/** Slot i of fresh ciphertext j: j + i/1000 in the first 16 slots, 0 elsewhere. */
function slotValue(j: number, i: number): number {
  return i < 16 ? j + i / 1000 : 0;
}

function expectSameBytes(gpu: readonly B.Ciphertext[], cpu: readonly B.Ciphertext[], what: string): void {
  if (gpu.length !== cpu.length) throw new Error(`${what}: ${gpu.length} results, expected ${cpu.length}`);
  gpu.forEach((c, i) => {
    const [a, b] = [c.save('none'), cpu[i].save('none')];
    if (a.length !== b.length || !a.every((byte, k) => byte === b[k])) {
      const first = a.findIndex((byte, k) => byte !== b[k]);
      throw new Error(`${what}: ciphertext ${i} bytes differ from the CPU's (first at byte ${first} of ${b.length})`);
    }
  });
}

/** Decryption sanity only (bytes are compared exactly): 2^−5 covers the 30-bit parameters' key-switching noise. */
function expectClose(actual: Float64Array, expected: (i: number) => number, what: string): void {
  for (let i = 0; i < 16; i++) {
    if (!(Math.abs(actual[i] - expected(i)) < 2 ** -5))
      throw new Error(`${what}: slot ${i} is ${actual[i]}, not ${expected(i)}`);
  }
}

/** Relinearize at two levels and rotate/conjugate on the GPU (HEFTY_GPU=on): the CPU evaluator's bytes. */
export async function checkBatchKeySwitch(n: number, bits: number[], scaleBits: number): Promise<void> {
  const f = await fixture(n, bits, scaleBits);
  const previous = process.env.HEFTY_GPU;
  process.env.HEFTY_GPU = 'on'; // the batch evaluator reads HEFTY_GPU when no mode is given
  const batch = await createBatchEvaluator(f.ctx, { log: () => {} });
  if (previous === undefined) delete process.env.HEFTY_GPU;
  else process.env.HEFTY_GPU = previous;
  try {
    const products = f.products(3);
    for (const level of [products.slice(0, 3), products.slice(3)]) {
      const gpu = await batch.relinearizeMany(level, f.relin);
      if (batch.lastPath !== 'gpu') throw new Error('HEFTY_GPU=on must relinearize on the GPU');
      expectSameBytes(
        gpu,
        level.map((c) => f.evaluator.relinearize(c, f.relin)),
        `relinearize N=${n} level ${level[0].chainIndex}`,
      );
    }
    // Three ciphertexts through passes of at most two (maxBatch): the same bytes again.
    const chunked = await createBatchEvaluator(f.ctx, { mode: 'on', maxBatch: 2, log: () => {} });
    const inChunks = await chunked.relinearizeMany(products.slice(0, 3), f.relin);
    chunked.destroy();
    expectSameBytes(
      inChunks,
      products.slice(0, 3).map((c) => f.evaluator.relinearize(c, f.relin)),
      'in chunks of 2',
    );
    const squares = await batch.relinearizeMany(products.slice(0, 3), f.relin);
    squares.forEach((c, j) => expectClose(f.decrypt(c), (i) => slotValue(j, i) ** 2, 'GPU relinearized square'));

    const fresh = f.fresh(3);
    for (const steps of [1, -3]) {
      const gpu = await batch.rotateMany(fresh, steps, f.galois);
      if (batch.lastPath !== 'gpu') throw new Error('a rotation with its own key must run on the GPU');
      expectSameBytes(
        gpu,
        fresh.map((c) => f.evaluator.rotateVector(c, steps, f.galois)),
        `rotate ${steps} N=${n}`,
      );
      const slots = n / 2;
      gpu.forEach((c, j) =>
        expectClose(f.decrypt(c), (i) => slotValue(j, (i + steps + slots) % slots), `rotate ${steps}`),
      );
    }
    const conjugated = await batch.applyGaloisMany(fresh, 2 * n - 1, f.galois);
    expectSameBytes(
      conjugated,
      fresh.map((c) => f.evaluator.complexConjugate(c, f.galois)),
      'conjugate',
    );
    // c1 = c2 = 0 relinearizes to a transparent ciphertext: refused on both paths.
    const product = readCipher(products[0].save('none')).cipher;
    const zeroed = product.words.slice();
    zeroed.fill(0n, zeroed.length / 3);
    const transparent = [f.ctx.load.ciphertext(writeCipher(product, 3, zeroed))];
    await expectCode('E_TRANSPARENT_RESULT', () => f.evaluator.relinearize(transparent[0], f.relin));
    await expectCode('E_TRANSPARENT_RESULT', () => batch.relinearizeMany(transparent, f.relin));

    // Step 2 has no key of its own: the CPU evaluator decides, with its own error.
    await expectCode('E_MISSING_GALOIS_KEY', () => batch.rotateMany(fresh, 2, f.galois));
  } finally {
    batch.destroy();
    f.dispose();
  }
}

/** off never touches the GPU; auto measures both paths and routes by what it measured, same bytes either way. */
export async function checkBatchRouting(): Promise<void> {
  const f = await fixture(4096, [30, 30, 30], 20);
  const off = await createBatchEvaluator(f.ctx, { mode: 'off' });
  const auto = await createBatchEvaluator(f.ctx, { mode: 'auto', calibrationMax: 2, log: () => {} });
  try {
    const products = f.products(2).slice(0, 2);
    const cpu = products.map((c) => f.evaluator.relinearize(c, f.relin));
    expectSameBytes(await off.relinearizeMany(products, f.relin), cpu, 'off');
    if (off.device !== null || off.lastPath !== 'cpu') throw new Error('HEFTY_GPU=off must stay on the CPU');
    expectSameBytes(await auto.relinearizeMany(products, f.relin), cpu, 'auto');
    const threshold = [...auto.thresholds.values()][0];
    if (!threshold || threshold.timings.length !== 2 || threshold.timings.some((t) => !(t.cpuMs > 0 && t.gpuMs > 0))) {
      throw new Error(`auto did not measure both paths: ${JSON.stringify(threshold)}`);
    }
    const expected = threshold.minPolys !== null && products.length >= threshold.minPolys ? 'gpu' : 'cpu';
    if (auto.lastPath !== expected) throw new Error(`auto took ${auto.lastPath}, its measurement says ${expected}`);
  } finally {
    off.destroy();
    auto.destroy();
    f.dispose();
  }
}

/** With no adapter: auto relinearizes on the CPU (same bytes), on is E_BACKEND_UNAVAILABLE. */
export async function batchWithoutAdapter(): Promise<Record<string, unknown>> {
  const f = await fixture(4096, [30, 30, 30], 25);
  const auto = await createBatchEvaluator(f.ctx, { mode: 'auto', log: () => {} });
  try {
    const products = f.products(2).slice(0, 2);
    const viaAuto = await auto.relinearizeMany(products, f.relin);
    expectSameBytes(
      viaAuto,
      products.map((c) => f.evaluator.relinearize(c, f.relin)),
      'auto without adapter',
    );
    let batchOnCode: string | undefined;
    try {
      await createBatchEvaluator(f.ctx, { mode: 'on', log: () => {} });
    } catch (error) {
      batchOnCode = (error as { code?: string }).code;
    }
    return { batchDevice: auto.device, batchPath: auto.lastPath, batchOnCode };
  } finally {
    auto.destroy();
    f.dispose();
  }
}

/**
 * A key-switching kernel that floors instead of rounding (mutation 'floor-division') still decrypts correctly,
 * so only the byte comparison used above can catch it; it must.
 */
export async function expectKeySwitchMutationCaught(): Promise<void> {
  const f = await fixture(8192, [60, 40, 40, 60], 40);
  const broken = await createBatchEvaluator(f.ctx, { mode: 'on', mutation: 'floor-division', log: () => {} });
  try {
    const products = f.products(2).slice(0, 2);
    const gpu = await broken.relinearizeMany(products, f.relin);
    gpu.forEach((c, j) => expectClose(f.decrypt(c), (i) => slotValue(j, i) ** 2, 'floored key switch'));
    try {
      expectSameBytes(
        gpu,
        products.map((c) => f.evaluator.relinearize(c, f.relin)),
        'floored key switch',
      );
    } catch (error) {
      if (String(error).includes('bytes differ')) return;
      throw error;
    }
    throw new Error('mutation floor-division was not detected by the byte comparison');
  } finally {
    broken.destroy();
    f.dispose();
  }
}

/**
 * Batch evaluators made while the device is up; the returned check runs after it is gone: auto falls back to
 * the CPU (same bytes), on reports E_BACKEND_UNAVAILABLE.
 */
export async function prepareBatchDeviceLoss(): Promise<() => Promise<void>> {
  const f = await fixture(4096, [30, 30, 30], 25);
  const auto = await createBatchEvaluator(f.ctx, { mode: 'auto', calibrationMax: 1, log: () => {} });
  const on = await createBatchEvaluator(f.ctx, { mode: 'on', log: () => {} });
  return async () => {
    try {
      const products = f.products(2).slice(0, 2);
      const cpu = products.map((c) => f.evaluator.relinearize(c, f.relin));
      expectSameBytes(await auto.relinearizeMany(products, f.relin), cpu, 'auto after device loss');
      if (auto.lastPath !== 'cpu') throw new Error('auto must use the CPU once the device is gone');
      await expectCode('E_BACKEND_UNAVAILABLE', () => on.relinearizeMany(products, f.relin));
    } finally {
      auto.destroy();
      on.destroy();
      f.dispose();
    }
  };
}
