/**
 * The distributed mode (Redis + BullMQ), from one run:
 *  1. scaling: the same N=8192 dot-product batch answered by 1 and by 2 `hefty worker` processes (1 evaluation
 *     thread, 1 intra-op thread each), alternated over rounds so machine load affects both alike; median items/s
 *     and the ratio (target ≥ 1.7×). Each worker process gets one CPU of its own (taskset, where the machine has
 *     one per worker), as a 1-CPU container would: a lone worker must not borrow the second worker's CPU for its
 *     I/O thread and garbage collector. The API side (this process) and Redis take whatever CPU is left.
 *     Two operand flows, each with fresh ciphertexts every round (nothing cached on a worker yet):
 *       - uploaded: clients upload their ciphertexts first (POST /v1/keysets/:id/ciphertexts, outside the timed
 *         window), then evaluate them by id; the API node names them, workers read them from Redis — the
 *         criterion's measure;
 *       - inline: every item's 384 KiB ciphertext comes with the request, through the API node into Redis and out
 *         to a worker — on this machine the API node and Redis then spend their CPU on the workers' cores.
 *     The API side's CPU, the workers' CPU, Redis commands and bytes per item are measured over the batch rounds.
 *  2. per-job cost, N=8192 and N=16384: one evaluation at a time through the in-process pool (1 worker thread)
 *     and through Redis to one worker process; mean latency of each and the difference (the distributed path's
 *     overhead), API-side and worker CPU per job, and Redis traffic per job (INFO stats, both directions).
 * The machine's load average is printed with the results: on a shared machine it bounds the scaling ratio.
 * Usage: `node bench/distributed.ts [--full]`. Results: bench/results/<date>-distributed.{json,md}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createContext, encodeKeySet, programGaloisSteps, type Program } from '../src/index.ts';
import { QueueExecutor } from '../src/distrib/queue-executor.ts';
import { itemsPerJob } from '../src/distrib/protocol.ts';
import { distributedOptions } from '../src/distrib/options.ts';
import { PoolExecutor } from '../src/server/pool-executor.ts';
import { DEFAULT_OPTIONS } from '../src/server/config.ts';
import { RedisConnection } from '../src/server/redis-connection.ts';
import { RedisKeyStore } from '../src/server/redis-keystore.ts';
import { RedisUploadCache } from '../src/server/redis-upload-cache.ts';
import type { Executor, KeySetRef, WireInput } from '../src/server/executor.ts';
import { engineRate } from './engine-workers.ts';

const full = process.argv.includes('--full');
const ITEMS = full ? 240 : 120;
const ROUNDS = full ? 5 : 3;
const SEQUENTIAL = full ? 40 : 16;
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

const program: Program = {
  inputs: { x: 'vector', w: 'plain' },
  steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
  outputs: ['z'],
};
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A private redis-server (provisioned like the tests' one), ready when it says so. */
async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const provision = spawnSync('bash', [fileURLToPath(new URL('../scripts/provision-redis.sh', import.meta.url))], {
    encoding: 'utf8',
  });
  const binary = provision.stdout.trim().split('\n').pop();
  if (provision.status !== 0 || !binary) throw new Error(`no redis-server: ${provision.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'hefty-bench-redis-'));
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // Never outlive the bench, however it ends.
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  child.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface WorkerProcess {
  child: ChildProcess;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** One CPU per worker process when the machine has one for each and taskset is there; otherwise none pinned. */
const PINNED = cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

async function startWorker(url: string, cpu: number): Promise<WorkerProcess> {
  const command = [CLI, 'worker', '--redis', url, '--workers', '1', '--metrics-port', '0', '--log-level', 'info'];
  const child = spawn(
    PINNED ? 'taskset' : process.execPath,
    PINNED ? ['-c', String(cpu % cpus().length), process.execPath, ...command] : command,
    { env: { ...process.env, HEFTY_NATIVE_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"metricsUrl"'));
      if (line) resolve(JSON.parse(line).metricsUrl as string);
    });
    void exited.then(() => reject(new Error(`worker exited before ready:\n${out}`)));
  });
  child.stdout!.resume();
  return {
    child,
    metricsUrl,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function workerCpuSeconds(worker: WorkerProcess): Promise<number> {
  const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('hefty_process_cpu_seconds_total '));
  return Number(line?.split(' ')[1] ?? NaN);
}

async function loadedKeySets(worker: WorkerProcess): Promise<number> {
  const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('hefty_worker_loaded_keysets{what="count"}'));
  return Number(line?.split(' ')[1] ?? 0);
}

/** Numeric fields of one INFO section, in the order named. */
async function redisInfo(redis: Redis, section: string, names: readonly string[]): Promise<number[]> {
  const info = await redis.info(section);
  return names.map((name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]));
}

async function redisTraffic(redis: Redis): Promise<{ input: number; output: number }> {
  const [input, output] = await redisInfo(redis, 'stats', ['total_net_input_bytes', 'total_net_output_bytes']);
  return { input, output };
}

/** Commands Redis ran so far (those inside BullMQ's scripts included). */
async function redisCommands(redis: Redis): Promise<number> {
  return Object.values(await redisCommandsByName(redis)).reduce((sum, { calls }) => sum + calls, 0);
}

/** CPU seconds the Redis server used so far (its main thread and I/O, user + system). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const [user, system] = await redisInfo(redis, 'cpu', ['used_cpu_user', 'used_cpu_sys']);
  return user + system;
}

/** Calls and microseconds per command name so far (for the results file: where Redis's work per item goes). */
async function redisCommandsByName(redis: Redis): Promise<Record<string, { calls: number; usec: number }>> {
  const info = await redis.info('commandstats');
  return Object.fromEntries(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].map((m) => [
      m[1],
      { calls: Number(m[2]), usec: Number(m[3]) },
    ]),
  );
}

interface BatchCost {
  apiCpuMs: number;
  workerCpuMs: number;
  redisBytes: number;
  redisCommands: number;
  redisCpuMs: number;
}

/** Per item of a batch round: API-side CPU, workers' CPU, Redis traffic (both directions) and commands. */
async function measured<T>(workers: WorkerProcess[], run: () => Promise<T>): Promise<{ value: T; cost: BatchCost }> {
  const cpu = process.cpuUsage();
  const workerCpu = async () => (await Promise.all(workers.map(workerCpuSeconds))).reduce((a, b) => a + b, 0);
  const [w0, t0, c0, r0] = [
    await workerCpu(),
    await redisTraffic(probe),
    await redisCommands(probe),
    await redisCpuSeconds(probe),
  ];
  const value = await run();
  const used = process.cpuUsage(cpu);
  const [w1, t1, c1, r1] = [
    await workerCpu(),
    await redisTraffic(probe),
    await redisCommands(probe),
    await redisCpuSeconds(probe),
  ];
  const n = ITEMS;
  return {
    value,
    cost: {
      apiCpuMs: (used.user + used.system) / 1000 / n,
      workerCpuMs: ((w1 - w0) * 1000) / n,
      redisBytes: (t1.input - t0.input + t1.output - t0.output) / n,
      redisCommands: (c1 - c0) / n,
      redisCpuMs: ((r1 - r0) * 1000) / n,
    },
  };
}

type Item = Record<string, WireInput>;

async function batchRate(executor: Executor, ref: KeySetRef, items: Item[]): Promise<number> {
  const started = performance.now();
  const results = await executor.runBatch(ref, program, items, 'hefty');
  const failed = results.find((r) => 'error' in r);
  if (failed) throw new Error(JSON.stringify(failed));
  return items.length / ((performance.now() - started) / 1000);
}

// One intra-op thread everywhere (the in-process pool here, the worker processes through their environment).
process.env.HEFTY_NATIVE_THREADS = '1';
const load = { before: loadavg()[0], after: 0 };
const server = await startRedis();
const probe = new Redis(server.url);
const connection = await RedisConnection.open(server.url);
const store = await RedisKeyStore.open({
  connection,
  tenantQuotaBytes: 4 * 2 ** 30,
  rotationGraceMs: DEFAULT_OPTIONS.rotationGraceMs,
  defaultTtlMs: DEFAULT_OPTIONS.defaultKeySetTtlMs,
  maxTtlMs: DEFAULT_OPTIONS.maxKeySetTtlMs,
  sweepIntervalMs: 0,
});
const shared = distributedOptions();
const api = await QueueExecutor.create({
  redisUrl: server.url,
  prefix: 'hefty:',
  shards: shared.shards,
  jobTimeoutMs: 600_000,
  resultTtlMs: shared.resultTtlMs,
  backend: 'auto',
});

async function fixture(n: number, count: number) {
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: n });
  ctx.keygen({ galois: programGaloisSteps(program, ctx.slotCount) });
  const bytes = encodeKeySet(ctx.exportKeySet());
  const record = await store.put('bench', bytes);
  const ref: KeySetRef = { key: `bench/${record.id}`, tenant: 'bench', id: record.id, read: async () => bytes };
  const w = Array.from({ length: 64 }, (_, i) => Math.cos(i));
  let made = 0;
  /** Fresh ciphertexts (distinct contents, so none is in Redis or a worker's cache yet). */
  const encrypt = (n: number): Uint8Array[] =>
    Array.from({ length: n }, () => {
      const v = ctx.encrypt(Array.from({ length: 64 }, (_, i) => Math.sin(i + made++)));
      const serialized = v.serialize();
      v.dispose();
      return serialized;
    });
  const xs = encrypt(count);
  return { ctx, ref, bytes, w, xs, encrypt };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

// 1. scaling: 1 vs 2 worker processes, each on a CPU of its own
const n8 = await fixture(8192, ITEMS);
const uploads = new RedisUploadCache({ connection, maxBytes: 2 ** 30, tenantMaxBytes: 2 ** 30, ttlMs: 600_000 });
const scope = n8.ref.key;
type Flow = 'uploaded' | 'inline';
const FLOWS: Flow[] = ['uploaded', 'inline'];
/** A batch of fresh ciphertexts for one timed run: uploaded ones are in Redis before its timer starts. */
async function batchOf(flow: Flow): Promise<() => Promise<Item[]>> {
  const xs = n8.encrypt(ITEMS);
  if (flow === 'inline') return async () => xs.map((x) => ({ x, w: n8.w }));
  const ids = await Promise.all(xs.map((x) => uploads.put(x, { scope, chunks: 1 })));
  // What the eval route does for `{ ciphertext: id }` inputs, inside the timed window.
  return async () => {
    const stored = await Promise.all(ids.map((id) => uploads.locate(id, scope)));
    return stored.map((x) => {
      if (!x) throw new Error('an upload was evicted before its batch ran');
      return { x, w: n8.w };
    });
  };
}
async function timedBatch(workers: WorkerProcess[], flow: Flow): Promise<{ value: number; cost: BatchCost }> {
  const items = await batchOf(flow);
  return measured(workers, async () => {
    const started = performance.now();
    await batchRate(api, n8.ref, await items());
    return ITEMS / ((performance.now() - started) / 1000);
  });
}
const first = await startWorker(server.url, 0);
await batchRate(
  api,
  n8.ref,
  n8.xs.slice(0, 4).map((x) => ({ x, w: n8.w })),
); // key set loaded on the first worker
const rates = { uploaded: [[], []] as number[][], inline: [[], []] as number[][] };
const batchCosts = { uploaded: [[], []] as BatchCost[][], inline: [[], []] as BatchCost[][] };
const engine: number[][] = [[], []];
const loadDuring: number[] = [];
const commandsBefore = await redisCommandsByName(probe);
for (let round = 0; round < ROUNDS; round++) {
  for (const flow of FLOWS) {
    const { value, cost } = await timedBatch([first], flow);
    rates[flow][0].push(value);
    batchCosts[flow][0].push(cost);
  }
  const second = await startWorker(server.url, 1);
  // Both hold the key set before timing: the new worker only takes jobs that waited (stealAfterMs) in the first
  // one's shard, so warm-up batches run until its metrics show the key set loaded.
  const warmUntil = Date.now() + 120_000;
  while ((await loadedKeySets(second)) < 1) {
    if (Date.now() > warmUntil) throw new Error('the second worker never loaded the key set');
    await batchRate(
      api,
      n8.ref,
      n8.xs.slice(0, 40).map((x) => ({ x, w: n8.w })),
    );
  }
  for (const flow of FLOWS) {
    const { value, cost } = await timedBatch([first, second], flow);
    rates[flow][1].push(value);
    batchCosts[flow][1].push(cost);
  }
  loadDuring.push(loadavg()[0]);
  await second.stop();
  // The engine alone in 1 and 2 plain threads, same rounds: what this machine allows right now.
  for (const [i, threads] of [1, 2].entries())
    engine[i].push(await engineRate(threads, { keySet: n8.bytes, x: n8.xs[0], w: n8.w, program, ms: 1000 }));
}
const commandsAfter = await redisCommandsByName(probe);
// Per item batched over the scaling rounds (their warm-ups and the engine-alone runs' idle time included).
const commandsPerItem = Object.fromEntries(
  Object.entries(commandsAfter)
    .map(([name, { calls, usec }]) => {
      const before = commandsBefore[name] ?? { calls: 0, usec: 0 };
      const items = ROUNDS * 4 * ITEMS;
      return [name, { calls: (calls - before.calls) / items, usec: (usec - before.usec) / items }] as const;
    })
    .filter(([, perItem]) => perItem.calls >= 0.05)
    .sort((a, b) => b[1].usec - a[1].usec),
);
const speedup = (flow: Flow): { one: number; two: number; ratio: number } => {
  const [one, two] = rates[flow].map(median);
  return { one, two, ratio: two / one };
};
const costOf = (config: BatchCost[]): BatchCost => ({
  apiCpuMs: median(config.map((c) => c.apiCpuMs)),
  workerCpuMs: median(config.map((c) => c.workerCpuMs)),
  redisBytes: median(config.map((c) => c.redisBytes)),
  redisCommands: median(config.map((c) => c.redisCommands)),
  redisCpuMs: median(config.map((c) => c.redisCpuMs)),
});
const perItem = { uploaded: batchCosts.uploaded.map(costOf), inline: batchCosts.inline.map(costOf) };
const engineScaling = median(engine[1]) / median(engine[0]);

// 2. per-job cost, one evaluation at a time: in-process pool vs Redis + one worker process
interface JobCost {
  n: number;
  ciphertextBytes: number;
  outputBytes: number;
  poolMs: number;
  distributedMs: number;
  apiCpuMsPerJob: number;
  workerCpuMsPerJob: number;
  redisBytesInPerJob: number;
  redisBytesOutPerJob: number;
  keySetBytes: number;
}
async function jobCost(n: number, f: Awaited<ReturnType<typeof fixture>>): Promise<JobCost> {
  const pool = await PoolExecutor.create({
    backend: 'auto',
    workers: 1,
    maxLoadedKeySets: 2,
    maxQueue: 16,
    jobTimeoutMs: 600_000,
  });
  const latency = async (executor: Executor, xs: Uint8Array[]): Promise<number[]> => {
    const times: number[] = [];
    for (const x of xs) {
      const started = performance.now();
      await executor.run(f.ref, program, { x, w: f.w }, 'hefty');
      times.push(performance.now() - started);
    }
    return times;
  };
  // Warm-ups (key set loaded, caches filled) stay outside the measured windows.
  await latency(pool, f.encrypt(1));
  const poolTimes = await latency(pool, f.encrypt(SEQUENTIAL));
  await pool.close();
  await latency(api, f.encrypt(1));
  const xs = f.encrypt(SEQUENTIAL);
  const cpuBefore = process.cpuUsage();
  const workerBefore = await workerCpuSeconds(first);
  const trafficBefore = await redisTraffic(probe);
  const distributedTimes = await latency(api, xs);
  const cpu = process.cpuUsage(cpuBefore);
  const trafficAfter = await redisTraffic(probe);
  const workerAfter = await workerCpuSeconds(first);
  const output = (await api.run(f.ref, program, { x: xs[0], w: f.w }, 'hefty')).z.byteLength;
  return {
    n,
    ciphertextBytes: xs[0].byteLength,
    outputBytes: output,
    keySetBytes: f.bytes.byteLength,
    poolMs: mean(poolTimes),
    distributedMs: mean(distributedTimes),
    apiCpuMsPerJob: (cpu.user + cpu.system) / 1000 / SEQUENTIAL,
    workerCpuMsPerJob: ((workerAfter - workerBefore) * 1000) / SEQUENTIAL,
    redisBytesInPerJob: (trafficAfter.input - trafficBefore.input) / SEQUENTIAL,
    redisBytesOutPerJob: (trafficAfter.output - trafficBefore.output) / SEQUENTIAL,
  };
}
const costs = [await jobCost(8192, n8)];
n8.ctx.dispose();
const n16 = await fixture(16384, 0);
costs.push(await jobCost(16384, n16));
n16.ctx.dispose();
load.after = loadavg()[0];

await first.stop();
await api.close();
await uploads.close();
await store.close();
await connection.close();
probe.disconnect();
server.stop();

const TARGET = 1.7;
const FLOW_NAMES: Record<Flow, string> = {
  uploaded: 'uploaded operands',
  inline: 'operands inline with the request',
};
const rows = [
  ...FLOWS.flatMap((flow) => {
    const { one, two, ratio } = speedup(flow);
    const target = flow === 'uploaded' ? ` (target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'MISSED'})` : '';
    return [
      [`${FLOW_NAMES[flow]}: throughput, 1 worker process`, `${one.toFixed(1)} items/s`, ''],
      [
        `${FLOW_NAMES[flow]}: throughput, 2 worker processes`,
        `${two.toFixed(1)} items/s`,
        `${ratio.toFixed(2)}×${target}`,
      ],
      ...perItem[flow].map((c, i) => [
        `${FLOW_NAMES[flow]}, ${i + 1} worker${i ? 's' : ''}: per item CPU API / workers / Redis; Redis`,
        `${c.apiCpuMs.toFixed(2)} / ${c.workerCpuMs.toFixed(2)} / ${c.redisCpuMs.toFixed(2)} ms; ${c.redisCommands.toFixed(1)} commands, ${kib(c.redisBytes)}`,
        `${itemsPerJob(ITEMS)} items per job`,
      ]),
    ];
  }),
  ['engine alone (no queue): 1 thread', `${median(engine[0]).toFixed(0)} items/s`, ''],
  [
    'engine alone (no queue): 2 threads',
    `${median(engine[1]).toFixed(0)} items/s`,
    `${engineScaling.toFixed(2)}× (what the machine allows now)`,
  ],
  ...costs.flatMap((c) => [
    [`N=${c.n}: latency, in-process pool`, `${c.poolMs.toFixed(1)} ms`, ''],
    [
      `N=${c.n}: latency, via Redis + worker`,
      `${c.distributedMs.toFixed(1)} ms`,
      `+${(c.distributedMs - c.poolMs).toFixed(1)} ms per job`,
    ],
    [
      `N=${c.n}: CPU per job, API side / worker`,
      `${c.apiCpuMsPerJob.toFixed(1)} / ${c.workerCpuMsPerJob.toFixed(1)} ms`,
      '',
    ],
    [
      `N=${c.n}: Redis traffic per job, in / out`,
      `${kib(c.redisBytesInPerJob)} / ${kib(c.redisBytesOutPerJob)}`,
      `ciphertext ${kib(c.ciphertextBytes)}, output ${kib(c.outputBytes)}, key set ${kib(c.keySetBytes)}`,
    ],
  ]),
];
const table = [
  `distributed mode: N=8192 dot product over 64 slots, ${ITEMS}-item batches (${itemsPerJob(ITEMS)} items per job), fresh ciphertexts each batch, median of ${ROUNDS} rounds; workers ${PINNED ? 'on one CPU each (taskset)' : 'not pinned (no taskset or one CPU)'}; load average ${load.before.toFixed(2)} → ${loadDuring.map((l) => l.toFixed(2)).join(', ')} (batch rounds) → ${load.after.toFixed(2)}`,
  '',
  '| measure | value | note |',
  '| --- | --- | --- |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
console.log(table);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
writeFileSync(
  new URL(`./results/${date}-distributed.json`, import.meta.url),
  JSON.stringify(
    {
      items: ITEMS,
      rounds: ROUNDS,
      load: { ...load, duringBatchRounds: loadDuring },
      itemsPerJob: itemsPerJob(ITEMS),
      pinned: PINNED,
      batchCostPerItem: perItem,
      redisCommandsPerItem: commandsPerItem,
      itemsPerSecond: rates,
      speedup: { uploaded: speedup('uploaded').ratio, inline: speedup('inline').ratio },
      engineAloneItemsPerSecond: { oneThread: engine[0], twoThreads: engine[1] },
      engineScaling,
      costs,
    },
    null,
    2,
  ),
);
writeFileSync(new URL(`./results/${date}-distributed.md`, import.meta.url), table + '\n');
