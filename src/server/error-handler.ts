/**
 * Every error leaves the service as `{ code, message }` with the status from ERROR_CODES. Fastify's own errors
 * (body limits, content types, JSON syntax, schema validation) and plugin errors are mapped onto hefty codes;
 * anything unexpected becomes E_INTERNAL without leaking its message.
 */
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { ERROR_CODES, HeftyError, isHeftyErrorCode, type HeftyErrorCode } from '../errors.ts';
import { appWide } from './services.ts';

const BY_STATUS: Record<number, HeftyErrorCode> = {
  401: 'E_UNAUTHORIZED',
  404: 'E_NOT_FOUND',
  413: 'E_BODY_TOO_LARGE',
  415: 'E_UNSUPPORTED_MEDIA_TYPE',
  429: 'E_RATE_LIMITED',
};

export function toHeftyError(error: unknown): HeftyError {
  if (error instanceof HeftyError) return error;
  const e = error as Partial<FastifyError> & { cause?: unknown };
  if (e?.cause instanceof HeftyError) return e.cause;
  if (isHeftyErrorCode(e?.code)) return new HeftyError(e.code, String(e.message));
  if (e?.validation) return new HeftyError('E_INVALID_ARGUMENT', `invalid request: ${e.message}`);
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    return new HeftyError(BY_STATUS[status] ?? 'E_INVALID_ARGUMENT', String(e.message ?? 'bad request'));
  }
  return new HeftyError('E_INTERNAL', 'internal error', { cause: error });
}

export const errorPlugin: FastifyPluginAsync<{ retryAfterSeconds: number }> = appWide(async (app, opts) => {
  app.setErrorHandler(async (error, request, reply) => {
    const heftyError = toHeftyError(error);
    const status = ERROR_CODES[heftyError.code].httpStatus;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: heftyError.code }, `request refused: ${heftyError.message}`);
    // Refusals that know when capacity comes back (the fair gate's drain rate, a cost budget) say so.
    const retryAfter = (heftyError as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    else if (heftyError.code === 'E_OVERLOADED' || heftyError.code === 'E_UNAVAILABLE')
      reply.header('retry-after', String(opts.retryAfterSeconds));
    const message = heftyError.code === 'E_INTERNAL' ? 'internal error' : heftyError.message;
    return reply.status(status).type('application/json').send({ code: heftyError.code, message });
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send({ code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
});
