/** A loaded key set described for callers: what the pool and the service report after loading one. */
import type { HeftyContext } from './context.ts';

export interface KeySetInfo {
  scheme: string;
  polyModulusDegree: number;
  slotCount: number;
  coeffModulusBits: number[];
  hasRelinKeys: boolean;
  galoisElements: number;
  backend: string;
}

export function describeKeySet(ctx: HeftyContext): KeySetInfo {
  const keys = ctx.session.keys;
  return {
    scheme: ctx.scheme,
    polyModulusDegree: ctx.params.polyModulusDegree,
    slotCount: ctx.slotCount,
    coeffModulusBits: ctx.params.coeffModulus.map((q) => q.toString(2).length),
    hasRelinKeys: keys.relinKeys !== undefined,
    galoisElements: keys.galoisKeys?.galoisElts.length ?? 0,
    backend: ctx.backend.name,
  };
}
