/**
 * Two-tenant saturation soak on loopback (autocannon) against the real service in a child process: an abusive
 * tenant floods expensive evaluations over 64 connections while a polite tenant runs dot products over 2.
 * Verdict (issue 14): the polite tenant's success rate ≥ 95% with a bounded p99, 0 dropped connections (socket
 * errors, timeouts, resets) for either tenant, and RSS flat (the end within 10% of the sample a third in).
 * Default 60 s; `--soak-minutes=N` for longer (the soak is 10).
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

const POLITE = `polite_${randomBytes(16).toString('hex')}`;
const ABUSIVE = `abusive_${randomBytes(16).toString('hex')}`;

async function serveChild(): Promise<void> {
  const { startServer } = await import('../src/server/main.ts');
  const [dataDir] = process.argv.slice(3);
  const [polite, abusive] = process.argv.slice(4);
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      apiKeys: { [polite]: 'polite', [abusive]: 'abusive' },
      logLevel: 'silent',
      maxQueue: 16,
      tenantMaxInFlight: 8,
      rateLimitPerMinute: 10_000_000,
    },
    { env: { HEFTY_BACKEND: process.env.HEFTY_BACKEND, HEFTY_WORKERS: process.env.HEFTY_WORKERS } },
  );
  process.stdout.write(`${server.url}\n`);
}

function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-child', dataDir, POLITE, ABUSIVE], {
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

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^hefty_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}

const dotProgram: Program = {
  inputs: { x: 'vector', w: 'plain' },
  steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
  outputs: ['z'],
};
/** What the abusive tenant sends: many rotations per request. */
const heavyProgram: Program = {
  inputs: { x: 'vector' },
  steps: ['a', 'b', 'c', 'd'].map((out) => ({ out, op: 'sum', args: ['x'] }) as const),
  outputs: ['a', 'd'],
};

async function prepare(url: string, apiKey: string, program: Program) {
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
  ctx.keygen({ galois: programGaloisSteps(program, ctx.slotCount) });
  const client = new HeftyClient({ baseUrl: url, apiKey });
  const keySet = await client.uploadKeySet(ctx.exportKeySet());
  const vector = ctx.encrypt(Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i)));
  const ciphertext = await client.uploadCiphertext(keySet.id, vector.serialize());
  vector.dispose();
  ctx.dispose();
  return { id: keySet.id, ciphertext };
}

function load(url: string, apiKey: string, id: string, body: unknown, connections: number, seconds: number) {
  return autocannon({
    url: `${url}/v1/keysets/${id}/eval`,
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      accept: 'application/octet-stream',
    },
    body: JSON.stringify(body),
    connections,
    duration: seconds,
    timeout: 30,
  });
}

async function main(): Promise<void> {
  const minutes = Number(process.argv.find((a) => a.startsWith('--soak-minutes='))?.split('=')[1] ?? 1);
  const seconds = Math.max(10, Math.round(minutes * 60));
  const dataDir = mkdtempSync(join(tmpdir(), 'hefty-soak-'));
  const { child, url } = await startChild(dataDir);
  try {
    const polite = await prepare(url, POLITE, dotProgram);
    const abusive = await prepare(url, ABUSIVE, heavyProgram);
    const w = Array.from({ length: 4096 }, (_, i) => Math.cos(i) / 64);
    const samples: { t: number; rss: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      void rss(url).then((value) => samples.push({ t: (Date.now() - started) / 1000, rss: value }));
    }, 1000);
    const [good, bad] = await Promise.all([
      load(
        url,
        POLITE,
        polite.id,
        { program: dotProgram, inputs: { x: { ciphertext: polite.ciphertext }, w } },
        2,
        seconds,
      ),
      load(
        url,
        ABUSIVE,
        abusive.id,
        { program: heavyProgram, inputs: { x: { ciphertext: abusive.ciphertext } } },
        64,
        seconds,
      ),
    ]);
    clearInterval(sampler);
    const final = await rss(url);
    const window = samples.filter((s) => s.t >= seconds / 3);
    const baseline = window[0]?.rss ?? final;
    const flat = final <= baseline * 1.1;
    const codes = (r: autocannon.Result) =>
      Object.fromEntries(
        Object.entries(r.statusCodeStats as Record<string, { count: number }>).map(([k, v]) => [k, v.count]),
      );
    const goodCodes = codes(good);
    const goodTotal = Object.values(goodCodes).reduce((a, b) => a + b, 0);
    const successRate = goodTotal > 0 ? (goodCodes['200'] ?? 0) / goodTotal : 0;
    const dropped = (r: autocannon.Result) =>
      r.errors + r.timeouts + ((r as unknown as { resets?: number }).resets ?? 0);
    const healthy = (await fetch(`${url}/healthz`)).ok;
    const mib = (v: number) => (v / 2 ** 20).toFixed(1);
    console.log(
      `service ${url}, ${seconds} s, N=8192; polite: dot over 2 connections; abusive: 4 sums × 64 connections`,
    );
    console.log('| tenant | statuses | p50 ms | p99 ms | dropped |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| polite | ${JSON.stringify(goodCodes)} | ${good.latency.p50} | ${good.latency.p99} | ${dropped(good)} |`,
    );
    console.log(
      `| abusive | ${JSON.stringify(codes(bad))} | ${bad.latency.p50} | ${bad.latency.p99} | ${dropped(bad)} |`,
    );
    console.log(
      `polite success ${(100 * successRate).toFixed(2)}%; RSS ${mib(baseline)} MiB a third in, ${mib(final)} MiB at the end → ${flat ? 'flat' : 'GROWING'}; healthy after: ${healthy}`,
    );
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(
      new URL(`./results/tenant-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url),
      JSON.stringify(
        {
          seconds,
          polite: { codes: goodCodes, latency: good.latency, dropped: dropped(good) },
          abusive: { codes: codes(bad), latency: bad.latency, dropped: dropped(bad) },
          rss: { baseline, final, flat, samples },
        },
        null,
        2,
      ),
    );
    if (successRate < 0.95 || dropped(good) + dropped(bad) > 0 || !flat || !healthy) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve-child') await serveChild();
else await main();
