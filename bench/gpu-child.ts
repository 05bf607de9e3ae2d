/**
 * GPU benches run Dawn in a child process: LD_LIBRARY_PATH and VK_DRIVER_FILES must be set before Dawn loads.
 * `--system` keeps the host's own GPU drivers and environment; otherwise the CPU Vulkan device (lavapipe) from
 * scripts/provision-cpu-webgpu.sh is used. Returns only in the child; the parent exits with the child's status.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gpuTestEnv } from '../test/gpu/gpu-env.ts';

const CHILD_FLAG = 'HEFTY_GPU_BENCH_CHILD';

/** In the parent: runs `script` again in a child with the device's environment and exits. In the child: the device kind. */
export function inGpuChild(script: string): string {
  const device = process.env[CHILD_FLAG];
  if (device) return device;
  const args = process.argv.slice(2);
  const setup = args.includes('--system') ? { env: { ...process.env }, device: 'system' } : gpuTestEnv();
  const child = spawnSync(process.execPath, [fileURLToPath(script), ...args], {
    stdio: 'inherit',
    env: { ...setup.env, [CHILD_FLAG]: setup.device },
  });
  process.exit(child.status ?? 1);
}

/** `--name=1,2,3` → [1, 2, 3], or undefined when absent. */
export function listArg(name: string): number[] | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg
    ? arg
        .slice(name.length + 3)
        .split(',')
        .map(Number)
    : undefined;
}

/** `--name=value`, or undefined when absent. */
export function stringArg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}
