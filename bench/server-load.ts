/**
 * Service load benchmark on loopback (autocannon): eval requests (dot product, N=8192, operand uploaded once,
 * referenced by id) against the real service in a child process.
 *   phase 1 "capacity": a few connections, below the queue bound → throughput and latency of served requests
 *   phase 2 "overload": many more connections than queue slots → excess shed as 503 E_OVERLOADED (Retry-After),
 *            with zero dropped connections (no socket errors, resets or timeouts)
 * RSS of the service is sampled from /metrics every second (with the main thread's JS heap and external memory
 * and the pool workers' heaps); "flat" = the last sample within 10% of the sample a third into the overload
 * phase; the drift (MiB/min) over the rest is printed too. Default ~30 s (too short for a working set to settle:
 * the memory verdict needs `--soak`); `--soak` (or `--full`) runs the overload phase for 5 minutes,
 * `--soak --soak-minutes=N` for N.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { HeftyClient } from '../src/client/client.ts';
import { createContext, programGaloisSteps, type Program } from '../src/index.ts';

const MAX_QUEUE = 8;

async function serveChild(): Promise<void> {
  const { startServer } = await import('../src/server/main.ts');
  const [dataDir, apiKey] = process.argv.slice(3);
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      apiKeys: { [apiKey]: 'bench' },
      logLevel: 'silent',
      maxQueue: MAX_QUEUE,
      rateLimitPerMinute: 10_000_000,
    },
    { env: { HEFTY_BACKEND: process.env.HEFTY_BACKEND, HEFTY_EXECUTOR: process.env.HEFTY_EXECUTOR } },
  );
  process.stdout.write(`${server.url}\n`);
}

function startChild(dataDir: string, apiKey: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-child', dataDir, apiKey], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => l.startsWith('http'));
      if (line) resolve({ child, url: line.trim() });
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
}

async function memory(url: string): Promise<{ rss: number; heap: number; external: number; workerHeaps: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: read('hefty_process_resident_memory_bytes'),
    heap: read('hefty_nodejs_heap_size_used_bytes'),
    // The main thread's buffers outside the JS heap (request and result bytes).
    external: read('hefty_nodejs_external_memory_bytes'),
    // The pool workers' JS heaps (committed), together.
    workerHeaps: [...text.matchAll(/^hefty_pool_worker_heap_bytes\{[^}]*kind="total"[^}]*\} (\S+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    ),
  };
}

async function rss(url: string): Promise<number> {
  return (await memory(url)).rss;
}

interface Phase {
  name: string;
  connections: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  shed503: number;
  otherNon2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
}

async function phase(
  name: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  seconds: number,
): Promise<Phase> {
  const result = await autocannon({
    url: `${url}`,
    method: 'POST',
    headers,
    body,
    connections,
    duration: seconds,
    timeout: 30,
  });
  const stats = result.statusCodeStats as Record<string, { count: number }>;
  const ok = stats['200']?.count ?? 0;
  const shed503 = stats['503']?.count ?? 0;
  return {
    name,
    connections,
    seconds,
    rps: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    shed503,
    otherNon2xx: result.non2xx - shed503,
    errors: result.errors,
    timeouts: result.timeouts,
    resets: (result as unknown as { resets?: number }).resets ?? 0,
  };
}

async function main(): Promise<void> {
  const soak = process.argv.includes('--soak') || process.argv.includes('--full');
  const dataDir = mkdtempSync(join(tmpdir(), 'hefty-load-'));
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const { child, url } = await startChild(dataDir, apiKey);
  try {
    const program: Program = {
      inputs: { x: 'vector', w: 'plain' },
      steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
      outputs: ['z'],
    };
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    ctx.keygen({ galois: programGaloisSteps(program, ctx.slotCount) });
    const client = new HeftyClient({ baseUrl: url, apiKey });
    const keySet = await client.uploadKeySet(ctx.exportKeySet({ compression: 'zstd' }));
    const x = Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i));
    const w = Array.from({ length: ctx.slotCount }, (_, i) => Math.cos(i) / 64);
    const vector = ctx.encrypt(x);
    const ciphertext = await client.uploadCiphertext(keySet.id, vector.serialize());
    vector.dispose();
    // One correctness check through the same request the load uses.
    const { z } = await client.eval(keySet.id, program, { x: { ciphertext }, w });
    const got = (ctx.loadVector(z).decrypt() as Float64Array)[0];
    const want = x.reduce((s, v, i) => s + v * w[i], 0);
    if (Math.abs(got - want) > 1e-2) throw new Error(`wrong result: ${got} vs ${want}`);
    ctx.dispose();

    const evalUrl = `${url}/v1/keysets/${keySet.id}/eval`;
    const headers = {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      accept: 'application/octet-stream',
    };
    const body = JSON.stringify({ program, inputs: { x: { ciphertext }, w } });

    const samples: { t: number; rss: number; heap: number; external: number; workerHeaps: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      void memory(url).then((m) => samples.push({ t: (Date.now() - started) / 1000, ...m }));
    }, 1000);
    await phase('warm-up', evalUrl, headers, body, 2, 3);
    const capacity = await phase('capacity', evalUrl, headers, body, 4, 12);
    const minutes = Number(process.argv.find((a) => a.startsWith('--soak-minutes='))?.split('=')[1] ?? 5);
    const overloadSeconds = soak ? Math.max(1, minutes) * 60 : 20;
    const overloadStart = (Date.now() - started) / 1000;
    const overload = await phase('overload', evalUrl, headers, body, 64, overloadSeconds);
    clearInterval(sampler);
    const final = await rss(url);
    const peak = Math.max(...samples.map((s) => s.rss));
    // Baseline a third into the overload phase, once its working set (sockets, buffers, arenas) has formed;
    // the check is that RSS stays there for the remaining two thirds.
    const window = samples.filter((s) => s.t >= overloadStart + overloadSeconds / 3);
    const baseline = window[0]?.rss ?? final;
    const flat = final <= baseline * 1.1;
    const span = window.length > 1 ? window[window.length - 1].t - window[0].t : 0;
    const drift = span > 0 ? ((window[window.length - 1].rss - window[0].rss) / 2 ** 20 / span) * 60 : 0;
    const healthy = (await fetch(`${url}/healthz`)).ok;

    const mib = (v: number) => (v / 2 ** 20).toFixed(1);
    console.log(`service: ${url} (maxQueue ${MAX_QUEUE}), eval = dot product over ${8192 / 2} slots, N=8192`);
    console.log(
      '| phase | conns | s | served RPS | p50 ms | p99 ms | 200 | 503 shed | other non-2xx | errors | timeouts | resets |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const p of [capacity, overload]) {
      console.log(
        `| ${p.name} | ${p.connections} | ${p.seconds} | ${p.rps.toFixed(1)} | ${p.p50} | ${p.p99} | ${p.ok} | ${p.shed503} | ${p.otherNon2xx} | ${p.errors} | ${p.timeouts} | ${p.resets} |`,
      );
    }
    console.log(
      `RSS: ${mib(baseline)} MiB a third into the overload phase, end ${mib(final)} MiB, peak ${mib(peak)} MiB${soak ? `, drift after that ${drift.toFixed(2)} MiB/min` : ''} → ${flat ? 'flat' : 'GROWING'}; JS heap at end ${mib(samples.at(-1)?.heap ?? NaN)} MiB; healthy after: ${healthy}`,
    );
    const dropped = overload.errors + overload.timeouts + overload.resets + capacity.errors + capacity.timeouts;
    console.log(`dropped connections: ${dropped}`);
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    const out = new URL(
      `./results/server-load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
      import.meta.url,
    );
    writeFileSync(
      out,
      JSON.stringify(
        { url, soak, capacity, overload, rss: { baseline, final, peak, flat, driftMiBPerMinute: drift, samples } },
        null,
        2,
      ),
    );
    if (!flat || dropped > 0 || !healthy || overload.shed503 === 0) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve-child') await serveChild();
else await main();
