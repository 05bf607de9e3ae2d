/**
 * SEAL's hybrid key switching (spec §8.3) for a batch of targets at one level, on the device from upload to
 * readback: INTT of the digits, their expansion to every modulus, forward NTTs, the inner product with the key
 * (shared by the whole batch), and the rounding division by the special prime P, added into (c0, c1).
 *
 * Device layout: the extended basis E = (q_0 … q_{L−1}, P) of the level, K = L + 1 rows per polynomial (row L
 * = P). Host data stays in the engine's L-row layout; rows are widened on upload and narrowed on readback.
 */
import { HeftyError } from '../errors.ts';
import type { GpuHandle } from './device.ts';
import { GpuNtt, type GpuPolyBatch } from './ntt.ts';
import { invMod } from './ntt-tables.ts';
import type { WordMode } from './wgsl-arith.ts';
import { keySwitchShader, type KeySwitchKernel, type KeySwitchMutation } from './wgsl-key-switch.ts';

interface KeySwitchPipelines {
  layouts: Record<KeySwitchKernel, GPUBindGroupLayout>;
  kernels: Record<KeySwitchKernel, GPUComputePipeline>;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<KeySwitchPipelines>>>();

function keySwitchPipelines(gpu: GpuHandle, mode: WordMode, mutation: KeySwitchMutation): Promise<KeySwitchPipelines> {
  let perDevice = pipelineCache.get(gpu.device);
  if (!perDevice) pipelineCache.set(gpu.device, (perDevice = new Map()));
  let pipelines = perDevice.get(`${mode}:${mutation}`);
  if (!pipelines) {
    pipelines = compile(gpu, mode, mutation);
    perDevice.set(`${mode}:${mutation}`, pipelines);
  }
  return pipelines;
}

async function compile(gpu: GpuHandle, mode: WordMode, mutation: KeySwitchMutation): Promise<KeySwitchPipelines> {
  const device = gpu.device;
  const visibility = gpu.flags.shader.COMPUTE;
  const entry = (binding: number, type: GPUBufferBindingType) => ({ binding, visibility, buffer: { type } });
  const head = [entry(0, 'uniform'), entry(1, 'read-only-storage'), entry(2, 'read-only-storage')];
  const read = (binding: number) => entry(binding, 'read-only-storage');
  const write = (binding: number) => entry(binding, 'storage');
  const bindings: Record<KeySwitchKernel, GPUBindGroupLayoutEntry[]> = {
    expand: [...head, read(3), write(4)],
    delta: [...head, write(3)],
    combine: [...head, read(3), read(4), write(5)],
  };
  const names = Object.keys(bindings) as KeySwitchKernel[];
  const layouts = Object.fromEntries(
    names.map((name) => [name, device.createBindGroupLayout({ entries: bindings[name] })]),
  ) as Record<KeySwitchKernel, GPUBindGroupLayout>;
  const kernels = await Promise.all(
    names.map((name) =>
      device.createComputePipelineAsync({
        layout: device.createPipelineLayout({ bindGroupLayouts: [layouts[name]] }),
        compute: {
          module: device.createShaderModule({ code: keySwitchShader(mode, name, mutation) }),
          entryPoint: 'main',
        },
      }),
    ),
  );
  return {
    layouts,
    kernels: Object.fromEntries(names.map((name, i) => [name, kernels[i]])) as KeySwitchPipelines['kernels'],
  };
}

export class GpuKeySwitch {
  /** The NTT plan over the extended basis (level primes, then P). */
  readonly ntt: GpuNtt;
  /** Number of data primes L of the level. */
  readonly level: number;
  private readonly pipelines: KeySwitchPipelines;
  private readonly constants: GPUBuffer;
  private readonly targetCap: number;

  private constructor(ntt: GpuNtt, pipelines: KeySwitchPipelines, targetCap: number) {
    this.ntt = ntt;
    this.targetCap = targetCap;
    this.level = ntt.moduli.length - 1;
    this.pipelines = pipelines;
    const special = ntt.moduli[this.level];
    const half = special >> 1n;
    // Per prime of E: ⌊P/2⌋ mod q_i and P^−1 mod q_i (unused, 0, for P itself).
    const words = new BigUint64Array(2 * ntt.moduli.length);
    ntt.moduli.forEach((q, i) => {
      words[2 * i] = half % q;
      words[2 * i + 1] = i < this.level ? invMod(special % q, q) : 0n;
    });
    this.constants = ntt.constantBuffer(words);
  }

  /**
   * A plan for targets at a level with `levelPrimes` (L of them) and the key level's special prime.
   * `maxTargets` caps the targets per device pass (default: what the buffer limits allow).
   */
  static async create(
    gpu: GpuHandle,
    n: number,
    levelPrimes: readonly bigint[],
    special: bigint,
    options: { maxTargets?: number; mutation?: KeySwitchMutation } = {},
  ): Promise<GpuKeySwitch> {
    if (levelPrimes.length < 1) throw new HeftyError('E_INVALID_ARGUMENT', 'a level has at least one prime');
    const cap = options.maxTargets ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(cap) || cap < 1) throw new HeftyError('E_INVALID_ARGUMENT', 'maxTargets must be ≥ 1');
    const ntt = await GpuNtt.create(gpu, { n, moduli: [...levelPrimes, special] });
    try {
      const pipelines = await keySwitchPipelines(gpu, ntt.wordMode, options.mutation ?? 'none');
      return new GpuKeySwitch(ntt, pipelines, cap);
    } catch (error) {
      ntt.destroy();
      throw error;
    }
  }

