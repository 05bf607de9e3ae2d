/**
 * Per-request executor options from HTTP: the client's Idempotency-Key (a retry with the same key, through any
 * API node, joins the work already done or under way; the route schema, idempotencyHeaders in schemas.ts, checks
 * its form and documents it), and an abort signal that fires when the client goes away before its answer is
 * sent, so work not started yet is dropped and running jobs stop between items.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RunOptions } from './executor.ts';

export function runOptions(request: FastifyRequest, reply: FastifyReply): RunOptions {
  const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { ...(key !== undefined ? { idempotencyKey: key } : {}), signal: controller.signal };
}
