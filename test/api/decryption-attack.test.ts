/**
 * The Li–Micciancio key-recovery attack, run for real: from two raw CKKS decryptions and their ciphertexts the
 * secret key comes out exactly (on both engines); from decrypt()'s default (rounded) or flooded decryptions it
 * does not, while the flooded values stay accurate when the noise is measured and the scale is large.
 */
import { describe, expect, it } from 'vitest';
import type { HeftyContext } from '../../src/api/context.ts';
import { createContext, DEFAULT_PROTECTION, estimateNoiseBits, type DecryptOptions } from '../../src/index.ts';
import { recoverSecretKey, secretKeyWords, type Observation } from './li-micciancio.ts';

function observe(ctx: HeftyContext, options: DecryptOptions | undefined): [Observation, Observation] {
  return [1, 2].map((seed) => {
    const values = Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i * seed + seed));
    const v = ctx.encrypt(values);
    try {
      return { ciphertext: v.serialize('seal'), decrypted: v.decrypt(options) };
    } finally {
      v.dispose();
    }
  }) as [Observation, Observation];
}

/** Fraction of the secret key's NTT words (over the ciphertexts' primes) that the attack got right. */
function recovered(ctx: HeftyContext, observations: [Observation, Observation]): number {
  const candidate = recoverSecretKey(ctx, observations);
  const truth = secretKeyWords(ctx, candidate.length / ctx.params.polyModulusDegree);
  let same = 0;
  for (let i = 0; i < truth.length; i++) if (candidate[i] === truth[i]) same++;
  return same / truth.length;
}

describe('Li–Micciancio key recovery', () => {
  it.each(['native', 'wasm'] as const)(
    'recovers the whole secret key from two raw decryptions (%s)',
    async (backend) => {
      const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096, backend });
      try {
        ctx.keygen();
        expect(recovered(ctx, observe(ctx, { protection: 'raw' }))).toBe(1);
      } finally {
        ctx.dispose();
      }
    },
  );

  it.each([
    ['the default', undefined],
    ['flooded', { protection: 'flooded' }],
    ['rounded', { protection: 'rounded' }],
  ] as const)('recovers nothing from %s decryptions', async (_, options) => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
    try {
      ctx.keygen();
      // A random guess matches a word with probability ~2^-30: anything above a handful is a leak.
      expect(recovered(ctx, observe(ctx, options))).toBeLessThan(0.001);
    } finally {
      ctx.dispose();
    }
  });

  it('with a measured noise estimate and a 2^50 scale, flooded results keep their precision and the key stays hidden', async () => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192, coeffModulusBits: [60, 50, 50, 50] });
    try {
      ctx.keygen();
      expect(ctx.session.scale).toBe(2 ** 50);
      // Estimation run (as OpenFHE's noise-estimation mode): the same computation on inputs the client knows.
      const known = Array.from({ length: ctx.slotCount }, (_, i) => Math.cos(i));
      const probe = ctx.encrypt(known);
      const noiseBits = estimateNoiseBits(probe.decrypt({ protection: 'raw' }), known) + 2; // two bits of margin
      probe.dispose();
      const options = { protection: 'flooded', noiseBits } as const;
      const observations = observe(ctx, options);
      expect(recovered(ctx, observations)).toBeLessThan(0.001);
      const expected = Array.from({ length: ctx.slotCount }, (_, i) => Math.sin(i + 1));
      const worst = Math.max(...observations[0].decrypted.map((v, i) => Math.abs(v - expected[i])));
      expect(worst).toBeLessThan(1e-3);
      // The flooding noise is really there: the released values are not the raw decoding.
      expect(worst).toBeGreaterThan(2 ** (noiseBits - 6));
    } finally {
      ctx.dispose();
    }
  });

  it('decrypt() defaults to the rounded decoding, which keeps the values to the noise bound', async () => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 8192 });
    try {
      ctx.keygen();
      expect(DEFAULT_PROTECTION).toBe('rounded');
      const values = [1.5, -2, 3.25];
      const v = ctx.encrypt(values);
      const shared = v.decrypt();
      expect(Array.from(shared)).toEqual(Array.from(v.decrypt({ protection: 'rounded' })));
      const raw = v.decrypt({ protection: 'raw' });
      expect(Array.from(shared)).not.toEqual(Array.from(raw));
      // N = 8192 at scale 2^40: multiples of 2^-17, within half a step of the exact decoding.
      for (let i = 0; i < values.length; i++) {
        expect(Number.isInteger(shared[i] * 2 ** 17)).toBe(true);
        expect(Math.abs(shared[i] - raw[i])).toBeLessThanOrEqual(2 ** -18);
        expect(Math.abs(shared[i] - values[i])).toBeLessThan(1e-5);
      }
      v.dispose();
    } finally {
      ctx.dispose();
    }
  });

  it('refuses malformed options with typed errors', async () => {
    const ctx = await createContext({ scheme: 'ckks', polyModulusDegree: 4096 });
    try {
      ctx.keygen();
      const v = ctx.encrypt([1, 2, 3]);
      for (const bad of [null, { protection: 'magic' }, { statisticalSecurity: 0 }, { noiseBits: Infinity }]) {
        expect(() => v.decrypt(bad as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }));
      }
      v.dispose();
    } finally {
      ctx.dispose();
    }
  });
});
