/**
 * Programs and the pool with GPU key switching (src/api/key-switching.ts → src/gpu/batch-evaluator.ts), run in a
 * child process like gpu-checks.ts (Dawn needs its environment before it loads):
 *
 *   node test/gpu/program-checks.ts run          → with an adapter: gpu 'on' against 'off', in-process and in a pool worker
 *   node test/gpu/program-checks.ts no-adapter   → gpu 'auto' (and 'on') without any adapter
 * Every output's bytes must equal the CPU-only run's (same key set, same input ciphertexts); outputs also decrypt
 * to the float64 reference.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, loadContext, type HeftyContext } from '../../src/api/context.ts';
import type { CKKSVector } from '../../src/api/ckks-vector.ts';
import type { Program } from '../../src/api/program.ts';
import { BatchKeySwitcher, type KeySwitchStats } from '../../src/api/key-switching.ts';
import { createBatchEvaluator } from '../../src/gpu/batch-evaluator.ts';
import type { GpuMode } from '../../src/gpu/device.ts';
import type { KeySwitchMutation } from '../../src/gpu/wgsl-key-switch.ts';
import { acquireGpu, releaseGpu } from '../../src/gpu/device.ts';
import { createPool } from '../../src/pool/pool.ts';
import { HeftyError } from '../../src/errors.ts';

const N = 8192;
const SLOTS = N / 2;
/** Three chunks: the last one partly filled. */
const LENGTH = 2 * SLOTS + 37;

const PROGRAM: Program = {
  inputs: { x: 'vector', y: 'vector', r: 'vector', m: 'matrix' },
  steps: [
    { out: 'product', op: 'mul', args: ['x', 'y'] },
    { out: 'squared', op: 'square', args: ['x'] },
    { out: 'rotated', op: 'rotate', args: ['r'], steps: 3 },
    { out: 'total', op: 'sum', args: ['product'] },
    { out: 'inner', op: 'dot', args: ['x', 'y'] },
    { out: 'rows', op: 'matvec', args: ['x'], matrix: 'm' },
    { out: 'poly', op: 'polyval', args: ['x'], coeffs: [0.5, 1, 0.25] },
  ],
  outputs: ['product', 'squared', 'rotated', 'total', 'inner', 'rows', 'poly'],
};

interface Fixture {
  client: HeftyContext;
  keySet: Uint8Array;
  inputs: { x: Uint8Array; y: Uint8Array; r: Uint8Array };
  matrix: number[][];
  plain: { x: Float64Array; y: Float64Array; r: Float64Array };
}

const value = (seed: number, i: number) => Math.sin(seed * 7.1 + i * 0.37) * 0.9;

async function fixture(): Promise<Fixture> {
  // 30-bit primes (u32 kernels, the faster ones on a CPU device) with room for polyval's two levels.
  const client = await createContext({
    scheme: 'ckks',
    polyModulusDegree: N,
    coeffModulusBits: [30, 30, 30, 30, 30],
    backend: 'native',
    gpu: 'off',
  });
  client.keygen({ galois: client.requiredGaloisSteps(PROGRAM) });
  const plain = {
    x: Float64Array.from({ length: LENGTH }, (_, i) => value(1, i)),
    y: Float64Array.from({ length: LENGTH }, (_, i) => value(2, i)),
    r: Float64Array.from({ length: SLOTS }, (_, i) => value(3, i)),
  };
  const bytes = (v: Float64Array) => {
    const vector = client.encrypt(v);
    try {
      return vector.serialize();
    } finally {
      vector.dispose();
    }
  };
  const matrix = [0, 1].map((row) => Array.from({ length: LENGTH }, (_, i) => value(10 + row, i) / 64));
  const { encodeKeySet } = await import('../../src/api/bundle.ts');
  return {
    client,
    keySet: encodeKeySet(client.exportKeySet()),
    inputs: { x: bytes(plain.x), y: bytes(plain.y), r: bytes(plain.r) },
    matrix,
    plain,
  };
}

/** Runs the program in a public context with this GPU mode: output bytes and the key switcher's counters. */
async function runIn(f: Fixture, gpu: GpuMode, mutation?: KeySwitchMutation) {
  const ctx = await loadContext(f.keySet, { backend: 'native', gpu });
  if (mutation) {
    const batch = await createBatchEvaluator(ctx.session.ctx, { mode: 'on', mutation, log: () => {} });
    ctx.session.useKeySwitcher(new BatchKeySwitcher(batch));
  }
  const loaded = Object.entries(f.inputs).map(([name, b]) => [name, ctx.loadVector(b) as CKKSVector] as const);
  try {
    const outputs = await ctx.run(PROGRAM, { ...Object.fromEntries(loaded), m: f.matrix });
    const bytes = Object.fromEntries(Object.entries(outputs).map(([name, v]) => [name, v.serialize()]));
    for (const v of Object.values(outputs)) v.dispose();
    const switcher = await ctx.session.keySwitcher();
    return { bytes, device: switcher.device, stats: { ...switcher.stats } as KeySwitchStats };
  } finally {
    for (const [, v] of loaded) v.dispose();
    ctx.dispose();
  }
}

function sameBytes(a: Record<string, Uint8Array>, b: Record<string, Uint8Array>, what: string): void {
  for (const name of PROGRAM.outputs) {
    const [x, y] = [a[name], b[name]];
    if (!x || !y || x.length !== y.length || !x.every((byte, i) => byte === y[i]))
      throw new Error(`${what}: output "${name}" differs from the CPU-only run`);
  }
}

