/**
 * GPU NTT / INTT / pointwise ops bit-exact against the BigInt SEAL reference, on a CPU WebGPU device (lavapipe)
 * unless HEFTY_GPU_TEST_DEVICE=system. The checks run in one child process (Dawn needs LD_LIBRARY_PATH before it
 * loads); each becomes its own test here. With no adapter at all the suite reports "skipped: no adapter", or fails
 * when HEFTY_REQUIRE_WEBGPU=1 (CI, where scripts/provision-cpu-webgpu.sh must give it lavapipe).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nttTables } from '../../src/gpu/ntt-tables.ts';
import { referenceForwardRow, referenceInverseRow } from '../../src/gpu/reference-ntt.ts';
import { gpuModeFromEnv } from '../../src/gpu/device.ts';
import { shouldOffload, thresholdFrom } from '../../src/gpu/offload.ts';
import { CHECKS, type CheckReport } from './gpu-checks.ts';
import { gpuTestEnv, noAdapterEnv, runGpuChecks } from './gpu-env.ts';
import { requireAdapter } from './require-adapter.ts';

const setup = gpuTestEnv();
const report = runGpuChecks('run', setup.env) as CheckReport;
const device = `${setup.device}${setup.note ? `; ${setup.note}` : ''}`;

describe(`GPU NTT on ${report.adapter ?? 'no adapter'} (${device})`, () => {
  if (!requireAdapter(report)) return;
  for (const name of Object.keys(CHECKS)) {
    const skipped = report.results[name]?.skipped;
    if (skipped && process.env.HEFTY_REQUIRE_NATIVE !== '1') {
      it.skip(`${name} — skipped: ${skipped}`, () => {});
      continue;
    }
    it(name, () => {
      const result = report.results[name];
      expect(result, `check "${name}" did not report`).toBeDefined();
      expect(result.ok, result.error).toBe(true);
      expect(result.skipped, 'HEFTY_REQUIRE_NATIVE=1: the native cross-checks must run').toBeUndefined();
    });
  }
});

describe('BigInt reference NTT (the GPU oracle) against the SEAL spec vectors', () => {
  const vectors = JSON.parse(readFileSync(new URL('./seal-ntt-vectors.json', import.meta.url), 'utf8')).ntt;
  for (const name of ['N=8', 'N=16']) {
    it(`${name}: ψ, tables, forward, inverse`, () => {
      const v = vectors[name];
      const q = BigInt(v.q);
      const tables = nttTables(v.input.length, q);
      expect(tables.psi).toBe(BigInt(v.psi));
      expect(tables.rootPowers.map(String)).toEqual(v.root_powers);
      expect(tables.invRootPowers.map(String)).toEqual(v.inv_root_powers);
      const row = BigUint64Array.from(v.input, BigInt);
      referenceForwardRow(row, q);
      expect(Array.from(row, String)).toEqual(v.forward);
      referenceInverseRow(row, q);
      expect(Array.from(row, String)).toEqual(v.inverse_of_forward);
    });
  }
  it('refuses moduli that are composite, not 1 mod 2N, or too large, without searching forever', () => {
    const invalid = expect.objectContaining({ code: 'E_INVALID_PARAMS' });
    expect(() => nttTables(4096, 8193n * 16385n)).toThrow(invalid); // composite, 1 mod 8192
    expect(() => nttTables(4096, 1073741827n)).toThrow(invalid);
    expect(() => nttTables(4096, (1n << 62n) + 1n)).toThrow(invalid);
    expect(() => nttTables(3000, 12289n)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });

  it('N=8192 and N=16384 ramps: SHA-256 of the forward transform', () => {
    for (const [name, v] of Object.entries(vectors) as Array<[string, Record<string, string>]>) {
      if (!v.forward_sha256_le_u64) continue;
      const row = new BigUint64Array(Number(v.N)).map((_, i) => BigInt(i));
      referenceForwardRow(row, BigInt(v.q));
      expect(createHash('sha256').update(new Uint8Array(row.buffer)).digest('hex'), name).toBe(v.forward_sha256_le_u64);
    }
  });
});

describe('GPU fallback without an adapter', () => {
  it('auto gives null (CPU path), on is E_BACKEND_UNAVAILABLE, off never loads Dawn; batch evaluator too', () => {
    const env = noAdapterEnv();
    expect(runGpuChecks('no-adapter', env)).toEqual({
      available: false,
      autoIsNull: true,
      onCode: 'E_BACKEND_UNAVAILABLE',
      offReason: 'GPU disabled (HEFTY_GPU=off)',
      batchDevice: null,
      batchPath: 'cpu',
      batchOnCode: 'E_BACKEND_UNAVAILABLE',
    });
  });

  it.runIf(report.adapter !== null)('an adapter name that matches nothing (HEFTY_GPU_ADAPTER) falls back too', () => {
    expect(runGpuChecks('no-adapter', { ...setup.env, HEFTY_GPU_ADAPTER: 'no-such-adapter' })).toMatchObject({
      available: false,
      autoIsNull: true,
      onCode: 'E_BACKEND_UNAVAILABLE',
    });
  });

  it('parses HEFTY_GPU', () => {
    expect(gpuModeFromEnv(undefined)).toBe('auto');
    expect(gpuModeFromEnv('ON')).toBe('on');
    expect(gpuModeFromEnv('off')).toBe('off');
    expect(() => gpuModeFromEnv('maybe')).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
  });
});

describe('offload threshold', () => {
  it('offloads from the smallest batch after which the GPU always won', () => {
    const timings = [
      { polys: 1, cpuMs: 1, gpuMs: 5 },
      { polys: 2, cpuMs: 2, gpuMs: 1 },
      { polys: 4, cpuMs: 4, gpuMs: 5 },
      { polys: 8, cpuMs: 8, gpuMs: 6 },
      { polys: 16, cpuMs: 16, gpuMs: 7 },
    ];
    expect(thresholdFrom(timings)).toBe(8);
    expect(thresholdFrom(timings.map((t) => ({ ...t, gpuMs: t.cpuMs * 2 })))).toBeNull();
    const threshold = { n: 4096, primes: 2, minPolys: 8, timings };
    expect([4, 8, 9].map((p) => shouldOffload(threshold, p))).toEqual([false, true, true]);
    expect(shouldOffload({ ...threshold, minPolys: null }, 1000)).toBe(false);
    expect(shouldOffload(undefined, 1000)).toBe(false);
  });
});
