/**
 * Batched key switching (relinearize, apply_galois / rotate) for many ciphertexts of one context, routed per
 * batch to the GPU or to the backend's own evaluator. Both paths give the same ciphertext bytes.
 *
 * Routing: HEFTY_GPU=off (or no device) → CPU; on → GPU for every batch; auto → GPU once the batch is at least
 * the size from which the GPU measured faster end to end (bytes in to ciphertexts out) than the CPU evaluator,
 * measured on the first batch of each (operation, level) with the caller's own ciphertexts. A device that never
 * wins (a CPU WebGPU device) keeps everything on the CPU.
 *
 * The GPU path reads the ciphertexts' and keys' RNS words from their SEAL bytes (seal-words.ts) and loads its
 * results through the backend's loader, so it works on any backend's objects.
 */
import { HeftyError } from '../errors.ts';
import type { BackendContext, Ciphertext, Evaluator, GaloisKeys, RelinKeys } from '../backend/types.ts';
import { acquireGpu, gpuModeFromEnv, type GpuHandle, type GpuMode, type GpuOptions } from './device.ts';
import { GpuKeySwitch } from './key-switch.ts';
import type { KeySwitchMutation } from './wgsl-key-switch.ts';
import type { GpuPolyBatch } from './ntt.ts';
import { bitReverse, log2Exact } from './ntt-tables.ts';
import { thresholdFrom, type BatchTiming, type OffloadThreshold } from './offload.ts';
import { readCipher, readKeySwitchEntry, writeCipher } from './seal-words.ts';

export type KeySwitchOp = 'relinearize' | 'galois';

export interface BatchEvaluatorOptions extends GpuOptions {
  /** Largest batch the auto calibration times (powers of two up to it; default 8). */
  calibrationMax?: number;
  /** Most ciphertexts per device pass, a cap on GPU memory (default: what the device's buffer limits allow). */
  maxBatch?: number;
  /** Test-only: a deliberately broken key-switching kernel, to prove the tests catch wrong results. */
  mutation?: KeySwitchMutation;
}

export interface BatchEvaluator {
  /** The GPU adapter batches may go to, or null when everything stays on the CPU (off, or no device). */
  readonly device: string | null;
  /** Measured thresholds so far (auto mode), keyed `${op}:${parmsId}`. */
  readonly thresholds: ReadonlyMap<string, OffloadThreshold>;
  /** Relinearizes size-3 ciphertexts (others go through the CPU evaluator). */
  relinearizeMany(list: readonly Ciphertext[], keys: RelinKeys): Promise<Ciphertext[]>;
  applyGaloisMany(list: readonly Ciphertext[], galoisElt: number, keys: GaloisKeys): Promise<Ciphertext[]>;
  /** rotateVector for each; a step without its own key takes the CPU's composed rotation. */
  rotateMany(list: readonly Ciphertext[], steps: number, keys: GaloisKeys): Promise<Ciphertext[]>;
  /** The path the last batch took. */
  readonly lastPath: 'gpu' | 'cpu' | undefined;
  destroy(): void;
}

export async function createBatchEvaluator(
  ctx: BackendContext,
  options: BatchEvaluatorOptions = {},
): Promise<BatchEvaluator> {
  const mode = options.mode ?? gpuModeFromEnv();
  const acquisition = mode === 'off' ? undefined : await acquireGpu({ ...options, mode });
  if (mode === 'on' && !acquisition?.ok) {
    const reason = acquisition && !acquisition.ok ? acquisition.reason : 'no device';
    throw new HeftyError('E_BACKEND_UNAVAILABLE', `HEFTY_GPU=on but ${reason}`);
  }
  const gpu = acquisition?.ok ? acquisition.gpu : null;
  return new KeySwitchBatcher(ctx, gpu, mode, options);
}

type GpuJob = (list: readonly Ciphertext[]) => Promise<Ciphertext[]>;

class KeySwitchBatcher implements BatchEvaluator {
  readonly thresholds = new Map<string, OffloadThreshold>();
  lastPath: 'gpu' | 'cpu' | undefined;
  private readonly evaluator: Evaluator;
  private readonly plans = new Map<string, Promise<GpuKeySwitch>>();
  private readonly keyBatches = new WeakMap<object, Map<string, GpuPolyBatch>>();
  private readonly uploaded: GpuPolyBatch[] = [];
  private readonly permutations = new Map<number, Uint32Array>();

  private readonly ctx: BackendContext;
  private readonly gpu: GpuHandle | null;
  private readonly mode: GpuMode;
  private readonly calibrationMax: number;
  private readonly planOptions: { maxTargets?: number; mutation?: KeySwitchMutation };

