/**
 * A CPU cap for a child process, as a container's CPU limit sets one (Kubernetes `limits.cpu: 500m`): a cgroup of
 * its own with a CFS quota, which can be changed while the process runs. cgroup v2 (`cpu.max`) or v1
 * (`cpu.cfs_quota_us`); it needs a writable cpu controller, which in practice means root. Where there is none,
 * `cpuCaps()` says why and the caller measures without caps.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CFS period: short, so that a capped process runs in short slices rather than 50 ms on, 50 ms off. */
const PERIOD_US = 20_000;

export interface CpuCap {
  /** The command line that starts `command` inside this cgroup (the shell joins it, then execs). */
  wrap(command: readonly string[]): string[];
  /** At most `cpus` CPUs' worth of time per period, or no cap (null). */
  set(cpus: number | null): void;
  /** Removes the cgroup (its processes must have exited). */
  remove(): void;
}

interface Hierarchy {
  root: string;
  limit(dir: string, cpus: number | null): void;
}

function writable(dir: string): boolean {
  try {
    const probe = join(dir, `hefty-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

function hierarchy(): Hierarchy | string {
  const v2 = '/sys/fs/cgroup';
  if (existsSync(join(v2, 'cgroup.controllers'))) {
    if (!readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu'))
      return 'the cgroup v2 hierarchy has no cpu controller';
    try {
      writeFileSync(join(v2, 'cgroup.subtree_control'), '+cpu');
    } catch {
      return 'cannot enable the cpu controller for child cgroups (needs root)';
    }
    if (!writable(v2)) return 'cannot create a cgroup (needs root)';
    return {
      root: v2,
      limit: (dir, cpus) =>
        writeFileSync(join(dir, 'cpu.max'), `${cpus === null ? 'max' : Math.round(cpus * PERIOD_US)} ${PERIOD_US}`),
    };
  }
  const v1 = join(v2, 'cpu');
  if (!existsSync(join(v1, 'cpu.cfs_quota_us'))) return 'no cgroup cpu controller is mounted';
  if (!writable(v1)) return 'cannot create a cgroup (needs root)';
  return {
    root: v1,
    limit: (dir, cpus) => {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(cpus === null ? -1 : Math.round(cpus * PERIOD_US)));
    },
  };
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Already gone, or a process still in it (a killed one not yet reaped).
  }
}

/** A factory of CPU caps, or why there can be none on this machine. */
export function cpuCaps(): { make(): CpuCap } | { unavailable: string } {
  const found = hierarchy();
  if (typeof found === 'string') return { unavailable: found };
  const made = new Set<string>();
  let count = 0;
  process.once('exit', () => made.forEach(removeDir));
  return {
    make() {
      const dir = join(found.root, `hefty-bench-${process.pid}-${count++}`);
      mkdirSync(dir);
      made.add(dir);
      const remove = () => {
        removeDir(dir);
        made.delete(dir);
      };
      return {
        wrap: (command) => ['sh', '-c', `echo $$ > '${join(dir, 'cgroup.procs')}' && exec "$@"`, 'sh', ...command],
        set: (cpus) => found.limit(dir, cpus),
        remove,
      };
    },
  };
}
