/**
 * Batched negacyclic NTT and NTT-domain pointwise ops on a WebGPU device, bit-exact with SEAL's NTT (spec §5).
 *
 * A GpuNtt is a plan for one (N, RNS primes) pair: tables, constants and pipelines live on the device. Data
 * lives in GpuPolyBatch buffers (polys × K × N, prime-major like hefty's u64 arrays) that stay on the device
 * across any sequence of forward/inverse/add/sub/mul/mulAccumulate/innerProduct calls; commands are recorded and submitted
 * together when a batch is read back (or on flush()). forwardHost/inverseHost are the one-shot form the native
 * backend or pool calls: they chunk a host array, upload, transform and write the result back in place.
 */
import { HeftyError } from '../errors.ts';
import { acquireGpu, gpuModeFromEnv, type GpuHandle, type GpuOptions } from './device.ts';
import { montgomeryNegInverse, nttTables, shoupQuotient, log2Exact } from './ntt-tables.ts';
import { wordBytes, type WordMode } from './wgsl-arith.ts';
import { buildPipelines, type Pipelines } from './pipelines.ts';
import { WORKGROUP_SIZE, tileSize, type NttMutation, type PointwiseOp } from './wgsl-kernels.ts';

export interface GpuNttConfig {
  n: number;
  moduli: readonly bigint[];
  /** Force the 64-bit kernels even when every prime is below 2^31 (default: u32 when possible). */
  wordMode?: WordMode;
  /** Cap on polynomials per device batch (default: as many as the buffer limits allow). */
  maxBatchPolys?: number;
  /** Test-only: a deliberately broken kernel, to prove the tests catch wrong results. */
  mutation?: NttMutation;
}

const PARAM_STRIDE = 256; // minUniformBufferOffsetAlignment
const MAX_DISPATCH_ROWS = 65535; // maxComputeWorkgroupsPerDimension
const FLAG_BYTES = 16;
const NO_BAD_INPUT = 0xffffffff;

/** Staging bytes for reading into `out`: its u64 words, then the input flag. */
function stagingBytes(out: BigUint64Array): number {
  return out.byteLength + FLAG_BYTES;
}

/** One device-resident batch of polys × K rows of N coefficients. */
export class GpuPolyBatch {
  readonly plan: GpuNtt;
  readonly polys: number;
  readonly buffer: GPUBuffer;
  nttBindGroup: GPUBindGroup | undefined;
  destroyed = false;

  constructor(plan: GpuNtt, polys: number, buffer: GPUBuffer) {
    this.plan = plan;
    this.polys = polys;
    this.buffer = buffer;
  }

  get rows(): number {
    return this.polys * this.plan.moduli.length;
  }

  destroy(): void {
    this.destroyed = true;
    this.buffer.destroy();
  }
}

export class GpuNtt {
  readonly gpu: GpuHandle;
  readonly n: number;
  readonly moduli: readonly bigint[];
  readonly wordMode: WordMode;
  /** Largest batch (in polynomials) one device buffer can hold. */
  readonly maxPolysPerBatch: number;
  private readonly pipelines: Pipelines;
  private readonly consts: GPUBuffer;
  private readonly twiddles: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly paramSlots: Map<string, number>;
  /** Smallest index of an unreduced uploaded word since the last report (NO_BAD_INPUT when none). */
  private readonly inputFlag: GPUBuffer;
  private encoder: GPUCommandEncoder | undefined;
  private readonly transient: GPUBuffer[] = [];
  private staging: GPUBuffer | undefined;
  private timing: { querySet: GPUQuerySet; used: number; capacity: number } | undefined;

