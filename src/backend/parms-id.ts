/** parms_id is four u64 words; hefty shows it as 64 hex digits, word 0 first, each word big-endian. */
export function parmsIdToHex(words: ArrayLike<bigint>): string {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += words[i].toString(16).padStart(16, '0');
  return hex;
}

export function parmsIdFromHex(hex: string): BigUint64Array {
  const words = new BigUint64Array(4);
  for (let i = 0; i < 4; i++) words[i] = BigInt('0x' + hex.slice(16 * i, 16 * i + 16));
  return words;
}

export const ZERO_PARMS_ID = '0'.repeat(64);
