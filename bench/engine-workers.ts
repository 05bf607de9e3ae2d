/**
 * The ceiling for the pool benchmark: the same program run back to back in plain worker threads (no pool,
 * no dispatching, the operand loaded once), one engine per thread with one intra-op thread. Measured beside
 * the pool in the same rounds, its 2-vs-1 ratio is what this machine allows right now.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CKKSVector } from '../src/api/ckks-vector.ts';
import type { Program } from '../src/api/program.ts';

interface Task {
  keySet: Uint8Array;
  x: Uint8Array;
  w: number[];
  program: Program;
  ms: number;
}

/** Items per second that `threads` engine threads complete together in `ms`. */
export async function engineRate(threads: number, task: Task): Promise<number> {
  const rates = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: task });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return rates.reduce((a, b) => a + b, 0);
}

if (!isMainThread && parentPort) {
  const { loadContext } = await import('../src/api/context.ts');
  const { loadBackend } = await import('../src/backend/load.ts');
  const backend = await loadBackend();
  if ('setThreads' in backend && typeof backend.setThreads === 'function') backend.setThreads(1);
  const task = workerData as Task;
  const ctx = await loadContext(task.keySet);
  const x = ctx.loadVector(task.x) as CKKSVector;
  await ctx.run(task.program, { x, w: task.w }); // warm
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < task.ms) {
    const { z } = await ctx.run(task.program, { x, w: task.w });
    z.serialize();
    z.dispose();
    done++;
  }
  parentPort.postMessage(done / ((performance.now() - started) / 1000));
  x.dispose();
  ctx.dispose();
}