  private constructor(gpu: GpuHandle, config: Required<Omit<GpuNttConfig, 'mutation'>>, pipelines: Pipelines) {
    this.gpu = gpu;
    this.n = config.n;
    this.moduli = config.moduli;
    this.wordMode = config.wordMode;
    this.pipelines = pipelines;
    const device = gpu.device;
    const usage = gpu.flags.buffer;
    // Host-width (u64) rows: u32 plans bind their upload and readback buffers at that width too.
    const bytesPerRow = this.n * 8;
    const maxRows = Math.min(MAX_DISPATCH_ROWS, Math.floor(device.limits.maxStorageBufferBindingSize / bytesPerRow));
    this.maxPolysPerBatch = Math.min(config.maxBatchPolys, Math.floor(maxRows / this.moduli.length));
    if (this.maxPolysPerBatch < 1) {
      throw new HeftyError('E_UNSUPPORTED', `N=${this.n} with ${this.moduli.length} primes exceeds GPU buffer limits`);
    }

    const k = this.moduli.length;
    const n = this.n;
    if (4 * n * k * wordBytes(this.wordMode) > device.limits.maxStorageBufferBindingSize) {
      throw new HeftyError('E_UNSUPPORTED', `NTT tables for N=${n} and ${k} primes exceed GPU buffer limits`);
    }
    const constWords = new BigUint64Array(8 * k);
    const twiddleWords = new BigUint64Array(4 * n * k);
    const bits = this.wordMode === 'u32' ? 32 : 64;
    this.moduli.forEach((q, prime) => {
      const t = nttTables(n, q);
      const wLast = (t.invRootPowers[n - 1] * t.nInv) % q;
      const r2 = (1n << BigInt(2 * bits)) % q;
      const nInvShoup = shoupQuotient(t.nInv, q, bits);
      constWords.set(
        [q, montgomeryNegInverse(q, bits), r2, t.nInv, nInvShoup, wLast, shoupQuotient(wLast, q, bits)],
        8 * prime,
      );
      const base = 4 * n * prime;
      for (let i = 0; i < n; i++) {
        twiddleWords[base + i] = t.rootPowers[i];
        twiddleWords[base + n + i] = shoupQuotient(t.rootPowers[i], q, bits);
        twiddleWords[base + 2 * n + i] = t.invRootPowers[i];
        twiddleWords[base + 3 * n + i] = shoupQuotient(t.invRootPowers[i], q, bits);
      }
    });
    this.consts = this.createFilled(this.encodeWords(constWords), usage.STORAGE);
    this.twiddles = this.createFilled(this.encodeWords(twiddleWords), usage.STORAGE);
    this.inputFlag = this.createFilled(new Uint32Array([NO_BAD_INPUT, 0, 0, 0]), usage.STORAGE | usage.COPY_SRC);

    // One uniform slot per distinct (m, m_end) dispatch, addressed by dynamic offset.
    const slots: Array<[number, number]> = [[0, 0]];
    const tile = tileSize(this.n, this.wordMode);
    for (let m = 1; m < this.n / tile; m *= 2) slots.push([m, 0]);
    slots.push([this.n / tile, this.n / tile]);
    const paramData = new Uint32Array((slots.length * PARAM_STRIDE) / 4);
    this.paramSlots = new Map();
    slots.forEach(([m, mEnd], i) => {
      paramData.set([this.n, k, m, mEnd], (i * PARAM_STRIDE) / 4);
      this.paramSlots.set(`${m}:${mEnd}`, i * PARAM_STRIDE);
    });
    this.params = this.createFilled(paramData, usage.UNIFORM);
  }

