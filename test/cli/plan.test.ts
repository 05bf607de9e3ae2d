/** `hefty plan` prints what the planner computes for a program file (run as the CLI runs, in a child process). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

function hefty(args: string[]): { out: string; status: number } {
  try {
    return { out: execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: 'pipe' }), status: 0 };
  } catch (e) {
    const failure = e as { stdout: string; stderr: string; status: number };
    return { out: failure.stdout + failure.stderr, status: failure.status };
  }
}

describe('hefty plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hefty-plan-'));
  const file = join(dir, 'program.json');
  writeFileSync(
    file,
    JSON.stringify({
      inputs: { x: 'vector', w: 'plain' },
      steps: [
        { out: 'y', op: 'mul', args: ['x', 'x'] },
        { out: 'd', op: 'dot', args: ['y', 'w'] },
      ],
      outputs: ['d'],
    }),
  );

  it('prints levels, steps, N, chain and key-set bytes', () => {
    const { out, status } = hefty(['plan', file, '--input', 'x=100']);
    expect(status).toBe(0);
    expect(out).toMatch(/^levels +2 /m);
    expect(out).toMatch(/^N +8192 \(4096 slots\), 128-bit security/m);
    expect(out).toMatch(/^chain +\[60, 40, 40, 60\] bits, scale 2\^40/m);
    expect(out).toMatch(/^galois steps +1, 2, 4, 8, 16, 32, 64$/m);
    expect(out).toMatch(/^key set +[\d.]+ MB seeded\+zstd .* \(7 galois keys, relinearization keys, public key\)/m);
    const json = JSON.parse(hefty(['plan', file, '--input', 'x=100', '--json', '--scale-bits', '30']).out);
    expect(json).toMatchObject({ levels: 2, polyModulusDegree: 8192, coeffModulusBits: [50, 30, 30, 50] });
  });

  it('plans BFV and BGV: depth, the noise budget, row steps', () => {
    const { out, status } = hefty(['plan', file, '--input', 'x=100', '--scheme', 'bfv']);
    expect(status).toBe(0);
    expect(out).toMatch(/^depth +2 /m);
    expect(out).toMatch(/^N +8192 \(8192 slots\), 128-bit security, bfv/m);
    expect(out).toMatch(/^chain +\[43, 43, 44, 44, 44\] bits, t 20 bits, noise budget \d+ bits fresh/m);
    expect(out).toMatch(/^galois steps +1, 2, 4, 8, 16, 32, 64$/m);
    const json = JSON.parse(hefty(['plan', file, '--input', 'x=9000', '--scheme', 'bgv', '--json']).out);
    // 9000 elements reach the second batching row: the sum swaps columns (galois step 0).
    expect(json).toMatchObject({ scheme: 'bgv', levels: 2, plainModulusBits: 20 });
    expect(json.galoisSteps[0]).toBe(0);
    expect(hefty(['plan', file, '--input', 'x=100', '--scheme', 'rsa']).out).toContain('E_INVALID_ARGUMENT');
  });

  it('fails with a typed error for missing sizes and bad arguments', () => {
    expect(hefty(['plan', file])).toMatchObject({ status: 1 });
    expect(hefty(['plan', file]).out).toContain('E_BAD_PROGRAM: the planner needs the length of input "x"');
    expect(hefty(['plan', file, '--input', 'x=oops']).out).toContain('E_INVALID_ARGUMENT');
    expect(hefty(['plan', join(dir, 'missing.json'), '--input', 'x=1']).out).toContain('E_INVALID_ARGUMENT');
    expect(hefty(['plan'])).toMatchObject({ status: 1 });
    expect(hefty(['plan']).out).toContain('E_INVALID_ARGUMENT: hefty plan takes one program file');
    rmSync(dir, { recursive: true, force: true });
  });
});
