/**
 * Fair admission of evaluations. Each tenant may hold at most `tenantMaxInFlight` evaluations (reading their
 * body, waiting or running); past that only that tenant is refused (429). Admitted evaluations wait for one of
 * `slots()` execution slots, granted round-robin across tenants, so one tenant's backlog delays another
 * tenant's request by at most one job per slot. The queue's drain rate (slots ÷ mean job time) gives an
 * honest Retry-After for refusals.
 */
import { HeftyError } from '../errors.ts';

export interface FairGateOptions {
  /** Evaluations handed to the executor at once (its worker count, or a small multiple). */
  slots: () => number;
  /** Admitted evaluations beyond the slots, over all tenants, before everyone gets E_OVERLOADED. */
  maxQueued: number;
  tenantMaxInFlight: number;
  /** An admitted evaluation that waited this long for a slot fails with E_TIMEOUT. */
  waitTimeoutMs: number;
  /** Clock for job durations (milliseconds), for tests. */
  now?: () => number;
}

/** An admitted evaluation: wait for its slot with turn(), then release() (idempotent) when done or abandoned. */
export interface Admission {
  turn(): Promise<void>;
  release(): void;
}

interface Waiter {
  readonly tenant: string;
  readonly grant: () => void;
}

/** A refusal that says when to come back: the error handler sends it as Retry-After. */
export type RetryLaterError = HeftyError & { retryAfterSeconds: number };

export function retryLater(error: HeftyError, seconds: number): RetryLaterError {
  return Object.assign(error, { retryAfterSeconds: seconds });
}

/** Weight of the newest job duration in the running mean. */
const MEAN_WEIGHT = 0.2;
const MAX_RETRY_AFTER_S = 300;

export class FairGate {
  private readonly options: FairGateOptions;
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();
  /** Tenants with waiters, in round-robin order. */
  private readonly ring: string[] = [];
  private admitted = 0;
  private running = 0;
  private meanJobMs = 1000;
  private readonly now: () => number;

  constructor(options: FairGateOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
  }

  /** Admitted evaluations not running yet (reading their body or waiting for a slot). */
  get queued(): number {
    return this.admitted - this.running;
  }

  /** Admitted evaluations beyond the execution slots: the backlog the drain rate must clear. */
  get backlog(): number {
    return Math.max(0, this.admitted - Math.max(1, this.options.slots()));
  }

  tenantInFlight(tenant: string): number {
    return this.inFlight.get(tenant) ?? 0;
  }

  /** Seconds until the current backlog has drained at the measured rate. */
  retryAfterSeconds(): number {
    const slots = Math.max(1, this.options.slots());
    const seconds = ((this.backlog / slots + 1) * this.meanJobMs) / 1000;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(seconds)));
  }

  /** Admits an evaluation of `tenant` or throws (synchronously) E_RATE_LIMITED / E_OVERLOADED. */
  admit(tenant: string): Admission {
    const held = this.tenantInFlight(tenant);
    if (held >= this.options.tenantMaxInFlight) {
      throw retryLater(
        new HeftyError(
          'E_RATE_LIMITED',
          `this tenant already has ${held} evaluations in flight (limit ${this.options.tenantMaxInFlight})`,
        ),
        this.retryAfterSeconds(),
      );
    }
    if (this.admitted >= Math.max(1, this.options.slots()) + this.options.maxQueued) {
      throw retryLater(
        new HeftyError('E_OVERLOADED', `the evaluation queue is full (${this.options.maxQueued})`),
        this.retryAfterSeconds(),
      );
    }
    this.inFlight.set(tenant, held + 1);
    this.admitted++;
    let state: 'admitted' | 'waiting' | 'running' | 'released' = 'admitted';
    let waiter: Waiter | undefined;
    let startedAt = 0;
    return {
      turn: () => {
        if (state !== 'admitted') return Promise.reject(new HeftyError('E_INVALID_ARGUMENT', 'turn() taken twice'));
        if (this.running < this.options.slots() && this.ring.length === 0) {
          state = 'running';
          this.running++;
          startedAt = this.now();
          return Promise.resolve();
        }
        state = 'waiting';
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.dequeue(waiter!);
            reject(new HeftyError('E_TIMEOUT', `waited more than ${this.options.waitTimeoutMs} ms for a slot`));
          }, this.options.waitTimeoutMs);
          waiter = {
            tenant,
            grant: () => {
              clearTimeout(timer);
              state = 'running';
              startedAt = this.now();
              resolve();
            },
          };
          this.enqueue(waiter);
        });
      },
      release: () => {
        if (state === 'released') return;
        if (state === 'waiting' && waiter) this.dequeue(waiter);
        if (state === 'running') {
          this.running--;
          const ms = this.now() - startedAt;
          this.meanJobMs += MEAN_WEIGHT * (ms - this.meanJobMs);
        }
        state = 'released';
        this.admitted--;
        const left = this.tenantInFlight(tenant) - 1;
        if (left > 0) this.inFlight.set(tenant, left);
        else this.inFlight.delete(tenant);
        this.dispatch();
      },
    };
  }

  private enqueue(waiter: Waiter): void {
    const queue = this.waiting.get(waiter.tenant);
    if (queue) queue.push(waiter);
    else {
      this.waiting.set(waiter.tenant, [waiter]);
      this.ring.push(waiter.tenant);
    }
  }

  private dequeue(waiter: Waiter): void {
    const queue = this.waiting.get(waiter.tenant);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.dropTenant(waiter.tenant);
  }

  private dropTenant(tenant: string): void {
    this.waiting.delete(tenant);
    const at = this.ring.indexOf(tenant);
    if (at >= 0) this.ring.splice(at, 1);
  }

  /** Grants free slots round-robin: the tenant at the head of the ring gets one, then goes to the back. */
  private dispatch(): void {
    while (this.running < this.options.slots() && this.ring.length > 0) {
      const tenant = this.ring.shift()!;
      const queue = this.waiting.get(tenant)!;
      const next = queue.shift()!;
      if (queue.length > 0) this.ring.push(tenant);
      else this.waiting.delete(tenant);
      this.running++;
      next.grant();
    }
  }
}

/**
 * Per-tenant cost budget: a bucket of `perMinute` cost units (src/server/cost.ts) refilled continuously. A
 * request is charged its estimate before it is queued; one the bucket cannot cover gets 429 with the seconds
 * until it could.
 */
export class CostBudget {
  private readonly perMinute: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, { units: number; at: number }>();

  constructor(perMinute: number, now: () => number = () => performance.now()) {
    this.perMinute = perMinute;
    this.now = now;
  }

  private level(tenant: string): { units: number; at: number } {
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { units: this.perMinute, at: now };
    bucket.units = Math.min(this.perMinute, bucket.units + ((now - bucket.at) * this.perMinute) / 60_000);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    return bucket;
  }

  /** Takes `units` from the tenant's bucket or throws E_RATE_LIMITED (with retryAfterSeconds on the error). */
  charge(tenant: string, units: number): void {
    const bucket = this.level(tenant);
    if (bucket.units >= units) {
      bucket.units -= units;
      return;
    }
    const seconds = Math.ceil(((units - bucket.units) * 60) / this.perMinute);
    throw retryLater(
      new HeftyError('E_RATE_LIMITED', `this tenant's evaluation budget is spent for now (needs ${units} units)`),
      seconds,
    );
  }
}
