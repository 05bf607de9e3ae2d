/**
 * What a GPU suite shows when there is no WebGPU adapter: a failure where one is required (CI sets
 * HEFTY_REQUIRE_WEBGPU=1, as lavapipe must provision there), else an explicit "skipped: no adapter". Returns
 * whether an adapter is there, so the suite registers its own tests only then.
 */
import { expect, it } from 'vitest';

export function requireAdapter(report: { adapter: string | null; reason?: string }): boolean {
  if (report.adapter !== null) return true;
  if (process.env.HEFTY_REQUIRE_WEBGPU === '1') {
    it('a WebGPU adapter is required (HEFTY_REQUIRE_WEBGPU=1)', () => {
      expect.fail(`no adapter: ${report.reason}`);
    });
  } else {
    it.skip(`skipped: no adapter (${report.reason})`, () => {});
  }
  return false;
}
