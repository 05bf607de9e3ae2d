/**
 * `hefty keygen`: a client's keys in a folder: keyset.hfks (parameters, public, relinearization and the galois
 * keys asked for; what a server gets) and secret.key (mode 0600; what only the client keeps).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeftyError } from '../errors.ts';
import { attempt, integer, oneOf, parseCommand } from './args.ts';

export const KEYSET_FILE = 'keyset.hfks';
export const SECRET_KEY_FILE = 'secret.key';

/** Bit sizes of CKKS chains made by --levels: 60-bit first and special primes around 40-bit levels (scale 2^40). */
const EDGE_PRIME_BITS = 60;
const LEVEL_PRIME_BITS = 40;

const HELP = `usage: hefty keygen [options]

Creates <out>/${KEYSET_FILE} (parameters, public and evaluation keys: give this to servers) and
<out>/${SECRET_KEY_FILE} (keep it private).

  --scheme ckks|bfv|bgv  scheme (default ckks)
  --degree N             polynomial modulus degree: 4096, 8192, 16384 or 32768 (default 8192); N/2 slots
  --levels L             CKKS: L multiplications deep: primes ${EDGE_PRIME_BITS},${LEVEL_PRIME_BITS}×L,${EDGE_PRIME_BITS} (bits), scale 2^${LEVEL_PRIME_BITS}
  --modulus BITS         coefficient-modulus prime sizes, e.g. 60,40,40,60 (special prime last); overrides --levels
  --scale BITS           CKKS: scale 2^BITS of fresh encryptions (default: the second prime's size)
  --plain-bits B         BFV: bit size of the plaintext modulus (default 20)
  --galois SPEC          rotation keys: power-of-two, or steps such as 1,2,-1 (default none)
  --full                 unseeded keys (default: SEAL's seeded form, about half the size)
  --compression MODE     zstd (default), zlib or none
  --out DIR              where to write the keys (default ./keys)
  --force                replace keys already in DIR
  --backend NAME         native, wasm or auto (default auto)
  -h, --help             this help
  -v, --version          hefty's version`;

const OPTIONS = {
  scheme: { type: 'string', default: 'ckks' },
  degree: { type: 'string', default: '8192' },
  levels: { type: 'string' },
  modulus: { type: 'string' },
  scale: { type: 'string' },
  'plain-bits': { type: 'string' },
  galois: { type: 'string' },
  out: { type: 'string', default: 'keys' },
  force: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false },
  compression: { type: 'string', default: 'zstd' },
  backend: { type: 'string', default: 'auto' },
} as const;

function bitList(text: string, flag: string): number[] {
  const bits = text.split(',').map((part) => integer(part.trim(), flag, 1, 61) as number);
  if (bits.length < 2) throw new HeftyError('E_INVALID_ARGUMENT', `${flag} needs at least two primes`);
  return bits;
}

function galoisSpec(text: string | undefined): 'power-of-two' | number[] | undefined {
  if (text === undefined || text === 'power-of-two') return text;
  return text.split(',').map((step) => integer(step.trim(), '--galois', -(2 ** 20), 2 ** 20) as number);
}

export async function keygenCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand({ name: 'keygen', help: HELP, options: OPTIONS }, argv);
  if (!parsed) return;
  const { values } = parsed;
  const scheme = oneOf(values.scheme, ['ckks', 'bfv', 'bgv'], '--scheme') as 'ckks' | 'bfv' | 'bgv';
  const degree = integer(values.degree, '--degree', 1024, 32768) as number;
  const levels = integer(values.levels, '--levels', 0, 64);
  const scaleBits = integer(values.scale, '--scale', 1, 120);
  const plainBits = integer(values['plain-bits'], '--plain-bits', 2, 60);
  if (scheme !== 'ckks' && (levels !== undefined || scaleBits !== undefined))
    throw new HeftyError('E_INVALID_ARGUMENT', '--levels and --scale are CKKS options');
  const coeffModulusBits =
    values.modulus !== undefined
      ? bitList(values.modulus, '--modulus')
      : levels !== undefined
        ? [EDGE_PRIME_BITS, ...Array<number>(levels).fill(LEVEL_PRIME_BITS), EDGE_PRIME_BITS]
        : undefined;
  const galois = galoisSpec(values.galois);
  const backend = oneOf(values.backend, ['native', 'wasm', 'auto'], '--backend');
  const compression = oneOf(values.compression, ['none', 'zlib', 'zstd'], '--compression');
  const keysetPath = join(values.out, KEYSET_FILE);
  const secretPath = join(values.out, SECRET_KEY_FILE);
  if (!values.force && (existsSync(keysetPath) || existsSync(secretPath)))
    throw new HeftyError('E_INVALID_ARGUMENT', `${values.out} already holds keys (--force replaces them)`);

  const { createContext } = await import('../api/context.ts');
  const { encodeKeySet } = await import('../api/bundle.ts');
  const ctx = await createContext({
    scheme,
    polyModulusDegree: degree,
    backend,
    ...(coeffModulusBits ? { coeffModulusBits } : {}),
    ...(scaleBits !== undefined ? { scale: 2 ** scaleBits } : {}),
    ...(plainBits !== undefined ? { plainModulusBits: plainBits } : {}),
  });
  try {
    ctx.keygen({ galois });
    attempt(`cannot write keys to ${values.out}`, () => {
      mkdirSync(values.out, { recursive: true, mode: 0o700 });
      writeFileSync(keysetPath, encodeKeySet(ctx.exportKeySet({ form: values.full ? 'full' : 'seeded', compression })));
      writeFileSync(secretPath, ctx.exportSecretKey(), { mode: 0o600 });
    });
    const primes = ctx.params.coeffModulus.map((q) => q.toString(2).length);
    const scale = scheme === 'ckks' ? `, scale 2^${Math.log2(ctx.scale)}` : '';
    console.log(
      `${scheme} N=${degree} (${ctx.slotCount} slots), primes ${primes.join(',')} bits, ` +
        `${Math.max(0, primes.length - 2)} levels${scale}, ${ctx.backend.name} engine`,
    );
    console.log(`wrote ${keysetPath} (for servers) and ${secretPath} (keep private)`);
  } finally {
    ctx.dispose();
  }
}