  static async create(gpu: GpuHandle, config: GpuNttConfig): Promise<GpuNtt> {
    log2Exact(config.n);
    if (config.moduli.length < 1) throw new HeftyError('E_INVALID_ARGUMENT', 'at least one modulus is required');
    const fitsU32 = config.moduli.every((q) => q < 1n << 31n);
    const wordMode = config.wordMode ?? (fitsU32 ? 'u32' : 'u64');
    if (wordMode === 'u32' && !fitsU32) {
      throw new HeftyError('E_INVALID_ARGUMENT', 'the u32 kernels need every prime below 2^31');
    }
    for (const q of config.moduli) nttTables(config.n, q); // validates primes before any device work
    const pipelines = await buildPipelines(gpu, wordMode, config.n, config.mutation ?? 'none');
    const maxBatchPolys = config.maxBatchPolys ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(maxBatchPolys) || maxBatchPolys < 1) {
      throw new HeftyError('E_INVALID_ARGUMENT', 'maxBatchPolys must be a positive integer');
    }
    return new GpuNtt(gpu, { n: config.n, moduli: [...config.moduli], wordMode, maxBatchPolys }, pipelines);
  }

  /** A zeroed device batch of `polys` polynomials. */
  allocate(polys: number): GpuPolyBatch {
    this.checkDevice();
    if (!Number.isInteger(polys) || polys < 1 || polys > this.maxPolysPerBatch) {
      throw new HeftyError('E_INVALID_ARGUMENT', `batch must hold 1..${this.maxPolysPerBatch} polynomials`);
    }
    const usage = this.gpu.flags.buffer;
    const buffer = this.gpu.device.createBuffer({
      size: polys * this.moduli.length * this.n * wordBytes(this.wordMode),
      usage: usage.STORAGE | usage.COPY_SRC | usage.COPY_DST,
    });
    return new GpuPolyBatch(this, polys, buffer);
  }

  /**
   * Copies host data (polys × K × N, every value below its prime) into a new or given device batch. The device
   * checks that every value is reduced; one that is not makes the next read() fail with E_VALUE_OUT_OF_RANGE.
   */
  upload(data: BigUint64Array, into?: GpuPolyBatch): GpuPolyBatch {
    const polys = this.polysOf(data);
    const batch = into ?? this.allocate(polys);
    this.check(batch);
    if (batch.polys !== polys) throw new HeftyError('E_LENGTH_MISMATCH', 'host data and batch sizes differ');
    this.flush(); // earlier recorded work on this batch must run before the write lands
    const queue = this.gpu.device.queue;
    const shape = new Uint32Array([this.n, this.moduli.length, 0, 0]);
    const { io, ioLayout, narrowLayout } = this.pipelines;
    if (this.wordMode === 'u64') {
      queue.writeBuffer(batch.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      this.dispatch(io.check as GPUComputePipeline, ioLayout, shape, [batch.buffer, this.inputFlag], batch.rows);
    } else {
      const usage = this.gpu.flags.buffer;
      const words = this.gpu.device.createBuffer({ size: data.byteLength, usage: usage.STORAGE | usage.COPY_DST });
      this.transient.push(words);
      queue.writeBuffer(words, 0, data.buffer, data.byteOffset, data.byteLength);
      const buffers = [words, this.inputFlag, batch.buffer];
      this.dispatch(io.narrow as GPUComputePipeline, narrowLayout, shape, buffers, batch.rows);
    }
    return batch;
  }

  /** Records the forward NTT of every row (natural order in, SEAL's bit-reversed order out). */
  forward(batch: GpuPolyBatch): void {
    this.check(batch);
    const tile = tileSize(this.n, this.wordMode);
    const pass = this.beginPass();
    const lastGlobal = this.n / tile / 2; // stages m = 1 … lastGlobal span more than a tile
    for (let m = 1; m <= lastGlobal; m *= 4) {
      if (m < lastGlobal) this.dispatchNtt(pass, batch, this.pipelines.fwdGlobal4, m, 0, 4);
      else this.dispatchNtt(pass, batch, this.pipelines.fwdGlobal, m, 0, 2);
    }
    this.dispatchNtt(pass, batch, this.pipelines.fwdTile, this.n / tile, this.n / tile);
    pass.end();
  }

  /** Records the inverse NTT of every row (exact inverse of forward, N^−1 included). */
  inverse(batch: GpuPolyBatch): void {
    this.check(batch);
    const tile = tileSize(this.n, this.wordMode);
    const pass = this.beginPass();
    this.dispatchNtt(pass, batch, this.pipelines.invTile, this.n / tile, this.n / tile);
    for (let m = this.n / tile / 2; m >= 1; m /= 4) {
      if (m > 1) this.dispatchNtt(pass, batch, this.pipelines.invGlobal4, m, 0, 4);
      else this.dispatchNtt(pass, batch, this.pipelines.invGlobal, m, 0, 2);
    }
    pass.end();
  }

  add(a: GpuPolyBatch, b: GpuPolyBatch, out: GpuPolyBatch): void {
    this.pointwise('add', a, b, out);
  }

  sub(a: GpuPolyBatch, b: GpuPolyBatch, out: GpuPolyBatch): void {
    this.pointwise('sub', a, b, out);
  }

  /** out = a ⊙ b (NTT-domain product, per prime). */
  mul(a: GpuPolyBatch, b: GpuPolyBatch, out: GpuPolyBatch): void {
    this.pointwise('mul', a, b, out);
  }

  /** acc += a ⊙ b. */
  mulAccumulate(acc: GpuPolyBatch, a: GpuPolyBatch, b: GpuPolyBatch): void {
    this.pointwise('mac', a, b, acc);
  }

  /**
   * Key-switching inner product: out poly c = Σ_j digits poly j ⊙ keys poly (j·C + c) for c < C, keys holding
   * D·C polys (digit-major, like SEAL's key-switching keys: one 2-poly ciphertext per digit). With `batches` > 1
   * the same keys serve that many inputs: digits holds batches·D polys and out batches·C, input-major.
   */
  innerProduct(digits: GpuPolyBatch, keys: GpuPolyBatch, out: GpuPolyBatch, batches = 1): void {
    for (const batch of [digits, keys, out]) this.check(batch);
    const outputs = out.polys / batches;
    const digitCount = digits.polys / batches;
    if (!Number.isInteger(outputs) || !Number.isInteger(digitCount) || keys.polys !== digitCount * outputs) {
      throw new HeftyError('E_LENGTH_MISMATCH', 'keys must hold digits × outputs polynomials (per batch)');
    }
    if (out === digits || out === keys) {
      throw new HeftyError('E_INVALID_ARGUMENT', 'the output batch must differ from the inputs (no aliasing)');
    }
    const shape = new Uint32Array([this.n, this.moduli.length, digitCount, outputs]);
    this.compute(this.pipelines.innerProduct, this.pipelines.innerProductLayout, shape, [digits, keys, out], out.rows);
  }

  /** Records a device-side copy of a whole batch into another of the same shape. */
  copy(from: GpuPolyBatch, into: GpuPolyBatch): void {
    for (const batch of [from, into]) this.check(batch);
    if (from.polys !== into.polys) throw new HeftyError('E_LENGTH_MISMATCH', 'copy needs batches of the same size');
    this.commandEncoder().copyBufferToBuffer(from.buffer, 0, into.buffer, 0, from.buffer.size);
  }

  /**
   * Records one dispatch of an extra kernel built on this plan's layout (see wgsl-key-switch.ts): binding 0 a
   * uniform with `shape`, 1 the per-prime constants, then `extra` storage buffers, then the batches in order.
   * One workgroup row per `rows`, ⌈N / WORKGROUP_SIZE⌉ workgroups across.
   */
  compute(
    pipeline: GPUComputePipeline,
    layout: GPUBindGroupLayout,
    shape: Uint32Array,
    batches: readonly GpuPolyBatch[],
    rows: number,
    extra: readonly GPUBuffer[] = [],
  ): void {
    for (const batch of batches) this.check(batch);
    this.dispatch(pipeline, layout, shape, [...extra, ...batches.map((batch) => batch.buffer)], rows);
  }

  /** A device buffer holding `words` (host values encoded in this plan's word mode), for extra kernels. */
  constantBuffer(values: BigUint64Array): GPUBuffer {
    return this.createFilled(this.encodeWords(values), this.gpu.flags.buffer.STORAGE);
  }

  private dispatch(
    pipeline: GPUComputePipeline,
    layout: GPUBindGroupLayout,
    shape: Uint32Array,
    buffers: readonly GPUBuffer[],
    rows: number,
  ): void {
    const uniform = this.createFilled(shape, this.gpu.flags.buffer.UNIFORM);
    this.transient.push(uniform);
    const bindGroup = this.gpu.device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: this.consts } },
        ...buffers.map((buffer, i) => ({ binding: 2 + i, resource: { buffer } })),
      ],
    });
    const pass = this.beginPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.n / WORKGROUP_SIZE), rows);
    pass.end();
  }

  /** Submits recorded commands without waiting. */
  flush(): void {
    if (!this.encoder) return;
    this.gpu.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
    // Per-call buffers may be destroyed once submitted: the device keeps them until the work is done.
    for (const buffer of this.transient.splice(0)) buffer.destroy();
  }

  /** Submits recorded work and resolves when the device has finished it. */
  async sync(): Promise<void> {
    this.flush();
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  /** Runs recorded work and copies the batch back into `into` (or a new array). */
  async read(batch: GpuPolyBatch, into?: BigUint64Array): Promise<BigUint64Array> {
    this.check(batch);
    const out = into ?? new BigUint64Array(batch.rows * this.n);
    if (out.length !== batch.rows * this.n) throw new HeftyError('E_LENGTH_MISMATCH', 'output array size differs');
    const size = stagingBytes(out);
    // One reusable staging buffer; a read overlapping another gets its own.
    const busy = this.staging !== undefined && this.staging.mapState !== 'unmapped';
    if (!busy && (!this.staging || this.staging.size < size)) {
      this.staging?.destroy();
      this.staging = this.createStaging(size);
    }
    const staging = busy || !this.staging ? this.createStaging(size) : this.staging;
    try {
      await this.readVia(batch, out, staging);
    } finally {
      if (staging !== this.staging) staging.destroy();
    }
    return out;
  }

  /**
   * In-place forward NTT of a host array of any number of polynomials, chunked to the device limits. A value not
   * reduced modulo its prime gives E_VALUE_OUT_OF_RANGE; chunks before the one holding it may already be written.
   */
  forwardHost(data: BigUint64Array): Promise<BigUint64Array> {
    return this.transformHost(data, (batch) => this.forward(batch));
  }

  /** In-place inverse NTT of a host array of any number of polynomials. */
  inverseHost(data: BigUint64Array): Promise<BigUint64Array> {
    return this.transformHost(data, (batch) => this.inverse(batch));
  }

  /** Starts collecting kernel timestamps (when the adapter supports them) for compute passes recorded next. */
  startKernelTiming(maxPasses = 256): boolean {
    if (!this.gpu.hasTimestamps) return false;
    this.timing?.querySet.destroy();
    const querySet = this.gpu.device.createQuerySet({ type: 'timestamp', count: 2 * maxPasses });
    this.timing = { querySet, used: 0, capacity: maxPasses };
    return true;
  }

  /** Total GPU time in ms of the passes timed since startKernelTiming(), after they ran. */
  async stopKernelTiming(): Promise<number | undefined> {
    const timing = this.timing;
    this.timing = undefined;
    if (!timing || timing.used === 0) return undefined;
    const usage = this.gpu.flags.buffer;
    const bytes = timing.used * 16;
    const resolved = this.gpu.device.createBuffer({ size: bytes, usage: usage.QUERY_RESOLVE | usage.COPY_SRC });
    const readable = this.gpu.device.createBuffer({ size: bytes, usage: usage.MAP_READ | usage.COPY_DST });
    const encoder = this.commandEncoder();
    encoder.resolveQuerySet(timing.querySet, 0, timing.used * 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readable, 0, bytes);
    this.flush();
    await readable.mapAsync(this.gpu.flags.map.READ);
    const stamps = new BigUint64Array(readable.getMappedRange());
    let nanos = 0n;
    for (let i = 0; i < timing.used; i++) nanos += stamps[2 * i + 1] - stamps[2 * i];
    readable.unmap();
    for (const buffer of [resolved, readable]) buffer.destroy();
    timing.querySet.destroy();
    return Number(nanos) / 1e6;
  }

  destroy(): void {
    this.encoder = undefined;
    const owned = [this.consts, this.twiddles, this.params, this.inputFlag, this.staging, ...this.transient.splice(0)];
    for (const buffer of owned) {
      buffer?.destroy();
    }
    this.timing?.querySet.destroy();
  }

  /**
   * Chunks alternate between two slots (device batch + staging buffer): chunk i+1 uploads and runs while chunk
   * i is read back. Tail chunks get a batch of their own size.
   */
  private async transformHost(data: BigUint64Array, record: (batch: GpuPolyBatch) => void): Promise<BigUint64Array> {
    const polys = this.polysOf(data);
    const polyWords = this.moduli.length * this.n;
    const chunkPolys = Math.min(polys, this.maxPolysPerBatch);
    const slots: Array<{ batch?: GpuPolyBatch; staging?: GPUBuffer; reading?: Promise<void> }> = [{}, {}];
    try {
      for (let first = 0, index = 0; first < polys; first += chunkPolys, index++) {
        const count = Math.min(chunkPolys, polys - first);
        const slot = slots[index % 2];
        await slot.reading; // this slot's previous chunk is back on the host
        if (slot.batch?.polys !== count) {
          slot.batch?.destroy();
          slot.batch = this.allocate(count);
        }
        slot.staging ??= this.createStaging(stagingBytes(data.subarray(0, count * polyWords)));
        const view = data.subarray(first * polyWords, (first + count) * polyWords);
        this.upload(view, slot.batch);
        record(slot.batch);
        slot.reading = this.readVia(slot.batch, view, slot.staging);
      }
      for (const slot of slots) await slot.reading;
    } finally {
      await Promise.allSettled(slots.map((slot) => slot.reading));
      for (const slot of slots) {
        slot.batch?.destroy();
        slot.staging?.destroy();
      }
    }
    return data;
  }

  /**
   * Copies the batch as u64 words (widened on the device for u32 plans) and the input flag into `staging`,
   * submits, and copies the words into `out` unless an uploaded value was not reduced.
   */
  private async readVia(batch: GpuPolyBatch, out: BigUint64Array, staging: GPUBuffer): Promise<void> {
    const bytes = out.byteLength;
    if (this.wordMode === 'u64') {
      this.commandEncoder().copyBufferToBuffer(batch.buffer, 0, staging, 0, bytes);
    } else {
      const usage = this.gpu.flags.buffer;
      const wide = this.gpu.device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_SRC });
      this.transient.push(wide);
      const shape = new Uint32Array([this.n, this.moduli.length, 0, 0]);
      const widen = this.pipelines.io.widen as GPUComputePipeline;
      this.dispatch(widen, this.pipelines.ioLayout, shape, [batch.buffer, wide], batch.rows);
      this.commandEncoder().copyBufferToBuffer(wide, 0, staging, 0, bytes);
    }
    this.commandEncoder().copyBufferToBuffer(this.inputFlag, 0, staging, bytes, FLAG_BYTES);
    this.flush();
    try {
      await staging.mapAsync(this.gpu.flags.map.READ, 0, bytes + FLAG_BYTES);
    } catch (error) {
      throw new HeftyError('E_BACKEND_UNAVAILABLE', `GPU readback failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const bad = new Uint32Array(staging.getMappedRange(bytes, FLAG_BYTES))[0];
    if (bad === NO_BAD_INPUT) {
      new Uint32Array(out.buffer, out.byteOffset, bytes / 4).set(new Uint32Array(staging.getMappedRange(0, bytes)));
    }
    staging.unmap();
    if (bad !== NO_BAD_INPUT) {
      this.gpu.device.queue.writeBuffer(this.inputFlag, 0, new Uint32Array([NO_BAD_INPUT]));
      throw new HeftyError(
        'E_VALUE_OUT_OF_RANGE',
        `an uploaded coefficient (index ${bad}) is not reduced modulo its prime`,
      );
    }
  }

  private createStaging(size: number): GPUBuffer {
    const usage = this.gpu.flags.buffer;
    return this.gpu.device.createBuffer({ size, usage: usage.MAP_READ | usage.COPY_DST });
  }

  private pointwise(op: PointwiseOp, a: GpuPolyBatch, b: GpuPolyBatch, out: GpuPolyBatch): void {
    for (const batch of [a, b, out]) this.check(batch);
    if (a.polys !== out.polys || b.polys !== out.polys) {
      throw new HeftyError('E_LENGTH_MISMATCH', 'pointwise operands must hold the same number of polynomials');
    }
    if (out === a || out === b) {
      throw new HeftyError('E_INVALID_ARGUMENT', 'the output batch must differ from the inputs (no aliasing)');
    }
    const bindGroup = this.gpu.device.createBindGroup({
      layout: this.pipelines.pointwiseLayout,
      entries: [
        { binding: 0, resource: { buffer: this.params, size: 16 } },
        { binding: 1, resource: { buffer: this.consts } },
        { binding: 2, resource: { buffer: a.buffer } },
        { binding: 3, resource: { buffer: b.buffer } },
        { binding: 4, resource: { buffer: out.buffer } },
      ],
    });
    const pass = this.beginPass();
    pass.setPipeline(this.pipelines.pointwise[op]);
    pass.setBindGroup(0, bindGroup, [0]);
    pass.dispatchWorkgroups(Math.ceil(this.n / WORKGROUP_SIZE), out.rows);
    pass.end();
  }

  private dispatchNtt(
    pass: GPUComputePassEncoder,
    batch: GpuPolyBatch,
    pipeline: GPUComputePipeline,
    m: number,
    mEnd: number,
    radix = 2,
  ): void {
    const tiled = mEnd !== 0;
    batch.nttBindGroup ??= this.gpu.device.createBindGroup({
      layout: this.pipelines.nttLayout,
      entries: [
        { binding: 0, resource: { buffer: this.params, size: 16 } },
        { binding: 1, resource: { buffer: this.consts } },
        { binding: 2, resource: { buffer: this.twiddles } },
        { binding: 3, resource: { buffer: batch.buffer } },
      ],
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, batch.nttBindGroup, [this.paramSlots.get(`${m}:${mEnd}`) ?? 0]);
    const x = tiled ? this.n / tileSize(this.n, this.wordMode) : Math.ceil(this.n / radix / WORKGROUP_SIZE);
    pass.dispatchWorkgroups(x, batch.rows);
  }

  private beginPass(): GPUComputePassEncoder {
    const timing = this.timing;
    if (timing && timing.used < timing.capacity) {
      const slot = timing.used++;
      return this.commandEncoder().beginComputePass({
        timestampWrites: {
          querySet: timing.querySet,
          beginningOfPassWriteIndex: 2 * slot,
          endOfPassWriteIndex: 2 * slot + 1,
        },
      });
    }
    return this.commandEncoder().beginComputePass();
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.gpu.device.createCommandEncoder();
    return this.encoder;
  }

  private checkDevice(): void {
    if (this.gpu.lost) throw new HeftyError('E_BACKEND_UNAVAILABLE', 'the GPU device was lost or released');
  }

  private check(batch: GpuPolyBatch): void {
    this.checkDevice();
    if (batch.plan !== this) throw new HeftyError('E_PARAMS_MISMATCH', 'the batch belongs to another GPU NTT plan');
    if (batch.destroyed) throw new HeftyError('E_DISPOSED', 'the GPU batch was destroyed');
  }

  private polysOf(data: BigUint64Array): number {
    const polyWords = this.moduli.length * this.n;
    if (!(data instanceof BigUint64Array) || data.length === 0 || data.length % polyWords !== 0) {
      throw new HeftyError('E_LENGTH_MISMATCH', `data must be a BigUint64Array of polys × ${polyWords} values`);
    }
    return data.length / polyWords;
  }

  private encodeWords(values: BigUint64Array): Uint32Array {
    if (this.wordMode === 'u64') return new Uint32Array(values.buffer);
    return Uint32Array.from(values, (v) => Number(v));
  }

  private createFilled(words: Uint32Array, usage: number): GPUBuffer {
    const buffer = this.gpu.device.createBuffer({
      size: Math.max(16, words.byteLength),
      usage: usage | this.gpu.flags.buffer.COPY_DST,
    });
    this.gpu.device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
    return buffer;
  }
}

/**
 * A GPU NTT plan on the shared device, or null when no device is available (HEFTY_GPU=auto/off), so the caller
 * stays on the CPU path. With HEFTY_GPU=on a missing device is an E_BACKEND_UNAVAILABLE error.
 */
export async function createGpuNtt(config: GpuNttConfig, options: GpuOptions = {}): Promise<GpuNtt | null> {
  const mode = options.mode ?? gpuModeFromEnv();
  const acquisition = await acquireGpu({ ...options, mode });
  if (!acquisition.ok || acquisition.gpu.lost) {
    if (mode === 'on') {
      const reason = acquisition.ok ? 'the GPU device was lost' : acquisition.reason;
      throw new HeftyError('E_BACKEND_UNAVAILABLE', `HEFTY_GPU=on but ${reason}`);
    }
    return null;
  }
  return GpuNtt.create(acquisition.gpu, config);
}
