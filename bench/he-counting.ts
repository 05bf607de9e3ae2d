/**
 * Shared by the he-* benches: a key switcher that serves requests on the CPU evaluator (as the default one does)
 * and counts what it served, and small timing helpers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { serveOnCpu, type KeySwitcher, type KeySwitchRequest } from '../src/api/key-switching.ts';
import type { Session } from '../src/api/session.ts';

export class CountingKeySwitcher implements KeySwitcher {
  readonly device = null;
  readonly stats = { requests: 0, ciphertexts: 0, gpuRequests: 0, gpuCiphertexts: 0, largestRequest: 0 };
  rotations = 0;
  hoistedRotations = 0;
  relinearizations = 0;
  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  serve(request: KeySwitchRequest) {
    const size = request.list.length;
    this.stats.requests++;
    if (request.op === 'relinearize') this.relinearizations += size;
    else if (request.op === 'rotate') this.rotations += size;
    else this.hoistedRotations += size * request.steps.length;
    return serveOnCpu(this.#session.evaluator, request, this.#session);
  }

  reset(): void {
    this.stats.requests = 0;
    this.rotations = 0;
    this.hoistedRotations = 0;
    this.relinearizations = 0;
  }

  dispose(): void {}
}

export function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Wall time and this process's CPU time (user + system, all threads). On a shared, loaded machine wall time
 * includes waiting for a core; with one engine thread the CPU time is the work itself, so ratios use it.
 */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; wallMs: number; value: T }> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { ms: (used.user + used.system) / 1000, wallMs: performance.now() - wall, value };
}

export function timeSync<T>(fn: () => T): { ms: number; wallMs: number; value: T } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { ms: (used.user + used.system) / 1000, wallMs: performance.now() - wall, value };
}

/** Writes bench/results/<date>-<suite>.{json,md}. */
export function writeBenchResults(suite: string, data: unknown, table: string): void {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  writeFileSync(new URL(`./results/${date}-${suite}.json`, import.meta.url), JSON.stringify(data, null, 2));
  writeFileSync(new URL(`./results/${date}-${suite}.md`, import.meta.url), table + '\n');
}
