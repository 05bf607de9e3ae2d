/**
 * Every failure in hefty is a HeftyError with a stable string code. The table below is the single source of
 * truth for codes: the API, the pool and the HTTP service all use it (the service maps `httpStatus`).
 */
export const ERROR_CODES = {
  E_INVALID_ARGUMENT: { httpStatus: 400, summary: 'An argument has the wrong type, shape or value.' },
  E_LENGTH_MISMATCH: { httpStatus: 400, summary: 'Operand lengths do not fit together.' },
  E_NOT_FINITE: { httpStatus: 400, summary: 'An input value is NaN or infinite.' },
  E_VALUE_OUT_OF_RANGE: { httpStatus: 400, summary: 'An input value does not fit the plaintext space.' },
  E_INVALID_PARAMS: { httpStatus: 400, summary: 'Encryption parameters are invalid.' },
  E_INSECURE_PARAMS: { httpStatus: 400, summary: 'Parameters are below the required security level.' },
  E_BAD_SERIALIZATION: { httpStatus: 400, summary: 'Serialized bytes are malformed, truncated or oversized.' },
  E_PARAMS_MISMATCH: { httpStatus: 400, summary: 'Objects belong to different parameters or contexts.' },
  E_SCALE_MISMATCH: { httpStatus: 400, summary: 'Operand scales differ.' },
  E_SCALE_OUT_OF_BOUNDS: { httpStatus: 400, summary: 'The scale is too large or too small for the level.' },
  E_LEVEL_EXHAUSTED: { httpStatus: 400, summary: 'No modulus level is left for this operation.' },
  E_MISSING_GALOIS_KEY: { httpStatus: 400, summary: 'A Galois key needed for a rotation is missing.' },
  E_MISSING_KEY: { httpStatus: 400, summary: 'A key needed for this operation is missing.' },
  E_TRANSPARENT_RESULT: { httpStatus: 400, summary: 'The result would be a transparent (unencrypted) ciphertext.' },
  E_BAD_PROGRAM: { httpStatus: 400, summary: 'The program is malformed or references unknown values.' },
  E_UNSUPPORTED: { httpStatus: 400, summary: 'The operation is not supported for this scheme or backend.' },
  E_DISPOSED: { httpStatus: 400, summary: 'The object was disposed and cannot be used.' },
  E_UNAUTHORIZED: { httpStatus: 401, summary: 'Missing or invalid API key.' },
  E_SECRET_KEY_REFUSED: { httpStatus: 403, summary: 'Secret keys are refused by this service.' },
  E_NOT_FOUND: { httpStatus: 404, summary: 'No such object for this tenant.' },
  E_CANCELLED: { httpStatus: 409, summary: 'The job was cancelled.' },
  E_QUOTA_EXCEEDED: { httpStatus: 413, summary: 'The tenant storage quota would be exceeded.' },
  E_BODY_TOO_LARGE: { httpStatus: 413, summary: 'The request body is larger than allowed.' },
  E_UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, summary: 'The request body has an unsupported content type.' },
  E_RATE_LIMITED: { httpStatus: 429, summary: 'Too many requests for this tenant.' },
  E_INTERNAL: { httpStatus: 500, summary: 'An unexpected internal error.' },
  E_WORKER_LOST: { httpStatus: 500, summary: 'The worker running the job crashed or was killed.' },
  E_BACKEND_UNAVAILABLE: { httpStatus: 500, summary: 'The requested backend cannot be loaded.' },
  E_OVERLOADED: { httpStatus: 503, summary: 'The job queue is full; retry later.' },
  E_UNAVAILABLE: {
    httpStatus: 503,
    summary: 'The service, or the shared store (Redis) it needs, cannot be reached; or the address is in use.',
  },
  E_TIMEOUT: { httpStatus: 504, summary: 'The job did not finish in time.' },
} as const satisfies Record<string, { httpStatus: number; summary: string }>;

export type HeftyErrorCode = keyof typeof ERROR_CODES;

export class HeftyError extends Error {
  readonly code: HeftyErrorCode;

  constructor(code: HeftyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeftyError';
    this.code = code;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].httpStatus;
  }

  toJSON(): { code: HeftyErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isHeftyErrorCode(code: unknown): code is HeftyErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Throws E_INVALID_ARGUMENT with `message` unless `condition` holds. */
export function check(
  condition: unknown,
  message: string,
  code: HeftyErrorCode = 'E_INVALID_ARGUMENT',
): asserts condition {
  if (!condition) throw new HeftyError(code, message);
}
