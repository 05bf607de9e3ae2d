/** The fair gate (per-tenant in-flight limits, round-robin slots, Retry-After), cost budgets and estimates. */
import { describe, expect, it } from 'vitest';
import type { Program } from '../../src/api/program.ts';
import { HeftyError } from '../../src/errors.ts';
import { estimateCost } from '../../src/server/cost.ts';
import { CostBudget, FairGate, type RetryLaterError } from '../../src/server/tenant-limits.ts';

function refusal(work: () => unknown): RetryLaterError {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(HeftyError);
    return e as RetryLaterError;
  }
  throw new Error('expected a refusal');
}

describe('FairGate', () => {
  it("refuses a tenant's excess alone, and grants slots round-robin across tenants", async () => {
    const gate = new FairGate({ slots: () => 1, maxQueued: 100, tenantMaxInFlight: 4, waitTimeoutMs: 60_000 });
    const a = Array.from({ length: 4 }, () => gate.admit('a'));
    expect(refusal(() => gate.admit('a')).code).toBe('E_RATE_LIMITED');
    const b = [gate.admit('b'), gate.admit('b')];
    const order: string[] = [];
    const turns = [
      ...a.map((x, i) => x.turn().then(() => order.push(`a${i}`))),
      ...b.map((x, i) => x.turn().then(() => order.push(`b${i}`))),
    ];
    // a0 runs at once; the rest alternate between the tenants as slots free up.
    const all = [...a, ...b];
    for (let done = 0; done < all.length; done++) {
      await new Promise((resolve) => setImmediate(resolve));
      const running = order[done];
      all[running.startsWith('a') ? Number(running[1]) : 4 + Number(running[1])].release();
    }
    await Promise.all(turns);
    expect(order).toEqual(['a0', 'a1', 'b0', 'a2', 'b1', 'a3']);
    expect(gate.tenantInFlight('a')).toBe(0);
    expect(gate.admit('a')).toBeDefined();
  });

  it('refuses everyone once the shared backlog is full, and times out long waits', async () => {
    const gate = new FairGate({ slots: () => 1, maxQueued: 1, tenantMaxInFlight: 10, waitTimeoutMs: 50 });
    const first = gate.admit('a');
    const second = gate.admit('b');
    expect(refusal(() => gate.admit('c')).code).toBe('E_OVERLOADED');
    await first.turn();
    await expect(second.turn()).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    second.release();
    first.release();
    expect(gate.queued).toBe(0);
  });

  it('Retry-After follows the measured drain rate: backlog ÷ slots × mean job time', async () => {
    let clock = 0;
    const gate = new FairGate({
      slots: () => 2,
      maxQueued: 100,
      tenantMaxInFlight: 100,
      waitTimeoutMs: 60_000,
      now: () => clock,
    });
    // Jobs of 4 s each: the running mean moves from its 1 s prior towards 4 s.
    for (let i = 0; i < 30; i++) {
      const job = gate.admit('a');
      await job.turn();
      clock += 4000;
      job.release();
    }
    const held = Array.from({ length: 22 }, () => gate.admit('a')); // 2 running + 20 backlog
    const seconds = refusal(() => Array.from({ length: 100 }, () => gate.admit('a'))).retryAfterSeconds;
    // 100 admitted at most: 98 beyond the 2 slots → (98 / 2 + 1) × ~4 s ≈ 200 s.
    expect(seconds).toBeGreaterThan(180);
    expect(seconds).toBeLessThanOrEqual(200);
    expect(held).toHaveLength(22);
  });
});

describe('CostBudget', () => {
  it('charges per tenant, refills over a minute, and says when to come back', () => {
    let clock = 0;
    const budget = new CostBudget(600, () => clock);
    budget.charge('a', 500);
    const refused = refusal(() => budget.charge('a', 200));
    expect(refused.code).toBe('E_RATE_LIMITED');
    expect(refused.retryAfterSeconds).toBe(10); // 100 units missing at 10 units per second
    budget.charge('b', 600); // another tenant's bucket is its own
    clock += 10_000;
    budget.charge('a', 200);
  });
});

describe('estimateCost', () => {
  const shape = { polyModulusDegree: 8192, slotCount: 4096, primes: 4 };
  it('counts key switches and scales by N·L²', () => {
    const dot: Program = {
      inputs: { x: 'vector', w: 'plain' },
      steps: [{ out: 'z', op: 'dot', args: ['x', 'w'] }],
      outputs: ['z'],
    };
    const small = estimateCost(dot, { polyModulusDegree: 4096, slotCount: 2048, primes: 2 });
    expect(small.keySwitches).toBe(11);
    expect(small.units).toBe(11);
    const big = estimateCost(dot, shape);
    expect(big.keySwitches).toBe(12);
    expect(big.units).toBe(12 * 2 * 4);
    expect(estimateCost(dot, shape, 3).units).toBe(3 * big.units);
  });

  it('bounds output bytes by outputs × chunks × a top-level ciphertext', () => {
    const names = Array.from({ length: 256 }, (_, i) => `o${i}`);
    const program: Program = {
      inputs: { x: 'vector' },
      steps: names.map((out) => ({ out, op: 'negate', args: ['x'] as const })),
      outputs: names,
    };
    const estimate = estimateCost(program, shape);
    expect(estimate.outputs).toBe(256);
    expect(estimate.outputBytes).toBeGreaterThan(256 * 2 * 8192 * 3 * 8);
  });
});
