/**
 * Failed authentications counted per client address in one-minute windows: past the limit, that address is
 * refused (429 with Retry-After) before any key is checked, until its window ends. Guessing keys stays slow,
 * and the table stays small (expired windows are dropped as it grows).
 */
import { HeftyError } from '../errors.ts';
import { retryLater } from './tenant-limits.ts';

const WINDOW_MS = 60_000;
const PRUNE_ABOVE = 10_000;

export class AuthThrottle {
  private readonly perMinute: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, { failures: number; start: number }>();

  constructor(perMinute: number, now: () => number = Date.now) {
    this.perMinute = perMinute;
    this.now = now;
  }

  private current(address: string): { failures: number; start: number } | undefined {
    const window = this.windows.get(address);
    if (window && this.now() - window.start >= WINDOW_MS) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  /** Throws E_RATE_LIMITED while the address has used up its failures for this window. */
  check(address: string): void {
    const window = this.current(address);
    if (window && window.failures >= this.perMinute) {
      const seconds = Math.max(1, Math.ceil((window.start + WINDOW_MS - this.now()) / 1000));
      throw retryLater(new HeftyError('E_RATE_LIMITED', 'too many failed authentications from this address'), seconds);
    }
  }

  failed(address: string): void {
    if (this.windows.size > PRUNE_ABOVE) for (const key of [...this.windows.keys()]) this.current(key);
    const window = this.current(address);
    if (window) window.failures++;
    else this.windows.set(address, { failures: 1, start: this.now() });
  }
}
