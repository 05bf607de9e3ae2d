/**
 * The cost of crossing the JS ↔ addon boundary, from one run: ops whose C++ work is small (CKKS and BFV add at
 * N=1024, where the boundary dominates; add at 8192 and 16384) and the BFV/BGV batch encoder (whose slot values
 * cross as typed arrays), native vs node-seal, sampled round-robin. Each sample times a batch of calls, so
 * microsecond ops are measured above the timer's resolution; the minimum over samples is the figure that stays
 * close to the uncontended time on a loaded machine.
 * Usage: `node bench/native-boundary.ts [--root=<hefty checkout>]` (--root times another checkout, e.g. main,
 * for a before/after comparison in one process).
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as B from '../src/backend/types.ts';

const rootArg = process.argv.find((a) => a.startsWith('--root='));
const root = rootArg ? path.resolve(rootArg.slice('--root='.length)) : path.resolve(import.meta.dirname, '..');
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, file)).href)) as T;
const { createNativeBackend } = await load<typeof import('../src/backend/native.ts')>('src/backend/native.ts');
const { createWasmBackend } = await load<typeof import('../src/backend/wasm.ts')>('src/backend/wasm.ts');

type Ops = Record<string, () => unknown>;
const release = (result: unknown): void => (result as { dispose?: () => void } | undefined)?.dispose?.();

function ckksOps(backend: B.Backend, n: number): Ops {
  const bits = n === 1024 ? [27] : n === 8192 ? [60, 40, 40, 60] : [60, 40, 40, 40, 40, 40, 40, 60];
  const ctx = backend.createContext(
    { scheme: 'ckks', polyModulusDegree: n, coeffModulus: backend.coeffModulusCreate(n, bits) },
    n === 1024 ? 'none' : 128,
  );
  const encoder = ctx.createCkksEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: ctx.createKeyGenerator().createPublicKey() });
  const evaluator = ctx.createEvaluator();
  const plain = encoder.encode(
    Float64Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i)),
    2 ** 20,
  );
  const a = encryptor.encrypt(plain);
  const b = encryptor.encrypt(plain);
  return { [`ckks add N=${n}`]: () => evaluator.add(a, b) };
}

function integerOps(backend: B.Backend, scheme: B.Scheme, n: number): Ops {
  const ctx = backend.createContext(
    {
      scheme,
      polyModulusDegree: n,
      coeffModulus: backend.coeffModulusBfvDefault(n, 128),
      plainModulus: backend.plainModulusBatching(n, 20),
    },
    128,
  );
  const encoder = ctx.createBatchEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: ctx.createKeyGenerator().createPublicKey() });
  const evaluator = ctx.createEvaluator();
  const values = BigInt64Array.from({ length: n }, (_, i) => BigInt((i % 1001) - 500));
  const plain = encoder.encode(values);
  const a = encryptor.encrypt(plain);
  const b = encryptor.encrypt(plain);
  const ops: Ops = {
    [`${scheme} encode N=${n}`]: () => encoder.encode(values),
    [`${scheme} decode N=${n}`]: () => encoder.decode(plain),
  };
  if (n === 1024 || n === 8192) ops[`${scheme} add N=${n}`] = () => evaluator.add(a, b);
  return ops;
}

function suite(backend: B.Backend): Ops {
  return {
    ...ckksOps(backend, 1024),
    ...ckksOps(backend, 8192),
    ...ckksOps(backend, 16384),
    ...integerOps(backend, 'bfv', 1024),
    ...integerOps(backend, 'bfv', 8192),
    ...integerOps(backend, 'bfv', 16384),
    ...integerOps(backend, 'bgv', 8192),
    ...integerOps(backend, 'bgv', 16384),
  };
}

/** Microseconds per call of one batch of `calls` calls. */
function sample(fn: () => unknown, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) release(fn());
  return ((performance.now() - t0) * 1000) / calls;
}

const native = await createNativeBackend();
native.setThreads(1);
const seal = await createWasmBackend();
const nativeOps = suite(native);
const sealOps = suite(seal);
console.log(
  `root ${root}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('| op | native min | node-seal min | ratio (min) |');
console.log('|---|---|---|---|');
for (const op of Object.keys(nativeOps)) {
  const calls = Math.max(1, Math.round(2000 / sample(nativeOps[op], 3)));
  const times = { native: [] as number[], seal: [] as number[] };
  const start = performance.now();
  while (times.native.length < 5 || (performance.now() - start < 1500 && times.native.length < 50)) {
    times.native.push(sample(nativeOps[op], calls));
    times.seal.push(sample(sealOps[op], Math.max(1, Math.round(calls / 4))));
  }
  const nativeMin = Math.min(...times.native);
  const sealMin = Math.min(...times.seal);
  console.log(
    `| ${op} | ${nativeMin.toFixed(2)} µs | ${sealMin.toFixed(2)} µs | ${(sealMin / nativeMin).toFixed(2)}× |`,
  );
}
console.log(
  `load average after ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
