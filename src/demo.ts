/**
 * `npm run demo` / `hefty demo`: private scoring end to end. A client encrypts an embedding-like vector; the
 * service (started here, in-process, on a loopback port with a throwaway key store) scores it against a
 * plaintext weight matrix (matvec) and applies a polynomial activation; the client decrypts and compares with
 * the same computation in float64. The service never sees the secret key or the plaintext.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext, programGaloisSteps, type CKKSVector, type Program } from './index.ts';
import { HeftyClient } from './client/client.ts';

export interface DemoOptions {
  /** Use a running service instead of starting one. */
  baseUrl?: string;
  apiKey?: string;
  dimension?: number;
  classes?: number;
  log?: (line: string) => void;
}

/** Smooth activation: a cubic fit of the logistic function on [-4, 4]. */
export const ACTIVATION: readonly number[] = [0.5, 0.197, 0, -0.004];

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** N=8192 within the 128-bit bound (≤ 218 bits) with four 30-bit levels: matvec (1) + cubic activation (≤ 3). */
export const DEMO_PRIMES = [40, 30, 30, 30, 30, 40] as const;

/** CKKS at scale 2^30 through ~5 levels: errors are around 1e-4..1e-3; a wrong result is off by far more. */
export const DEMO_TOLERANCE = 5e-3;

export function scoringProgram(weights: number[][]): Program {
  return {
    inputs: { embedding: 'vector' },
    steps: [
      { out: 'logits', op: 'matvec', args: ['embedding'], matrix: weights },
      { out: 'scores', op: 'polyval', args: ['logits'], coeffs: [...ACTIVATION] },
    ],
    outputs: ['scores'],
  };
}

export function referenceScores(weights: number[][], embedding: number[]): number[] {
  return weights.map((row) => {
    const logit = row.reduce((sum, w, i) => sum + w * embedding[i], 0);
    return ACTIVATION.reduce((sum, c, k) => sum + c * logit ** k, 0);
  });
}

export async function runDemo(options: DemoOptions = {}): Promise<boolean> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dimension = options.dimension ?? 64;
  const classes = options.classes ?? 8;
  const random = seededRandom(7);
  const embedding = Array.from({ length: dimension }, () => random());
  const weights = Array.from({ length: classes }, () => Array.from({ length: dimension }, () => random() * 0.3));
  const program = scoringProgram(weights);

  let baseUrl = options.baseUrl;
  let apiKey = options.apiKey ?? process.env.HEFTY_API_KEY ?? '';
  let stop: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  if (!baseUrl) {
    const { startServer } = await import('./server/main.ts');
    dataDir = mkdtempSync(join(tmpdir(), 'hefty-demo-'));
    apiKey = `demo_${randomBytes(18).toString('hex')}`;
    const server = await startServer(
      { host: '127.0.0.1', port: 0, dataDir, apiKeys: { [apiKey]: 'demo' }, logLevel: 'warn' },
      { env: {}, handleSignals: false },
    );
    baseUrl = server.url;
    stop = server.close;
    log(`service: ${baseUrl} (in-process, key store in ${dataDir})`);
  }
  const client = new HeftyClient({ baseUrl, apiKey });
  const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, coeffModulusBits: DEMO_PRIMES });
  try {
    ctx.keygen({ galois: programGaloisSteps(program, ctx.slotCount) });
    const keySet = await client.uploadKeySet(ctx.exportKeySet({ compression: 'zstd' }), { name: 'demo' });
    log(`client: uploaded evaluation keys (${(keySet.size / 2 ** 20).toFixed(1)} MiB, no secret key) → ${keySet.id}`);
    const encrypted = ctx.encrypt(embedding);
    const started = performance.now();
    const { scores } = await client.eval(keySet.id, program, { embedding: encrypted.serialize() });
    const elapsed = performance.now() - started;
    encrypted.dispose();
    const result = ctx.loadVector(scores) as CKKSVector;
    const decrypted = Array.from(result.decrypt()).slice(0, classes);
    result.dispose();
    const expected = referenceScores(weights, embedding);
    const worst = Math.max(...decrypted.map((v, i) => Math.abs(v - expected[i])));
    log(`service: matvec ${classes}×${dimension} + cubic activation in ${elapsed.toFixed(0)} ms (round trip)`);
    for (let i = 0; i < classes; i++) {
      log(`  class ${i}: encrypted ${decrypted[i].toFixed(6)}  plaintext ${expected[i].toFixed(6)}`);
    }
    const ok = worst < DEMO_TOLERANCE;
    log(`max |error| = ${worst.toExponential(2)} → ${ok ? 'OK' : 'MISMATCH'}`);
    await client.deleteKeySet(keySet.id);
    return ok;
  } finally {
    ctx.dispose();
    await stop?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
