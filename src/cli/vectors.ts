/**
 * `hefty encrypt` and `hefty decrypt`: the client's side of `hefty batch` from the shell. Values are JSON: one
 * array (one ciphertext file) or an object of named arrays (a folder with one <name>.ct per entry, the layout
 * `hefty batch --inputs` reads). Decryption prints the same JSON shape back.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { HeftyContext } from '../api/context.ts';
import type { CKKSVector } from '../api/ckks-vector.ts';
import { DEFAULT_PROTECTION, type DecryptProtection } from '../api/decrypt-protection.ts';
import { HeftyError } from '../errors.ts';
import { attempt, integer, oneOf, parseCommand, required } from './args.ts';
import { KEYSET_FILE, SECRET_KEY_FILE } from './keygen.ts';

const ENCRYPT_HELP = `usage: hefty encrypt --keys DIR --values FILE --out PATH [options]

Encrypts JSON values with the public key in DIR/${KEYSET_FILE}:
  an array such as [1.5, -2, 3.25]      -> one ciphertext file at PATH
  an object {"alice": [...], "bob": [...]} -> PATH/alice.ct, PATH/bob.ct (the layout hefty batch --inputs reads)

  --keys DIR        folder written by hefty keygen (only ${KEYSET_FILE} is read)
  --values FILE     JSON values; - reads standard input
  --out PATH        ciphertext file, or folder for named values
  --format F        hefty (default) or seal (bare SEAL ciphertext, for node-seal peers)
  --backend NAME    native, wasm or auto (default auto)
  -h, --help        this help
  -v, --version     hefty's version`;

const DECRYPT_HELP = `usage: hefty decrypt --keys DIR [options] PATH...

Decrypts ciphertext files (or every file in a folder) with DIR/${SECRET_KEY_FILE} and prints JSON: an array for
a single file, else an object of file name -> array.

  --keys DIR        folder written by hefty keygen (${KEYSET_FILE} and ${SECRET_KEY_FILE})
  --digits D        decimals to round CKKS values to (default 6; CKKS results are approximate)
  --length N        keep the first N values (bare SEAL ciphertexts decrypt to every slot)
  --protection P    CKKS: rounded (default; safe to share), flooded (provable noise flooding, costs
                    precision) or raw (the exact decoding: never share it, it gives the secret key away)
  --out FILE        write the JSON there instead of standard output
  --backend NAME    native, wasm or auto (default auto)
  -h, --help        this help
  -v, --version     hefty's version`;

const PROTECTION = ['rounded', 'flooded', 'raw'] as const;
const BACKEND = ['native', 'wasm', 'auto'] as const;

function readValues(path: string): number[] | Record<string, number[]> {
  const text = attempt(`cannot read ${path}`, () => readFileSync(path === '-' ? 0 : path, 'utf8'));
  const json: unknown = attempt(`${path} is not JSON`, () => JSON.parse(text));
  const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (isNumbers(json)) return json;
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    for (const [name, v] of Object.entries(json)) {
      if (!isNumbers(v)) throw new HeftyError('E_INVALID_ARGUMENT', `${path}: "${name}" is not an array of numbers`);
      if (!/^[\w.-]+$/.test(name))
        throw new HeftyError('E_INVALID_ARGUMENT', `${path}: "${name}" cannot be a file name ([A-Za-z0-9_.-])`);
    }
    return json as Record<string, number[]>;
  }
  throw new HeftyError('E_INVALID_ARGUMENT', `${path}: expected an array of numbers or an object of them`);
}

export async function encryptCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    {
      name: 'encrypt',
      help: ENCRYPT_HELP,
      options: {
        keys: { type: 'string' },
        values: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string', default: 'hefty' },
        backend: { type: 'string', default: 'auto' },
      },
    },
    argv,
  );
  if (!parsed) return;
  const { values: args } = parsed;
  const keys = required(args.keys, '--keys', 'encrypt');
  const out = required(args.out, '--out', 'encrypt');
  const values = readValues(required(args.values, '--values', 'encrypt'));
  const format = oneOf(args.format, ['hefty', 'seal'], '--format');
  const keySet = attempt('cannot read the key set', () => new Uint8Array(readFileSync(join(keys, KEYSET_FILE))));
  const { loadContext } = await import('../api/context.ts');
  const ctx = await loadContext(keySet, { backend: oneOf(args.backend, BACKEND, '--backend') });
  try {
    const encrypt = (v: number[]): Uint8Array => {
      using vector = ctx.encrypt(v);
      return vector.serialize(format);
    };
    if (Array.isArray(values)) {
      const bytes = encrypt(values);
      attempt(`cannot write ${out}`, () => writeFileSync(out, bytes));
      console.log(`wrote ${out} (${values.length} values)`);
    } else {
      attempt(`cannot create ${out}`, () => mkdirSync(out, { recursive: true }));
      for (const [name, v] of Object.entries(values)) {
        const bytes = encrypt(v);
        attempt(`cannot write ${join(out, `${name}.ct`)}`, () => writeFileSync(join(out, `${name}.ct`), bytes));
      }
      console.log(`wrote ${Object.keys(values).length} ciphertexts to ${out}`);
    }
  } finally {
    ctx.dispose();
  }
}

/** Ciphertext files named by `paths`: files as given, folders as their files in name order. */
function ciphertextFiles(paths: readonly string[]): { name: string; file: string }[] {
  return paths.flatMap((path) => {
    const stat = attempt(`cannot read ${path}`, () => statSync(path));
    const files = stat.isDirectory()
      ? readdirSync(path)
          .sort()
          .map((entry) => join(path, entry))
      : [path];
    return files
      .filter((file) => stat.isFile() || extname(file) === '.ct')
      .map((file) => ({ name: basename(file, extname(file)), file }));
  });
}