  /** Most targets one device pass takes (their L expanded digits must fit one batch). */
  get maxTargets(): number {
    return Math.min(this.targetCap, Math.max(1, Math.floor(this.ntt.maxPolysPerBatch / Math.max(2, this.level))));
  }

  /**
   * Uploads a key-switching key for this level: `entries` are the L digit keys, each a 2-poly key-level
   * ciphertext with `keyPrimes` rows per poly; rows 0 … L−1 and the last (P) are kept.
   */
  uploadKey(entries: readonly BigUint64Array[], keyPrimes: number): GpuPolyBatch {
    const n = this.ntt.n;
    const k = this.level + 1;
    if (entries.length < this.level || entries.some((e) => e.length !== 2 * keyPrimes * n)) {
      throw new HeftyError('E_PARAMS_MISMATCH', 'key-switching key does not fit this level');
    }
    const host = new BigUint64Array(this.level * 2 * k * n);
    for (let j = 0; j < this.level; j++) {
      for (let c = 0; c < 2; c++) {
        const from = entries[j].subarray(c * keyPrimes * n, (c + 1) * keyPrimes * n);
        const to = (j * 2 + c) * k * n;
        host.set(from.subarray(0, this.level * n), to);
        host.set(from.subarray((keyPrimes - 1) * n), to + this.level * n);
      }
    }
    return this.ntt.upload(host);
  }

  /**
   * Key-switches `targets` (B polys of L rows, NTT form) with `key` and adds the result into `pairs` (B × 2 polys
   * of L rows, NTT form), in place; with `replaceSecond` the second poly of each pair is overwritten instead.
   */
  async run(targets: BigUint64Array, pairs: BigUint64Array, key: GpuPolyBatch, replaceSecond: boolean): Promise<void> {
    const rowWords = this.level * this.ntt.n;
    const count = targets.length / rowWords;
    if (!Number.isInteger(count) || count < 1 || pairs.length !== 2 * targets.length) {
      throw new HeftyError('E_LENGTH_MISMATCH', 'targets and pairs must hold B and 2B polynomials of L rows');
    }
    for (let first = 0; first < count; first += this.maxTargets) {
      const b = Math.min(this.maxTargets, count - first);
      const chunkTargets = targets.subarray(first * rowWords, (first + b) * rowWords);
      const chunkPairs = pairs.subarray(2 * first * rowWords, 2 * (first + b) * rowWords);
      await this.runChunk(chunkTargets, chunkPairs, b, key, replaceSecond);
    }
  }

  destroy(): void {
    this.constants.destroy();
    this.ntt.destroy();
  }

  private async runChunk(
    targets: BigUint64Array,
    pairs: BigUint64Array,
    b: number,
    key: GpuPolyBatch,
    replace: boolean,
  ) {
    const ntt = this.ntt;
    const [n, k, l] = [ntt.n, this.level + 1, this.level];
    const { kernels, layouts } = this.pipelines;
    const shape = (flag: number) => new Uint32Array([n, k, l, flag]);
    const t = ntt.upload(this.widen(targets, b));
    const c = ntt.upload(this.widen(pairs, 2 * b));
    const batches = [t, c];
    try {
      const digits = ntt.allocate(b * l);
      const acc = ntt.allocate(2 * b);
      const delta = ntt.allocate(2 * b);
      batches.push(digits, acc, delta);
      ntt.inverse(t);
      ntt.compute(kernels.expand, layouts.expand, shape(0), [t, digits], digits.rows, [this.constants]);
      ntt.forward(digits);
      ntt.innerProduct(digits, key, acc, b);
      ntt.copy(acc, delta);
      ntt.inverse(delta);
      ntt.compute(kernels.delta, layouts.delta, shape(0), [delta], delta.polys, [this.constants]);
      ntt.forward(delta);
      ntt.compute(kernels.combine, layouts.combine, shape(replace ? 1 : 0), [acc, delta, c], c.rows, [this.constants]);
      this.narrow(await ntt.read(c), pairs, 2 * b);
    } finally {
      for (const batch of batches) batch.destroy();
    }
  }

  /** L-row polys → K-row polys with a zero row for P. */
  private widen(data: BigUint64Array, polys: number): BigUint64Array {
    const [n, l] = [this.ntt.n, this.level];
    const out = new BigUint64Array(polys * (l + 1) * n);
    for (let p = 0; p < polys; p++) out.set(data.subarray(p * l * n, (p + 1) * l * n), p * (l + 1) * n);
    return out;
  }

  private narrow(data: BigUint64Array, into: BigUint64Array, polys: number): void {
    const [n, l] = [this.ntt.n, this.level];
    for (let p = 0; p < polys; p++) into.set(data.subarray(p * (l + 1) * n, (p * (l + 1) + l) * n), p * l * n);
  }
}
