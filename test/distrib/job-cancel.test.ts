/** The worker side of stopping running jobs: `cancelled` messages abort the signals of the jobs they name. */
import { describe, expect, it } from 'vitest';
import { RunningJobs } from '../../src/distrib/job-cancel.ts';
import { HeftyError } from '../../src/errors.ts';

describe('RunningJobs', () => {
  it('aborts the named jobs running here with the reason the message gives', () => {
    const running = new RunningJobs();
    const a = running.start('job-a');
    const b = running.start('job-b');
    const c = running.start('job-c');
    running.cancel('E_TIMEOUT job-a other-node-job');
    expect(a.aborted).toBe(true);
    expect(a.reason).toBeInstanceOf(HeftyError);
    expect((a.reason as HeftyError).code).toBe('E_TIMEOUT');
    expect(b.aborted).toBe(false);
    running.cancel('E_CANCELLED job-b');
    expect((b.reason as HeftyError).code).toBe('E_CANCELLED');
    // A finished job is no longer registered: a late message for it does nothing.
    running.finish('job-c');
    running.cancel('E_CANCELLED job-c');
    expect(c.aborted).toBe(false);
  });

  it('ignores messages without a known reason', () => {
    const running = new RunningJobs();
    const signal = running.start('job-a');
    for (const message of ['job-a', 'toString job-a', 'E_INTERNAL job-a', '']) running.cancel(message);
    expect(signal.aborted).toBe(false);
  });
});
