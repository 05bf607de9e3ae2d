/** Calls into the native addon: its errors carry a HeftyError `code`, which these turn into HeftyErrors. */
import { HeftyError, isHeftyErrorCode } from '../errors.ts';

function translate(e: unknown): unknown {
  if (e instanceof HeftyError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return new HeftyError(isHeftyErrorCode(code) ? code : 'E_INTERNAL', message, { cause: e });
}

/** Runs an addon call, turning its coded errors into HeftyErrors. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw translate(e);
  }
}

export async function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw translate(e);
  }
}
