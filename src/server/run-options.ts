/**
 * Per-request executor options from HTTP: the client's Idempotency-Key (a retry with the same key, through any
 * API node, joins the work already done or under way), and an abort signal that fires when the client goes
 * away before its answer is sent, so work not started yet is dropped.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeftyError } from '../errors.ts';
import type { RunOptions } from './executor.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function runOptions(request: FastifyRequest, reply: FastifyReply): RunOptions {
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
    throw new HeftyError('E_INVALID_ARGUMENT', 'Idempotency-Key must be 1 to 128 printable ASCII characters');
  }
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { ...(key !== undefined ? { idempotencyKey: key } : {}), signal: controller.signal };
}
