/**
 * Programs and pool workers with GPU key switching: the same program over multi-chunk vectors (mul, square,
 * rotate, sum, dot, matvec, polyval) gives identical output bytes with the GPU on and off, the GPU run really
 * sent its key switching to the device, and without an adapter auto stays on the CPU. On a CPU WebGPU device
 * (lavapipe) unless HEFTY_GPU_TEST_DEVICE=system; the checks run in a child (see program-checks.ts).
 */
import { describe, expect, it } from 'vitest';
import { gpuTestEnv, noAdapterEnv, runChildChecks } from './gpu-env.ts';
import { requireAdapter } from './require-adapter.ts';
import type { ProgramCheckReport } from './program-checks.ts';

const setup = gpuTestEnv();
const report = runChildChecks('program-checks.ts', 'run', setup.env) as ProgramCheckReport;

function detail(name: string): Record<string, unknown> {
  const result = report.results[name];
  expect(result, `check "${name}" did not report`).toBeDefined();
  if (!result.ok) expect.fail(result.error);
  return (result.detail ?? {}) as Record<string, unknown>;
}

describe(`programs with GPU key switching on ${report.adapter ?? 'no adapter'} (${setup.device})`, () => {
  if (!requireAdapter(report)) return;

  it('gpu off: outputs decrypt to the reference, no device, batched requests (3 chunks at once)', () => {
    expect(detail('cpu')).toMatchObject({ gpuRequests: 0, largestRequest: 3 });
  });

  it('gpu on: every key-switching request went to the device, output bytes identical to gpu off', () => {
    const { device, stats } = detail('gpu') as { device: string | null; stats: Record<string, number> };
    expect(device).toBe(report.adapter);
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.gpuRequests).toBe(stats.requests);
    expect(stats.largestRequest).toBe(3);
  });

  it('mutation: a key-switching kernel that floors instead of rounding changes the outputs of rotations', () => {
    // Products are rescaled right after relinearizing, which divides a ±1 error away (batch-checks.ts catches the
    // same mutation on bare relinearizations); rotation results keep it.
    // (A ±1 crossing a rounding boundary of the rescale, ~1e-9 per coefficient, may rarely show in a product too.)
    const { differing } = detail('mutation') as { differing: string[] };
    expect(differing).toEqual(expect.arrayContaining(['rotated', 'total', 'inner', 'rows']));
  });

  it('a pool worker with HEFTY_GPU=on gives the same bytes', () => {
    detail('pool');
  });
});

describe('programs without a GPU adapter', () => {
  it('auto runs on the CPU with identical bytes (in-process and in a pool worker); on is E_BACKEND_UNAVAILABLE', () => {
    const env = noAdapterEnv();
    expect(runChildChecks('program-checks.ts', 'no-adapter', env)).toEqual({
      auto: { ok: true, detail: { device: null, gpuRequests: 0 } },
      on: { ok: true, detail: { code: 'E_BACKEND_UNAVAILABLE' } },
      poolAuto: { ok: true, detail: {} },
      poolOn: { ok: true, detail: { error: 'E_BACKEND_UNAVAILABLE' } },
    });
  });
});
