/**
 * Reads a multipart request part by part with its route's limits enforced while bytes stream in: a part is
 * never buffered past the limit (the request fails as soon as the running total passes it), and parser
 * errors (no boundary, truncated parts, bad part headers) are the client's fault: E_INVALID_ARGUMENT, not 500.
 */
import type { FastifyRequest } from 'fastify';
import { HeftyError } from '../errors.ts';
import { toHeftyError } from './error-handler.ts';

export type Part = { kind: 'file'; name: string; bytes: Uint8Array } | { kind: 'field'; name: string; value: string };

export interface PartLimits {
  /** Bytes of all parts together (files and fields). */
  totalBytes: number;
  /** Number of parts. */
  parts: number;
}

function tooLarge(limit: number): HeftyError {
  return new HeftyError('E_BODY_TOO_LARGE', `multipart body larger than ${limit} bytes`);
}

/** Fastify and plugin errors keep their mapping (413 stays 413); anything else from the parser is malformed input. */
function asClientError(error: unknown): HeftyError {
  const mapped = toHeftyError(error);
  if (mapped.code !== 'E_INTERNAL') return mapped;
  const reason = error instanceof Error ? error.message : String(error);
  return new HeftyError('E_INVALID_ARGUMENT', `malformed multipart body: ${reason}`);
}

export async function* readParts(request: FastifyRequest, limits: PartLimits): AsyncGenerator<Part> {
  let total = 0;
  try {
    // One byte over the limit for busboy, so that the count below sees the overflow and stops reading at once
    // (busboy itself would keep parsing a truncated part to its end before the stream ends).
    const parts = request.parts({
      limits: { fileSize: limits.totalBytes + 1, fieldSize: limits.totalBytes + 1, parts: limits.parts },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        const chunks: Buffer[] = [];
        for await (const chunk of part.file as AsyncIterable<Buffer>) {
          total += chunk.length;
          if (total > limits.totalBytes) throw tooLarge(limits.totalBytes);
          chunks.push(chunk);
        }
        if (part.file.truncated) throw tooLarge(limits.totalBytes);
        yield { kind: 'file', name: part.fieldname, bytes: new Uint8Array(Buffer.concat(chunks)) };
      } else {
        const value = String(part.value);
        total += Buffer.byteLength(value);
        if (total > limits.totalBytes || part.valueTruncated) throw tooLarge(limits.totalBytes);
        yield { kind: 'field', name: part.fieldname, value };
      }
    }
  } catch (error) {
    throw asClientError(error);
  }
}