interface DecryptFormat {
  digits: number;
  length: number | undefined;
  protection: DecryptProtection;
}

function decryptFile(ctx: HeftyContext, file: string, format: DecryptFormat): number[] {
  const bytes = attempt(`cannot read ${file}`, () => new Uint8Array(readFileSync(file)));
  using vector = ctx.loadVector(bytes);
  if (ctx.scheme === 'ckks') {
    const values = Array.from((vector as CKKSVector).decrypt({ protection: format.protection })).slice(
      0,
      format.length,
    );
    return values.map((v) => Number(v.toFixed(format.digits)) + 0);
  }
  return Array.from(vector.decrypt(), Number).slice(0, format.length);
}

export async function decryptCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    {
      name: 'decrypt',
      help: DECRYPT_HELP,
      positionals: true,
      options: {
        keys: { type: 'string' },
        digits: { type: 'string', default: '6' },
        length: { type: 'string' },
        protection: { type: 'string', default: DEFAULT_PROTECTION },
        out: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
      },
    },
    argv,
  );
  if (!parsed) return;
  const { values: args, positionals } = parsed;
  const keys = required(args.keys, '--keys', 'decrypt');
  if (positionals.length === 0)
    throw new HeftyError('E_INVALID_ARGUMENT', 'name the ciphertext files or folders (hefty decrypt --help)');
  const format: DecryptFormat = {
    digits: integer(args.digits, '--digits', 0, 17) as number,
    length: integer(args.length, '--length', 1),
    protection: oneOf(args.protection, PROTECTION, '--protection') ?? DEFAULT_PROTECTION,
  };
  const files = ciphertextFiles(positionals);
  if (files.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', `no .ct files in ${positionals.join(', ')}`);
  const keySet = attempt('cannot read the key set', () => new Uint8Array(readFileSync(join(keys, KEYSET_FILE))));
  const secret = attempt('cannot read the secret key', () => new Uint8Array(readFileSync(join(keys, SECRET_KEY_FILE))));
  const { loadSecretContext } = await import('../api/context.ts');
  const { decodeKeySet } = await import('../api/bundle.ts');
  const ctx = await loadSecretContext(decodeKeySet(keySet), secret, {
    backend: oneOf(args.backend, BACKEND, '--backend'),
  });
  try {
    const single = files.length === 1 && positionals.length === 1 && statSync(positionals[0]).isFile();
    const result = single
      ? decryptFile(ctx, files[0].file, format)
      : Object.fromEntries(files.map(({ name, file }) => [name, decryptFile(ctx, file, format)]));
    const text = `${JSON.stringify(result)}\n`;
    if (args.out) attempt(`cannot write ${args.out}`, () => writeFileSync(args.out as string, text));
    else process.stdout.write(text);
  } finally {
    ctx.dispose();
  }
}
