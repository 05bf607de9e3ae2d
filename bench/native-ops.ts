/**
 * Native engine vs node-seal, per CKKS operation, from one run: median time of each op on each engine and
 * the speed-up ratio (node-seal time / native time). The native engine is measured single-threaded and with
 * 2 intra-op threads; the three are sampled round-robin so machine load affects them alike. Ops with a speed
 * target show it next to the ratio (✓ met, ✗ missed), and a column gives the ratio SEAL with Intel HEXL reaches
 * over node-seal on the op (issue 17's target).
 * Usage: `node bench/native-ops.ts [--quick]`.
 */
import os from 'node:os';
import { writeRatioChart } from './ratio-chart.ts';
import { HEXL_TARGETS, TARGETS } from './speed-targets.ts';
import { createWasmBackend } from '../src/backend/wasm.ts';
import { createNativeBackend, type NativeBackend } from '../src/backend/native.ts';
import type * as B from '../src/backend/types.ts';

interface Row {
  n: number;
  op: string;
  sealUs: number;
  native1Us: number;
  native2Us: number;
}

const CHAINS: Record<number, number[]> = {
  8192: [60, 40, 40, 60],
  16384: [60, 40, 40, 40, 40, 40, 40, 60],
};

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

type OpTable = Record<string, () => unknown>;

function operations(backend: B.Backend, n: number): { ops: OpTable; dispose: () => void } {
  const params: B.ParamsSpec = {
    scheme: 'ckks',
    polyModulusDegree: n,
    coeffModulus: backend.coeffModulusCreate(n, CHAINS[n]),
  };
  const ctx = backend.createContext(params, 128);
  const gen = ctx.createKeyGenerator();
  const sk = gen.secretKey();
  const pk = gen.createPublicKey();
  const rk = gen.createRelinKeys();
  const gk = gen.createGaloisKeys([1]);
  const encoder = ctx.createCkksEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: pk, secretKey: sk });
  const decryptor = ctx.createDecryptor(sk);
  const ev = ctx.createEvaluator();
  const values = Float64Array.from({ length: n / 2 }, (_, i) => Math.sin(i));
  const scale = 2 ** 40;
  const plain = encoder.encode(values, scale);
  const ct = encryptor.encrypt(plain);
  const ct2 = encryptor.encrypt(plain);
  const product = ev.multiply(ct, ct2);
  const relin = ev.relinearize(product, rk);
  const saveTarget = new Uint8Array(ct.savedSize());
  const ops: OpTable = {
    encode: () => encoder.encode(values, scale),
    encrypt: () => encryptor.encrypt(plain),
    decrypt: () => decryptor.decrypt(ct),
    multiply: () => ev.multiply(ct, ct2),
    relinearize: () => ev.relinearize(product, rk),
    rescale: () => ev.rescaleToNext(relin),
    rotate: () => ev.rotateVector(ct, 1, gk),
    multiply_plain: () => ev.multiplyPlain(ct, plain),
    add: () => ev.add(ct, ct2),
    serialize: () => ct.save(),
    // SEAL's save into a caller's buffer, reused call after call (node-seal can only save and copy over).
    serialize_into: () => ct.saveInto(saveTarget),
    keygen: () => {
      const g = ctx.createKeyGenerator();
      const keys = [g.secretKey(), g.createPublicKey(), g.createRelinKeys()];
      for (const k of keys) k.dispose();
      g.dispose();
    },
  };
  const owned: B.Owned[] = [
    gen,
    sk,
    pk,
    rk,
    gk,
    encoder,
    encryptor,
    decryptor,
    ev,
    plain,
    ct,
    ct2,
    product,
    relin,
    ctx,
  ];
  return { ops, dispose: () => owned.forEach((o) => o.dispose()) };
}

interface Engine {
  label: 'seal' | 'native1' | 'native2';
  ops: OpTable;
  before: () => void;
}

