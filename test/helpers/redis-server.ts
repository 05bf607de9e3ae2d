/**
 * Real `redis-server` processes for tests and benchmarks (no vitest here: bench/ can use it too): each on a random
 * free loopback port with its own temporary directory, no persistence unless asked (AOF), ready when the server
 * itself says so, stopped by SIGTERM and awaited. The binary comes from scripts/provision-redis.sh (run once per
 * process; it installs Debian's package when missing and it can); HEFTY_REDIS_SERVER picks another (valkey-server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROVISION = fileURLToPath(new URL('../../scripts/provision-redis.sh', import.meta.url));

export type RedisBinary = { path: string } | { missing: string };

let provisioned: RedisBinary | undefined;

/** The redis-server binary to use, provisioning it on first call (once per process). */
export function redisBinary(): RedisBinary {
  if (provisioned) return provisioned;
  const run = spawnSync('bash', [PROVISION], { encoding: 'utf8', timeout: 300_000 });
  const path = run.stdout?.trim().split('\n').pop();
  provisioned =
    run.status === 0 && path
      ? { path }
      : { missing: (run.stderr || String(run.error ?? `exit ${run.status}`)).trim().split('\n').pop() ?? '' };
  return provisioned;
}

export interface RedisServerOptions {
  /** Turn on the append-only file (fsync every second) in the server's directory. Default off. */
  appendOnly?: boolean;
  /** Extra `--name value` arguments, e.g. `{ maxmemory: '64mb' }`. */
  config?: Record<string, string>;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The server's own directory (AOF files live here); removed by stop(). */
  readonly dir: string;
  /** Whether the process is running now. */
  readonly running: boolean;
  /** SIGTERM and wait for exit; keeps the directory and port for start(). */
  halt(): Promise<void>;
  /** Start again on the same port and directory (after halt()). */
  start(): Promise<void>;
  /** halt() and remove the directory. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns the server and resolves once it logs that it accepts connections; rejects with its output if it exits. */
function launch(binary: string, port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'notice',
  ];
  for (const [key, value] of Object.entries(options.config ?? {})) args.push(`--${key}`, value);
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        child.stdout?.resume();
        resolve(child);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      reject(
        new RedisStartError(`redis-server exited (${code ?? signal}) before ready:\n${output.slice(-2000)}`, output),
      );
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onExit);
    child.once('error', (error) => reject(error));
  });
}

class RedisStartError extends Error {
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.output = output;
  }
}

/** Starts a private redis-server on a free loopback port. */
export async function startRedis(binary: string, options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hefty-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  // The free port can be taken between the probe and the bind: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      child = await launch(binary, port, dir, options);
      break;
    } catch (error) {
      const inUse = error instanceof RedisStartError && /in use|EADDRINUSE/i.test(error.output);
      if (!inUse || attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const halt = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    halt,
    async start() {
      if (child) throw new Error('redis-server is already running');
      child = await launch(binary, port, dir, options);
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
