/** WASM memory is owned: encrypt/dispose cycles must not grow node-seal's linear memory. */
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/backend/wasm.ts';

describe('wasm memory ownership', () => {
  it('10,000 encrypt/dispose cycles do not grow WASM memory', async () => {
    const backend = await createWasmBackend();
    const ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 1024, coeffModulus: backend.coeffModulusCreate(1024, [27]) },
      128,
    );
    const keygen = ctx.createKeyGenerator();
    const publicKey = keygen.createPublicKey();
    const encryptor = ctx.createEncryptor({ publicKey });
    const encoder = ctx.createCkksEncoder();
    const values = Float64Array.from({ length: 512 }, (_, i) => i / 512);
    const cycle = () => {
      const plain = encoder.encode(values, 2 ** 20);
      const cipher = encryptor.encrypt(plain);
      cipher.dispose();
      plain.dispose();
    };
    for (let i = 0; i < 500; i++) cycle(); // warm-up: let SEAL's memory pool reach its working size
    const before = backend.memoryBytes();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) cycle();
    expect(backend.memoryBytes()).toBe(before);
  });

  it('the same loop without dispose does grow memory (the check can fail)', async () => {
    const backend = await createWasmBackend();
    const ctx = backend.createContext(
      { scheme: 'ckks', polyModulusDegree: 1024, coeffModulus: backend.coeffModulusCreate(1024, [27]) },
      128,
    );
    const encryptor = ctx.createEncryptor({ publicKey: ctx.createKeyGenerator().createPublicKey() });
    const encoder = ctx.createCkksEncoder();
    const before = backend.memoryBytes() ?? 0;
    const kept = [];
    for (let i = 0; i < 2_000; i++) kept.push(encryptor.encrypt(encoder.encode(Float64Array.from([i]), 2 ** 20)));
    expect(backend.memoryBytes()).toBeGreaterThan(before);
    for (const c of kept) c.dispose();
  });
});

describe('wasm finalizer safety net', () => {
  it('frees handles nobody disposed once they are garbage collected', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = new URL('../fixtures/finalizer-check.ts', import.meta.url).pathname;
    const out = execFileSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8' });
    const rounds = JSON.parse(out.trim().split('\n').pop() as string) as number[];
    // Without the registry each round of 2,000 ciphertexts would add ~50 MB; with it memory plateaus.
    expect(rounds[2]).toBe(rounds[1]);
  });
});
