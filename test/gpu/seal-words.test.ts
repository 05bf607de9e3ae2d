/** The RNS-word view of SEAL bytes the GPU key switching reads and writes (src/gpu/seal-words.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/backend/load.ts';
import type * as B from '../../src/backend/types.ts';
import { CIPHER_WORDS_OFFSET, readCipher, readKeySwitchEntry, writeCipher } from '../../src/gpu/seal-words.ts';

describe('SEAL words of ciphertexts and key-switching keys', () => {
  let ctx: B.BackendContext;
  let cipher: B.Ciphertext;
  let relin: B.RelinKeys;

  beforeAll(async () => {
    const backend = await loadBackend('native');
    ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 4096, coeffModulus: backend.coeffModulusCreate(4096, [36, 30, 36]) },
      128,
    );
    const keygen = ctx.createKeyGenerator();
    relin = keygen.createRelinKeys();
    const encryptor = ctx.createEncryptor({ publicKey: keygen.createPublicKey() });
    cipher = encryptor.encrypt(ctx.createCkksEncoder().encode(Float64Array.of(1, 2), 2 ** 30));
  });

  it('reads the words and writes the same bytes back', () => {
    const bytes = cipher.save('none');
    const { cipher: words, length } = readCipher(bytes);
    expect([length, words.size, words.n, words.primes]).toEqual([bytes.length, 2, 4096, 2]);
    expect(words.words).toHaveLength(2 * 2 * 4096);
    expect(Buffer.from(writeCipher(words, 2, words.words)).equals(bytes)).toBe(true);
    const one = writeCipher(words, 1, words.words.subarray(0, 2 * 4096));
    expect(one.length).toBe(CIPHER_WORDS_OFFSET + 8 * 2 * 4096);
    expect(() => writeCipher(words, 2, words.words.subarray(1))).toThrow(
      expect.objectContaining({ code: 'E_LENGTH_MISMATCH' }),
    );
  });

  it('refuses truncated, inconsistent or compressed bytes with a typed error', () => {
    const bytes = cipher.save('none');
    const bad = expect.objectContaining({ code: 'E_BAD_SERIALIZATION' });
    expect(() => readCipher(bytes.subarray(0, 100))).toThrow(bad);
    expect(() => readCipher(bytes.subarray(0, bytes.length - 8))).toThrow(bad);
    const lying = bytes.slice();
    new DataView(lying.buffer).setBigUint64(16 + 33, 3n, true); // size 3 but words for 2
    expect(() => readCipher(lying)).toThrow(bad);
    const notSeal = bytes.slice();
    notSeal[0] = 0;
    expect(() => readCipher(notSeal)).toThrow(bad);
    expect(() => readCipher(cipher.save('zstd'))).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
  });

  it('reads one entry of a key-switching key set', () => {
    const bytes = relin.save('none');
    const entries = readKeySwitchEntry(bytes, 0);
    expect(entries.map((e) => [e.size, e.n, e.primes])).toEqual([
      [2, 4096, 3],
      [2, 4096, 3],
    ]);
    expect(() => readKeySwitchEntry(bytes, 1)).toThrow(expect.objectContaining({ code: 'E_MISSING_KEY' }));
    expect(() => readKeySwitchEntry(bytes.subarray(0, bytes.length - 1000), 0)).toThrow(
      expect.objectContaining({ code: 'E_BAD_SERIALIZATION' }),
    );
  });
});
