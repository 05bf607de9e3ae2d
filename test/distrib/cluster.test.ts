/**
 * The loopback cluster: a real redis-server, two API nodes (`hefty serve --redis`) and two compute nodes
 * (`hefty worker`) as separate processes. Key sets are uploaded through one API node and evaluated through the
 * other; a worker is SIGKILLed in the middle of a 200-item batch and every item is still answered once,
 * correctly; an API node is SIGKILLed with requests in flight and their retries through the other node (same
 * Idempotency-Key) succeed without running any job twice; Redis going away is 503 E_UNAVAILABLE and service
 * resumes when it is back; SIGTERM drains a worker and it exits 0. Everything waits on process output or HTTP
 * answers, never on timers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import { HeftyClient } from '../../src/client/client.ts';
import { idempotentJobId } from '../../src/distrib/protocol.ts';
import { HeftyError } from '../../src/errors.ts';
import { randomVector } from '../helpers.ts';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis.ts';
import { ALICE, decryptFirst, dotProgram, dotReference, smallClient } from '../server/fixtures.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

type LogLine = Record<string, unknown> & { msg?: string };

/** A hefty process whose JSON log lines can be awaited. */
class NodeProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly watchers = new Set<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  private output = '';

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const text of parts) {
        this.output += `${text}\n`;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          continue;
        }
        this.lines.push(line);
        for (const watcher of [...this.watchers]) {
          if (watcher.test(line)) {
            this.watchers.delete(watcher);
            watcher.resolve(line);
          }
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The first line (already seen or coming) that passes `test`; rejects if the process exits first. */
  waitFor(test: (line: LogLine) => boolean, what: string): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const watcher = { test, resolve };
      this.watchers.add(watcher);
      void this.exited.then((code) => {
        if (this.watchers.delete(watcher))
          reject(new Error(`process exited (${code}) before ${what}:\n${this.output.slice(-3000)}`));
      });
    });
  }

  /** Completed-job lines (debug level, workers only). */
  completedJobs(): string[] {
    return this.lines.filter((l) => l.msg === 'job' && l.outcome === 'completed').map((l) => String(l.jobId));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

describeWithRedis('loopback cluster: Redis + 2 API nodes + 2 workers', (binary) => {
  let redis: RedisServer;
  let ctx: HeftyContext;
  let keySet: Uint8Array;
  let dataDir: string;
  const processes: NodeProcess[] = [];
  let env: NodeJS.ProcessEnv;

  const startWorker = async (): Promise<NodeProcess> => {
    const node = new NodeProcess(['worker', '--redis', redis.url, '--workers', '1', '--log-level', 'debug'], env);
    processes.push(node);
    await node.waitFor((l) => typeof l.msg === 'string' && l.msg.includes(' ready'), 'worker ready');
    return node;
  };
  const startApi = async (name: string): Promise<{ node: NodeProcess; url: string }> => {
    const node = new NodeProcess(
      ['serve', '--redis', redis.url, '--port', '0', '--data-dir', join(dataDir, name), '--log-level', 'info'],
      env,
    );
    processes.push(node);
    const line = await node.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('listening on'), 'listening');
    return { node, url: String(line.url) };
  };
  const encrypt = (x: number[]): Uint8Array => {
    const v = ctx.encrypt(x);
    try {
      return v.serialize();
    } finally {
      v.dispose();
    }
  };
  const expectDot = (bytes: Uint8Array, x: number[], w: number[]): void => {
    expect(Math.abs(decryptFirst(ctx, bytes, 1)[0] - dotReference(x, w))).toBeLessThan(1e-2);
  };
  /** No job id completed twice on any worker (a job answered twice, or an idempotent retry that ran again). */
  const expectNoJobRanTwice = (workers: NodeProcess[]): void => {
    const all = workers.flatMap((w) => w.completedJobs());
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
  };

  beforeAll(async () => {
    redis = await startRedis(binary, { appendOnly: true });
    dataDir = mkdtempSync(join(tmpdir(), 'hefty-cluster-'));
    env = {
      ...process.env,
      HEFTY_API_KEYS: `${ALICE}:alice`,
      HEFTY_NATIVE_THREADS: '1',
      // Short lock and stall checks so that a killed worker's job comes back within a second or two.
      HEFTY_JOB_LOCK_MS: '1500',
      HEFTY_STALLED_INTERVAL_MS: '300',
      HEFTY_HEARTBEAT_MS: '200',
      HEFTY_STEAL_AFTER_MS: '100',
    };
    ({ ctx, keySet } = await smallClient());
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await redis?.stop();
    ctx?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('serves, survives a worker SIGKILL mid-batch and an API node SIGKILL, and drains on SIGTERM', async () => {
    const [w1, w2, api1, api2] = await Promise.all([startWorker(), startWorker(), startApi('a'), startApi('b')]);
    const first = new HeftyClient({ baseUrl: api1.url, apiKey: ALICE, networkRetries: 0, overloadRetries: 0 });
    const second = new HeftyClient({ baseUrl: api2.url, apiKey: ALICE, timeoutMs: 120_000 });

    // Keys through one API node, evaluations and batches through the other.
    const { id } = await first.uploadKeySet(keySet);
    const w = randomVector(16, 1);
    const x = randomVector(16, 2);
    expectDot((await second.eval(id, dotProgram, { x: encrypt(x), w })).z, x, w);
    const uploaded = await second.uploadCiphertext(id, encrypt(x));
    expectDot((await second.eval(id, dotProgram, { x: { ciphertext: uploaded }, w })).z, x, w);
    const small = Array.from({ length: 8 }, (_, i) => randomVector(16, 10 + i));
    const smallResults = await second.batch(
      id,
      dotProgram,
      small.map((v) => ({ x: encrypt(v), w })),
    );
    smallResults.forEach((r, i) => {
      if (!('outputs' in r)) throw new Error(JSON.stringify(r));
      expectDot(r.outputs.z, small[i], w);
    });

    // A worker SIGKILLed in the middle of a 200-item batch: every item answered once, correctly.
    const big = Array.from({ length: 200 }, (_, i) => randomVector(16, 1000 + i));
    const bigJobs = new Set(big.map((_, i) => idempotentJobId('alice', 'big-batch', i)));
    // Uploaded through the first API node (the shared upload cache), referenced through the second.
    const uploads = await Promise.all(big.map((v) => first.uploadCiphertext(id, encrypt(v))));
    const doneBefore = w1.completedJobs().length;
    const batch = second.batch(
      id,
      dotProgram,
      uploads.map((ciphertext) => ({ x: { ciphertext }, w })),
      { idempotencyKey: 'big-batch' },
    );
    let seen = 0;
    await Promise.race([
      w1.waitFor((l) => l.msg === 'job' && bigJobs.has(String(l.jobId)) && ++seen >= 3, '3 batch jobs on worker 1'),
      batch.then(() => {
        throw new Error('the batch finished before worker 1 ran 3 of its jobs');
      }),
    ]);
    w1.kill('SIGKILL');
    expect(w1.completedJobs().length - doneBefore).toBeLessThan(200);
    const bigResults = await batch;
    expect(bigResults).toHaveLength(200);
    bigResults.forEach((r, i) => {
      if (!('outputs' in r)) throw new Error(`item ${i}: ${JSON.stringify(r)}`);
      expectDot(r.outputs.z, big[i], w);
    });
    expectNoJobRanTwice([w1, w2]);
    // The killed worker's running job was taken over through BullMQ's stalled-job check.
    await w2.waitFor((l) => l.msg === 'job' && bigJobs.has(String(l.jobId)), 'batch jobs on worker 2');

    // A replacement joins; then an API node is SIGKILLed with requests in flight.
    const w3 = await startWorker();
    const inFlight = [0, 1, 2].map((k) => Array.from({ length: 30 }, (_, i) => randomVector(16, 5000 + 100 * k + i)));
    const keys = ['retry-0', 'retry-1', 'retry-2'];
    // A retry is the same request: the same bytes (a fresh encryption would be another request, and refused).
    const bodies = inFlight.map((items) => items.map((v) => ({ x: encrypt(v), w })));
    const jobsOf = new Set(keys.flatMap((key) => inFlight[0].map((_, i) => idempotentJobId('alice', key, i))));
    const attempts = inFlight.map((_, k) =>
      first.batch(id, dotProgram, bodies[k], { idempotencyKey: keys[k] }).then(
        () => 'answered',
        (e: unknown) => (e instanceof HeftyError ? e.code : String(e)),
      ),
    );
    await Promise.race(
      [w2, w3].map((node) => node.waitFor((l) => l.msg === 'job' && jobsOf.has(String(l.jobId)), 'retry jobs')),
    );
    api1.node.kill('SIGKILL');
    const outcomes = await Promise.all(attempts);
    // Those that had not been answered fail cleanly (the connection is gone), none hangs.
    expect(outcomes.filter((o) => o !== 'answered').every((o) => o === 'E_UNAVAILABLE')).toBe(true);
    expect(outcomes).toContain('E_UNAVAILABLE');
    for (const [k, items] of inFlight.entries()) {
      const results = await second.batch(id, dotProgram, bodies[k], { idempotencyKey: keys[k] });
      results.forEach((r, i) => {
        if (!('outputs' in r)) throw new Error(`retry ${k} item ${i}: ${JSON.stringify(r)}`);
        expectDot(r.outputs.z, items[i], w);
      });
    }
    expectNoJobRanTwice([w1, w2, w3]);

    // Redis away: 503 E_UNAVAILABLE at once; back: the workers reconnect and evaluations run again.
    await redis.halt();
    const down = await fetch(`${api2.url}/v1/keysets/${id}/eval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        program: dotProgram,
        inputs: { x: { bytes: Buffer.from(encrypt(x)).toString('base64') }, w },
      }),
    });
    expect(down.status).toBe(503);
    expect(((await down.json()) as { code: string }).code).toBe('E_UNAVAILABLE');
    await redis.start();
    const recovered = new HeftyClient({ baseUrl: api2.url, apiKey: ALICE, overloadRetries: 20, timeoutMs: 60_000 });
    let answer: Record<string, Uint8Array> | undefined;
    while (!answer) {
      // Readiness polling: the API node answers again once its connections are back.
      try {
        answer = await recovered.eval(id, dotProgram, { x: encrypt(x), w });
      } catch (e) {
        if (!(e instanceof HeftyError) || e.code !== 'E_UNAVAILABLE') throw e;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expectDot(answer.z, x, w);

    // SIGTERM drains a worker: it finishes and exits 0.
    w2.kill('SIGTERM');
    expect(await w2.exited).toBe(0);
  }, 300_000);
});
