/**
 * The environment a child process needs to reach a WebGPU adapter in tests and benches. By default the CPU
 * Vulkan device (lavapipe) from scripts/provision-cpu-webgpu.sh, so results do not depend on the host's GPU;
 * HEFTY_GPU_TEST_DEVICE=system uses the host's own drivers and environment unchanged.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROVISION = fileURLToPath(new URL('../../scripts/provision-cpu-webgpu.sh', import.meta.url));

export interface GpuTestEnv {
  env: NodeJS.ProcessEnv;
  device: 'lavapipe' | 'system';
  /** Why lavapipe is not used, when it is not. */
  note?: string;
}

export function gpuTestEnv(): GpuTestEnv {
  if (process.env.HEFTY_GPU_TEST_DEVICE === 'system') return { env: { ...process.env }, device: 'system' };
  const run = spawnSync('bash', [PROVISION], { encoding: 'utf8', timeout: 180_000 });
  if (run.status !== 0) {
    const note = `lavapipe provisioning failed: ${(run.stderr || String(run.error)).trim().split('\n').pop()}`;
    return { env: { ...process.env }, device: 'system', note };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, HEFTY_GPU: 'auto' };
  for (const line of run.stdout.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, raw] = match;
    // The only shell expansion the script emits: appending the current LD_LIBRARY_PATH.
    const value = raw.replace(/\$\{LD_LIBRARY_PATH:\+:\$LD_LIBRARY_PATH\}/, () =>
      process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : '',
    );
    env[key] = value;
  }
  return { env, device: 'lavapipe' };
}

/** Runs test/gpu/gpu-checks.ts in a child with `env` and returns its result object. */
export function runGpuChecks(command: 'run' | 'no-adapter', env: NodeJS.ProcessEnv): unknown {
  return runChildChecks('gpu-checks.ts', command, env);
}

/** Runs a check script of test/gpu/ in a child with `env`; it prints its result as one `@@RESULT` JSON line. */
export function runChildChecks(script: string, command: 'run' | 'no-adapter', env: NodeJS.ProcessEnv): unknown {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawnSync(process.execPath, [path, command], { encoding: 'utf8', env, timeout: 240_000 });
  const line = child.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) {
    throw new Error(
      `${script} ${command} exited ${child.status ?? child.signal} without a result:\n${child.stderr.slice(-4000)}`,
    );
  }
  return JSON.parse(line.slice('@@RESULT '.length));
}

/** An environment in which Dawn finds no Vulkan driver at all: the "no adapter" case on any machine. */
export function noAdapterEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VK_DRIVER_FILES: '/nonexistent/icd.json',
    VK_ICD_FILENAMES: '/nonexistent/icd.json',
    HEFTY_GPU_BACKEND: 'vulkan',
  };
  delete env.LD_LIBRARY_PATH;
  return env;
}