  constructor(ctx: BackendContext, gpu: GpuHandle | null, mode: GpuMode, options: BatchEvaluatorOptions) {
    this.ctx = ctx;
    this.gpu = gpu;
    this.mode = mode;
    this.calibrationMax = options.calibrationMax ?? 8;
    this.planOptions = { maxTargets: options.maxBatch, mutation: options.mutation };
    this.evaluator = ctx.createEvaluator();
  }

  get device(): string | null {
    return this.gpu?.adapterDescription ?? null;
  }

  relinearizeMany(list: readonly Ciphertext[], keys: RelinKeys): Promise<Ciphertext[]> {
    const cpu = (c: Ciphertext) => this.evaluator.relinearize(c, keys);
    if (list.some((c) => c.size !== 3)) return Promise.resolve(this.onCpu(list, cpu));
    return this.route('relinearize', list, cpu, (batch) => this.gpuKeySwitch(batch, keys, 0, null));
  }

  applyGaloisMany(list: readonly Ciphertext[], galoisElt: number, keys: GaloisKeys): Promise<Ciphertext[]> {
    const cpu = (c: Ciphertext) => this.evaluator.applyGalois(c, galoisElt, keys);
    if (list.some((c) => c.size !== 2) || !keys.hasKey(galoisElt)) return Promise.resolve(this.onCpu(list, cpu));
    const index = (galoisElt - 1) / 2;
    return this.route('galois', list, cpu, (batch) => this.gpuKeySwitch(batch, keys, index, galoisElt));
  }

  rotateMany(list: readonly Ciphertext[], steps: number, keys: GaloisKeys): Promise<Ciphertext[]> {
    const elt = this.ctx.galoisElt(steps);
    if (keys.hasKey(elt)) return this.applyGaloisMany(list, elt, keys);
    return Promise.resolve(this.onCpu(list, (c) => this.evaluator.rotateVector(c, steps, keys)));
  }

  destroy(): void {
    for (const batch of this.uploaded.splice(0)) batch.destroy();
    // A plan that failed to build has nothing to free.
    for (const plan of this.plans.values()) void plan.then((p) => p.destroy()).catch(() => {});
    this.plans.clear();
    this.evaluator.dispose();
  }

  private onCpu(list: readonly Ciphertext[], cpu: (c: Ciphertext) => Ciphertext): Ciphertext[] {
    this.lastPath = 'cpu';
    return list.map(cpu);
  }

  private async route(
    op: KeySwitchOp,
    list: readonly Ciphertext[],
    cpu: (c: Ciphertext) => Ciphertext,
    onGpu: GpuJob,
  ): Promise<Ciphertext[]> {
    if (list.length === 0) return [];
    const parmsId = list[0].parmsId;
    // A lost device sends auto back to the CPU; on keeps asking the GPU and gets E_BACKEND_UNAVAILABLE.
    const usable = this.gpu && (this.mode === 'on' || !this.gpu.lost);
    if (!usable || list.some((c) => c.parmsId !== parmsId)) return this.onCpu(list, cpu);
    if (this.mode === 'auto') {
      const key = `${op}:${parmsId}`;
      let threshold = this.thresholds.get(key);
      // Measured again while the GPU has not won yet and a larger batch than any timed one comes.
      const largest = threshold?.timings.at(-1)?.polys ?? 0;
      if (!threshold || (threshold.minPolys === null && largest < Math.min(list.length, this.calibrationMax))) {
        threshold = await this.calibrate(list, cpu, onGpu);
        this.thresholds.set(key, threshold);
      }
      if (threshold.minPolys === null || list.length < threshold.minPolys) return this.onCpu(list, cpu);
    }
    this.lastPath = 'gpu';
    return onGpu(list);
  }

  /** Times both paths on the first 1, 2, 4 … ciphertexts of the batch (one warm-up each, results discarded). */
  private async calibrate(list: readonly Ciphertext[], cpu: (c: Ciphertext) => Ciphertext, onGpu: GpuJob) {
    const timings: BatchTiming[] = [];
    const time = async (run: () => Ciphertext[] | Promise<Ciphertext[]>) => {
      for (const c of await run()) c.dispose(); // warm-up: pipelines, key upload, JIT
      const start = performance.now();
      const out = await run();
      const ms = performance.now() - start;
      for (const c of out) c.dispose();
      return ms;
    };
    for (let polys = 1; polys <= Math.min(list.length, this.calibrationMax); polys *= 2) {
      const sample = list.slice(0, polys);
      const cpuMs = await time(() => sample.map(cpu));
      const gpuMs = await time(() => onGpu(sample));
      timings.push({ polys, cpuMs, gpuMs });
    }
    const n = this.ctx.params.polyModulusDegree;
    return { n, primes: this.levelPrimes(list[0].parmsId).length, minPolys: thresholdFrom(timings), timings };
  }