/**
 * Samples every engine round-robin (seal, native 1 thread, native 2 threads, seal, ...) so that load changes on
 * a shared machine hit all three alike. Each sample runs the op once untimed first, so every engine is timed
 * right after its own op (not after another engine's, which would leave its caches colder or warmer than the
 * others'); each engine's time is the median of its samples.
 */
function measureOp(engines: Engine[], op: string, quick: boolean): Record<Engine['label'], number> {
  const heavy = op === 'keygen';
  const budgetMs = quick ? 300 : heavy ? 3000 : 1500;
  const samples: Record<string, number[]> = { seal: [], native1: [], native2: [] };
  const run = (e: Engine): number => {
    const t0 = performance.now();
    const result = e.ops[op]();
    const us = (performance.now() - t0) * 1000;
    (result as { dispose?: () => void } | undefined)?.dispose?.();
    return us;
  };
  const start = performance.now();
  while ((samples.seal.length < 5 || performance.now() - start < budgetMs) && samples.seal.length < 200) {
    for (const e of engines) {
      e.before();
      run(e);
      samples[e.label].push(run(e));
    }
  }
  return { seal: median(samples.seal), native1: median(samples.native1), native2: median(samples.native2) };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0];
  const quick = process.argv.includes('--quick');
  const seal = await createWasmBackend();
  const native: NativeBackend = await createNativeBackend();
  const rows: Row[] = [];
  for (const n of [8192, 16384]) {
    const sealSide = operations(seal, n);
    const nativeSide = operations(native, n);
    const engines: Engine[] = [
      { label: 'seal', ops: sealSide.ops, before: () => {} },
      { label: 'native1', ops: nativeSide.ops, before: () => native.setThreads(1) },
      { label: 'native2', ops: nativeSide.ops, before: () => native.setThreads(2) },
    ];
    for (const op of Object.keys(sealSide.ops)) {
      const t = measureOp(engines, op, quick);
      rows.push({ n, op, sealUs: t.seal, native1Us: t.native1, native2Us: t.native2 });
    }
    sealSide.dispose();
    nativeSide.dispose();
  }
  native.setThreads(0);
  const fmt = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
  const ratio = (seal: number, native: number, target: number | undefined): string =>
    `${(seal / native).toFixed(2)}×${target === undefined ? '' : seal / native >= target ? ` (≥${target} ✓)` : ` (≥${target} ✗)`}`;
  // The 2-thread column needs a second idle core: say how busy the machine was.
  console.log(
    `${os.availableParallelism()} cores; 1-minute load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end\n`,
  );
  const chart = writeRatioChart(
    'native-ops',
    {
      title: 'hefty native engine vs node-seal (WASM), per CKKS operation',
      note: `median times, one run; ${os.availableParallelism()} cores, load ${loadBefore.toFixed(1)}; ${new Date().toISOString().slice(0, 10)}`,
      series: ['native, 1 thread', 'native, 2 threads'],
      rows: rows.map((r) => ({ label: `N=${r.n} ${r.op}`, ratios: [r.sealUs / r.native1Us, r.sealUs / r.native2Us] })),
    },
    new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-'),
  );
  console.log(`chart: ${chart}\n`);
  console.log(
    '| N | op | node-seal | native 1 thread | ratio | HEXL-level target (1 thread) | native 2 threads | ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const t = TARGETS[r.op];
    const hexl = HEXL_TARGETS[r.n]?.[r.op];
    const hexlMark = hexl === undefined ? '' : `≥${hexl} ${r.sealUs / r.native1Us >= hexl ? '✓' : '✗'}`;
    console.log(
      `| ${r.n} | ${r.op} | ${fmt(r.sealUs)} | ${fmt(r.native1Us)} | ${ratio(r.sealUs, r.native1Us, t?.single)} | ${hexlMark} | ${fmt(r.native2Us)} | ${ratio(r.sealUs, r.native2Us, t?.twoThreads)} |`,
    );
  }
}

await main();
