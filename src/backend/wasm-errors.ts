/**
 * node-seal throws `WebAssembly.Exception`s whose text is only reachable through `getExceptionMessage`, which
 * returns `[cppType, message]`. This module turns them into HeftyErrors with stable codes.
 */
import { HeftyError, type HeftyErrorCode } from '../errors.ts';

/** SEAL's messages, matched by substring, in priority order. */
const MESSAGE_CODES: readonly (readonly [string, HeftyErrorCode])[] = [
  ['end of modulus switching chain reached', 'E_LEVEL_EXHAUSTED'],
  ['scale out of bounds', 'E_SCALE_OUT_OF_BOUNDS'],
  ['scale mismatch', 'E_SCALE_MISMATCH'],
  ['Galois key not present', 'E_MISSING_GALOIS_KEY'],
  ['galois key', 'E_MISSING_GALOIS_KEY'],
  ['result ciphertext is transparent', 'E_TRANSPARENT_RESULT'],
  ['parameter mismatch', 'E_PARAMS_MISMATCH'],
  ['mismatch', 'E_PARAMS_MISMATCH'],
  ['is not valid for encryption parameters', 'E_PARAMS_MISMATCH'],
  ['not valid for encryption parameters', 'E_PARAMS_MISMATCH'],
  ['parms_id', 'E_PARAMS_MISMATCH'],
  ['invalid data size', 'E_BAD_SERIALIZATION'],
  ['insufficient size', 'E_BAD_SERIALIZATION'],
  ['loaded', 'E_BAD_SERIALIZATION'],
  ['SEALHeader', 'E_BAD_SERIALIZATION'],
  ['compr_mode', 'E_BAD_SERIALIZATION'],
  ['decompress', 'E_BAD_SERIALIZATION'],
  ['unsupported', 'E_BAD_SERIALIZATION'],
  ['encryption parameters are not set correctly', 'E_INVALID_PARAMS'],
  ['not set correctly', 'E_INVALID_PARAMS'],
  ['keyswitching is not supported', 'E_UNSUPPORTED'],
  ['unsupported scheme', 'E_UNSUPPORTED'],
  ['too large', 'E_VALUE_OUT_OF_RANGE'],
  ['too many', 'E_LENGTH_MISMATCH'],
  ['invalid', 'E_INVALID_ARGUMENT'],
];

export type ExceptionReader = (e: unknown) => unknown;

function readMessage(e: unknown, readException: ExceptionReader): string {
  const WasmException = (globalThis as { WebAssembly?: { Exception?: new (...args: never[]) => object } }).WebAssembly
    ?.Exception;
  if (WasmException !== undefined && e instanceof WasmException) {
    const read = readException(e);
    if (Array.isArray(read)) return read.filter((part) => typeof part === 'string').join(': ');
    return String(read);
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Converts anything node-seal threw into a HeftyError; `fallback` is used when the message is not recognised. */
export function translateSealError(
  e: unknown,
  readException: ExceptionReader,
  fallback: HeftyErrorCode = 'E_INVALID_ARGUMENT',
): HeftyError {
  if (e instanceof HeftyError) return e;
  const message = readMessage(e, readException);
  const lower = message.toLowerCase();
  const match = MESSAGE_CODES.find(([needle]) => lower.includes(needle.toLowerCase()));
  return new HeftyError(match ? match[1] : fallback, `SEAL: ${message}`, { cause: e });
}