  /** Key switching of c2 (relinearize) or of π_g(c1) (galois) for ciphertexts of one level, on the device. */
  private async gpuKeySwitch(
    list: readonly Ciphertext[],
    keys: RelinKeys | GaloisKeys,
    index: number,
    galoisElt: number | null,
  ): Promise<Ciphertext[]> {
    if (this.gpu?.lost) throw new HeftyError('E_BACKEND_UNAVAILABLE', 'the GPU device was lost or released');
    const ciphers = list.map((c) => readCipher(c.save('none')).cipher);
    const { n, primes: l } = ciphers[0];
    const poly = l * n;
    const targets = new BigUint64Array(ciphers.length * poly);
    const pairs = new BigUint64Array(2 * ciphers.length * poly);
    const permutation = galoisElt === null ? null : this.permutation(galoisElt, n);
    ciphers.forEach(({ words }, i) => {
      if (permutation) {
        permute(words.subarray(0, poly), pairs.subarray(2 * i * poly, (2 * i + 1) * poly), permutation, n);
        permute(words.subarray(poly, 2 * poly), targets.subarray(i * poly, (i + 1) * poly), permutation, n);
      } else {
        pairs.set(words.subarray(0, 2 * poly), 2 * i * poly);
        targets.set(words.subarray(2 * poly, 3 * poly), i * poly);
      }
    });
    const plan = await this.plan(list[0].parmsId);
    const key = this.keyBatch(plan, keys, index, list[0].parmsId);
    await plan.run(targets, pairs, key, galoisElt !== null);
    return ciphers.map((cipher, i) => {
      const words = pairs.subarray(2 * i * poly, 2 * (i + 1) * poly);
      // As the CPU evaluator: a result whose c1 is all zero would reveal its plaintext.
      if (words.subarray(poly).every((w) => w === 0n)) {
        throw new HeftyError('E_TRANSPARENT_RESULT', 'result ciphertext is transparent');
      }
      return this.ctx.load.ciphertext(writeCipher(cipher, 2, words));
    });
  }

  private levelPrimes(parmsId: string): readonly bigint[] {
    const level = this.ctx.levels.find((l) => l.parmsId === parmsId);
    if (!level) throw new HeftyError('E_PARAMS_MISMATCH', 'parms_id is not valid for encryption parameters');
    return level.primes;
  }

  private plan(parmsId: string): Promise<GpuKeySwitch> {
    let plan = this.plans.get(parmsId);
    if (!plan) {
      const keyPrimes = this.ctx.levels[0].primes;
      const special = keyPrimes[keyPrimes.length - 1];
      plan = GpuKeySwitch.create(
        this.gpu as GpuHandle,
        this.ctx.params.polyModulusDegree,
        this.levelPrimes(parmsId),
        special,
        this.planOptions,
      );
      this.plans.set(parmsId, plan);
      plan.catch(() => this.plans.delete(parmsId));
    }
    return plan;
  }

  /** The key entry on the device for this level, uploaded once per keys object, entry and level. */
  private keyBatch(plan: GpuKeySwitch, keys: RelinKeys | GaloisKeys, index: number, parmsId: string) {
    let perKeys = this.keyBatches.get(keys);
    if (!perKeys) this.keyBatches.set(keys, (perKeys = new Map()));
    const id = `${index}:${parmsId}`;
    let batch = perKeys.get(id);
    if (!batch) {
      const entries = readKeySwitchEntry(keys.save('none'), index).map((entry) => entry.words);
      batch = plan.uploadKey(entries, this.ctx.levels[0].primes.length);
      perKeys.set(id, batch);
      this.uploaded.push(batch);
    }
    return batch;
  }

  /** π_g's source index for each NTT slot (spec §8.6): out[i] = in[brv(((g·(2·brv(i)+1)) mod 2N − 1)/2)]. */
  private permutation(galoisElt: number, n: number): Uint32Array {
    let table = this.permutations.get(galoisElt);
    if (!table) {
      const bits = log2Exact(n);
      table = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const odd = (galoisElt * (2 * bitReverse(i, bits) + 1)) % (2 * n);
        table[i] = bitReverse((odd - 1) / 2, bits);
      }
      this.permutations.set(galoisElt, table);
    }
    return table;
  }
}

/** Applies a slot permutation to every row of `from` into `to` (words copied as u32 pairs, no BigInt). */
function permute(from: BigUint64Array, to: BigUint64Array, table: Uint32Array, n: number): void {
  const src = new Uint32Array(from.buffer, from.byteOffset, from.length * 2);
  const dst = new Uint32Array(to.buffer, to.byteOffset, to.length * 2);
  for (let base = 0; base < from.length; base += n) {
    for (let i = 0; i < n; i++) {
      const s = 2 * (base + table[i]);
      dst[2 * (base + i)] = src[s];
      dst[2 * (base + i) + 1] = src[s + 1];
    }
  }
}