/** The outputs decrypt to the float64 reference. */
function checkValues(f: Fixture, bytes: Record<string, Uint8Array>): void {
  const { x, y, r } = f.plain;
  const got = (name: string) => (f.client.loadVector(bytes[name]) as CKKSVector).decrypt({ protection: 'raw' });
  const dot = x.reduce((acc, v, i) => acc + v * y[i], 0);
  const expected: Record<string, number[]> = {
    product: Array.from(x, (v, i) => v * y[i]),
    squared: Array.from(x, (v) => v * v),
    rotated: Array.from(r, (_, i) => r[(i + 3) % SLOTS]),
    total: [dot],
    inner: [dot],
    rows: f.matrix.map((row) => row.reduce((acc, v, i) => acc + v * x[i], 0)),
    poly: Array.from(x, (v) => 0.5 + v + 0.25 * v * v),
  };
  for (const [name, want] of Object.entries(expected)) {
    const values = got(name);
    const tolerance = name === 'total' || name === 'inner' ? 0.5 : 0.02;
    want.forEach((w, i) => {
      if (!(Math.abs(values[i] - w) <= tolerance))
        throw new Error(`output "${name}"[${i}] decrypts to ${values[i]}, expected ${w}`);
    });
  }
}

async function runPoolWith(f: Fixture, options: { gpu?: GpuMode }) {
  const pool = await createPool({ workers: 1, threadsPerWorker: 1, backend: 'native', ...options });
  try {
    const keySet = await pool.addKeySet(f.keySet);
    const [result] = await pool.runBatch(keySet, PROGRAM, [{ ...f.inputs, m: f.matrix }]);
    if (result instanceof HeftyError) return { error: result.code };
    return { bytes: result.outputs };
  } finally {
    await pool.close();
  }
}

type Outcome = { ok: true; detail?: unknown } | { ok: false; error: string };

async function check(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, detail: await run() };
  } catch (error) {
    return { ok: false, error: String((error as Error).stack ?? error) };
  }
}

export interface ProgramCheckReport {
  adapter: string | null;
  reason?: string;
  results: Record<string, Outcome>;
}

async function runChecks(): Promise<ProgramCheckReport> {
  const acquisition = await acquireGpu({ mode: 'auto', log: () => {} });
  if (!acquisition.ok) return { adapter: null, reason: acquisition.reason, results: {} };
  const f = await fixture();
  const results: Record<string, Outcome> = {};
  try {
    const cpu = await runIn(f, 'off');
    results.cpu = await check(async () => {
      checkValues(f, cpu.bytes);
      if (cpu.device !== null || cpu.stats.gpuRequests !== 0) throw new Error('gpu off used a device');
      return cpu.stats;
    });
    results.gpu = await check(async () => {
      const gpu = await runIn(f, 'on');
      sameBytes(gpu.bytes, cpu.bytes, 'HEFTY_GPU=on');
      return { device: gpu.device, stats: gpu.stats };
    });
    results.mutation = await check(async () => {
      const broken = await runIn(f, 'off', 'floor-division');
      const differing = PROGRAM.outputs.filter((name) => {
        const [x, y] = [broken.bytes[name], cpu.bytes[name]];
        return x.length !== y.length || x.some((byte, i) => byte !== y[i]);
      });
      if (broken.stats.gpuRequests !== broken.stats.requests) throw new Error('the broken kernel was not used');
      return { differing };
    });
    results.pool = await check(async () => {
      process.env.HEFTY_GPU = 'on'; // the pool's default comes from the environment
      const pooled = await runPoolWith(f, {});
      if (!pooled.bytes) throw new Error(`pool item failed: ${pooled.error}`);
      sameBytes(pooled.bytes, cpu.bytes, 'pool worker with HEFTY_GPU=on');
      return {};
    });
  } finally {
    f.client.dispose();
  }
  return { adapter: acquisition.gpu.adapterDescription, results };
}

async function runNoAdapter(): Promise<Record<string, Outcome>> {
  const f = await fixture();
  try {
    const cpu = await runIn(f, 'off');
    return {
      auto: await check(async () => {
        const auto = await runIn(f, 'auto');
        sameBytes(auto.bytes, cpu.bytes, 'HEFTY_GPU=auto without an adapter');
        return { device: auto.device, gpuRequests: auto.stats.gpuRequests };
      }),
      on: await check(async () => {
        try {
          await runIn(f, 'on');
        } catch (error) {
          return { code: (error as HeftyError).code };
        }
        throw new Error('gpu on without an adapter ran');
      }),
      poolAuto: await check(async () => {
        const pooled = await runPoolWith(f, { gpu: 'auto' });
        if (!pooled.bytes) throw new Error(`pool item failed: ${pooled.error}`);
        sameBytes(pooled.bytes, cpu.bytes, 'pool worker with HEFTY_GPU=auto, no adapter');
        return {};
      }),
      poolOn: await check(async () => runPoolWith(f, { gpu: 'on' })),
    };
  } finally {
    f.client.dispose();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  const report = command === 'no-adapter' ? await runNoAdapter() : await runChecks();
  await releaseGpu();
  process.stdout.write(`\n@@RESULT ${JSON.stringify(report)}\n`);
}
