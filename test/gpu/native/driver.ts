/**
 * Builds and runs test/gpu/native/ntt-driver.cpp: hefty's native NTT engine and modular arithmetic (native/rlwe,
 * from build/libhefty_core.a) over a batch, for the GPU cross-check and the bench's CPU column.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeOp = 'forward' | 'inverse' | 'add' | 'sub' | 'mul' | 'mac';

export interface NativeNttDriver {
  /**
   * Runs `op` on polys × K × N words (row r with prime r mod K): the transforms take one operand, add/sub/mul
   * two (a, b), mac three (acc, a, b → acc + a·b). Returns the result and the computation time.
   */
  run(n: number, moduli: readonly bigint[], op: NativeOp, ...operands: BigUint64Array[]): NativeRun;
  dispose(): void;
}

export interface NativeRun {
  output: BigUint64Array;
  /** Transform time inside the driver (one thread, no process start or I/O). */
  ms: number;
}

/**
 * Compiles the driver into `output` (libstdc++ and libgcc linked statically, so a prebuilt copy also runs on a
 * machine without a compiler, see scripts/gpu-device-bundle.sh). Returns null, or why it did not build.
 */
export function compileNativeNttDriver(output: string): string | null {
  const library = fileURLToPath(new URL('../../../build/libhefty_core.a', import.meta.url));
  if (!existsSync(library)) return 'native engine not built (no build/libhefty_core.a)';
  const source = fileURLToPath(new URL('./ntt-driver.cpp', import.meta.url));
  const include = fileURLToPath(new URL('../../../native', import.meta.url));
  const flags = ['-std=c++17', '-O2', '-I', include, source, library, '-lpthread', '-static-libstdc++', '-static-libgcc'];
  const build = spawnSync('g++', [...flags, '-o', output], { encoding: 'utf8' });
  if (build.status === 0) return null;
  return `native NTT driver did not build: ${(build.stderr || String(build.error)).trim().split('\n').slice(-3).join(' | ')}`;
}

/**
 * The driver (HEFTY_NTT_DRIVER names a prebuilt one), or why it cannot be built here (native engine not built,
 * no compiler, API changed).
 */
export function buildNativeNttDriver(): NativeNttDriver | { skipped: string } {
  const prebuilt = process.env.HEFTY_NTT_DRIVER;
  if (prebuilt) {
    return existsSync(prebuilt) ? driverAt(prebuilt, () => {}) : { skipped: `HEFTY_NTT_DRIVER ${prebuilt} is missing` };
  }
  const folder = mkdtempSync(join(tmpdir(), 'hefty-ntt-driver-'));
  const driver = join(folder, 'ntt-driver');
  const failure = compileNativeNttDriver(driver);
  const remove = () => rmSync(folder, { recursive: true, force: true });
  if (failure) {
    remove();
    return { skipped: failure };
  }
  return driverAt(driver, remove);
}

function driverAt(driver: string, dispose: () => void): NativeNttDriver {
  return {
    run(n, moduli, op, ...operands) {
      const data = operands[0];
      const input = Buffer.concat(operands.map((o) => new Uint8Array(o.buffer, o.byteOffset, o.byteLength)));
      const result = spawnSync(driver, [String(n), op, ...moduli.map(String)], {
        input,
        maxBuffer: data.byteLength + 1024,
        env: { ...process.env, HEFTY_NTT_DRIVER_TIME: '1' },
      });
      if (result.status !== 0) throw new Error(`native driver failed: ${result.stderr.toString()}`);
      const bytes = result.stdout.buffer.slice(result.stdout.byteOffset, result.stdout.byteOffset + data.byteLength);
      const ns = Number(/ns=(\d+)/.exec(result.stderr.toString())?.[1] ?? NaN);
      return { output: new BigUint64Array(bytes), ms: ns / 1e6 };
    },
    dispose,
  };
}
