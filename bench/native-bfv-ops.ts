/**
 * Native engine vs node-seal, per BFV and BGV operation, from one run: median time of each op on each engine and
 * the speed-up ratio (node-seal time / native time), the native engine single-threaded. The two are sampled
 * round-robin so machine load affects them alike. Ops with a speed target show it next to the ratio. The fastest
 * sample of each engine is shown too: on a loaded shared machine medians mostly measure preemption, while the
 * minimum stays close to the uncontended time.
 * A scheme the WASM backend does not serve is skipped with a note.
 * Usage: `node bench/native-bfv-ops.ts [--quick] [--schemes=bfv,bgv]` (or `npm run bench -- --only=native-bfv-ops`).
 */
import os from 'node:os';
import { createWasmBackend } from '../src/backend/wasm.ts';
import { createNativeBackend, type NativeBackend } from '../src/backend/native.ts';
import type * as B from '../src/backend/types.ts';

/** The issue's single-threaded speed targets (node-seal time / native time). */
const TARGETS: Record<string, number> = {
  'multiply+relinearize': 4,
  rotate_rows: 4,
  multiply_plain: 5,
};

type OpTable = Record<string, () => unknown>;

function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function operations(backend: B.Backend, scheme: B.Scheme, n: number): { ops: OpTable; dispose: () => void } {
  const ctx = backend.createContext(
    {
      scheme,
      polyModulusDegree: n,
      coeffModulus: backend.coeffModulusBfvDefault(n, 128),
      plainModulus: backend.plainModulusBatching(n, 20),
    },
    128,
  );
  const gen = ctx.createKeyGenerator();
  const sk = gen.secretKey();
  const pk = gen.createPublicKey();
  const rk = gen.createRelinKeys();
  const gk = gen.createGaloisKeys([1]);
  const encoder = ctx.createBatchEncoder();
  const encryptor = ctx.createEncryptor({ publicKey: pk, secretKey: sk });
  const decryptor = ctx.createDecryptor(sk);
  const ev = ctx.createEvaluator();
  const values = BigInt64Array.from({ length: n }, (_, i) => BigInt((i % 1001) - 500));
  const plain = encoder.encode(values);
  const ct = encryptor.encrypt(plain);
  const ct2 = encryptor.encrypt(plain);
  const product = ev.multiply(ct, ct2);
  const dispose = (x: B.Owned): void => x.dispose();
  const ops: OpTable = {
    encode: () => encoder.encode(values),
    encrypt: () => encryptor.encrypt(plain),
    decrypt: () => decryptor.decrypt(ct),
    multiply: () => ev.multiply(ct, ct2),
    relinearize: () => ev.relinearize(product, rk),
    'multiply+relinearize': () => {
      const p = ev.multiply(ct, ct2);
      const r = ev.relinearize(p, rk);
      dispose(p);
      return r;
    },
    multiply_plain: () => ev.multiplyPlain(ct, plain),
    rotate_rows: () => ev.rotateRows(ct, 1, gk),
    add: () => ev.add(ct, ct2),
    mod_switch: () => ev.modSwitchToNext(ct),
  };
  const owned: B.Owned[] = [gen, sk, pk, rk, gk, encoder, encryptor, decryptor, ev, plain, ct, ct2, product, ctx];
  return { ops, dispose: () => owned.forEach(dispose) };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0];
  const quick = process.argv.includes('--quick');
  const seal = await createWasmBackend();
  const native: NativeBackend = await createNativeBackend();
  native.setThreads(1);
  const schemesArg = process.argv.find((a) => a.startsWith('--schemes='));
  const schemes = (schemesArg ? schemesArg.slice('--schemes='.length).split(',') : ['bfv', 'bgv']) as B.Scheme[];
  const rows: {
    scheme: B.Scheme;
    n: number;
    op: string;
    sealUs: number;
    nativeUs: number;
    sealMin: number;
    nativeMin: number;
  }[] = [];
  const skipped = schemes.filter((scheme) => !seal.capabilities.schemes.includes(scheme));
  for (const [scheme, n] of schemes
    .filter((s) => !skipped.includes(s))
    .flatMap((s) => [8192, 16384].map((m) => [s, m] as const))) {
    const sealSide = operations(seal, scheme, n);
    const nativeSide = operations(native, scheme, n);
    for (const op of Object.keys(sealSide.ops)) {
      const samples = { seal: [] as number[], native: [] as number[] };
      const release = (result: unknown): void => (result as { dispose?: () => void } | undefined)?.dispose?.();
      const time = (fn: () => unknown): number => {
        release(fn()); // untimed: the op runs right after its own engine's previous run
        const t0 = performance.now();
        const result = fn();
        const us = (performance.now() - t0) * 1000;
        release(result);
        return us;
      };
      const budgetMs = quick ? 300 : 1500;
      const start = performance.now();
      while ((samples.seal.length < 5 || performance.now() - start < budgetMs) && samples.seal.length < 200) {
        samples.seal.push(time(sealSide.ops[op]));
        samples.native.push(time(nativeSide.ops[op]));
      }
      rows.push({
        scheme,
        n,
        op,
        sealUs: median(samples.seal),
        nativeUs: median(samples.native),
        sealMin: Math.min(...samples.seal),
        nativeMin: Math.min(...samples.native),
      });
    }
    sealSide.dispose();
    nativeSide.dispose();
  }
  native.setThreads(0);
  const fmt = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
  console.log(
    `${os.availableParallelism()} cores; 1-minute load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end\n`,
  );
  for (const scheme of skipped) console.log(`${scheme}: skipped (the WASM backend does not serve it)\n`);
  const ratio = (seal: number, native: number, target: number | undefined): string => {
    const x = seal / native;
    return `${x.toFixed(2)}×${target === undefined ? '' : x >= target ? ` (≥${target} ✓)` : ` (≥${target} ✗)`}`;
  };
  console.log(
    '| scheme | N | op | node-seal median | native median | ratio | node-seal min | native min | ratio of mins |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const target = TARGETS[r.op];
    console.log(
      `| ${r.scheme} | ${r.n} | ${r.op} | ${fmt(r.sealUs)} | ${fmt(r.nativeUs)} | ${ratio(r.sealUs, r.nativeUs, target)} | ${fmt(r.sealMin)} | ${fmt(r.nativeMin)} | ${ratio(r.sealMin, r.nativeMin, target)} |`,
    );
  }
}

await main();
