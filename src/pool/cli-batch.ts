/**
 * `hefty batch`: runs one program over many encrypted inputs on the worker pool, with a progress bar.
 *
 *   hefty batch --keyset keys/keyset.hfks --program score.json --values weights.json --inputs cts/ --out results/
 *
 * Each file under --inputs (or each file given) is one item for the program's single encrypted input; for
 * programs with several encrypted inputs each item is a directory holding one file per input, named after it
 * (any extension). --values is a JSON object with the plaintext inputs shared by every item. Every output is
 * written to <out>/<item>.<output>.ct; failed items are listed in <out>/errors.json and make the exit code 1.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { validateProgram, type Program } from '../api/program.ts';
import { attempt, integer, oneOf, parseCommand } from '../cli/args.ts';
import { HeftyError } from '../errors.ts';
import { createPool, type PoolInput } from './pool.ts';

const HELP = `usage: hefty batch --keyset FILE --program FILE --inputs PATH... --out DIR [options]

  --keyset FILE      key-set envelope (hefty keygen writes keys/keyset.hfks)
  --program FILE     program JSON (see README: inputs, steps, outputs)
  --inputs PATH      ciphertext file, or a directory of them (repeatable); one item per file, or per
                     sub-directory of <input-name>.* files for programs with several encrypted inputs
  --values FILE      JSON object with the plaintext (plain, scalar, matrix) inputs shared by all items
  --out DIR          where <item>.<output>.ct files and errors.json go
  --workers N        worker threads (default: cores)
  --backend NAME     native, wasm or auto (default auto)
  --format F         hefty (default) or seal (bare SEAL bytes for single-ciphertext outputs)
  --timeout MS       deadline for the whole batch
  --no-progress      no progress bar
  -h, --help         this help
  -v, --version      hefty's version`;

interface Item {
  readonly name: string;
  /** Encrypted input name → file. */
  readonly files: Record<string, string>;
}

function readJson(path: string, what: string): unknown {
  return attempt(`${what} ${path}`, () => JSON.parse(readFileSync(path, 'utf8')));
}

function readBytes(path: string): Uint8Array {
  return attempt(`cannot read ${path}`, () => new Uint8Array(readFileSync(path)));
}

/** Items from the --inputs paths, sorted by name within each directory. */
export function collectItems(paths: readonly string[], vectorInputs: readonly string[]): Item[] {
  if (vectorInputs.length === 0) throw new HeftyError('E_INVALID_ARGUMENT', 'the program has no encrypted input');
  const single = vectorInputs.length === 1 ? vectorInputs[0] : undefined;
  const items: Item[] = [];
  const fromDirectory = (dir: string): Item => {
    const files: Record<string, string> = {};
    for (const file of readdirSync(dir)) files[basename(file, extname(file))] = join(dir, file);
    return { name: basename(dir), files };
  };
  const add = (path: string, nested: boolean): void => {
    const stat = statSync(path);
    if (stat.isFile()) {
      if (!single)
        throw new HeftyError(
          'E_INVALID_ARGUMENT',
          `${path}: the program has several encrypted inputs, give directories`,
        );
      items.push({ name: basename(path, extname(path)), files: { [single]: path } });
    } else if (stat.isDirectory()) {
      if (nested) return void items.push(fromDirectory(path));
      for (const entry of readdirSync(path).sort()) add(join(path, entry), !single);
    }
  };
  for (const path of paths) add(path, false);
  return items;
}

export async function runBatchCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    {
      name: 'batch',
      help: HELP,
      options: {
        keyset: { type: 'string' },
        program: { type: 'string' },
        inputs: { type: 'string', multiple: true },
        values: { type: 'string' },
        out: { type: 'string' },
        workers: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        format: { type: 'string', default: 'hefty' },
        timeout: { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
      },
    },
    argv,
  );
  if (!parsed) return;
  const { values: args } = parsed;
  if (!args.keyset || !args.program || !args.inputs?.length || !args.out) {
    throw new HeftyError(
      'E_INVALID_ARGUMENT',
      '--keyset, --program, --inputs and --out are required (hefty batch --help)',
    );
  }
  const program: Program = validateProgram(readJson(args.program, 'program'));
  const shared = args.values ? readJson(args.values, 'values') : {};
  if (shared === null || typeof shared !== 'object' || Array.isArray(shared))
    throw new HeftyError('E_INVALID_ARGUMENT', '--values must hold a JSON object of input name → value');
  const vectorInputs = Object.keys(program.inputs).filter((name) => program.inputs[name] === 'vector');
  const items = attempt('--inputs', () => collectItems(args.inputs as string[], vectorInputs));
  const backend = oneOf(args.backend, ['native', 'wasm', 'auto'], '--backend');
  const format = oneOf(args.format, ['hefty', 'seal'], '--format');
  const workers = integer(args.workers, '--workers', 1, 1024);
  const timeoutMs = integer(args.timeout, '--timeout', 1);
  const keySetBytes = readBytes(args.keyset);
  const inputs = items.map((item) => {
    const inputsOfItem: Record<string, PoolInput> = { ...(shared as Record<string, PoolInput>) };
    for (const name of vectorInputs)
      if (Object.hasOwn(item.files, name)) inputsOfItem[name] = readBytes(item.files[name]);
    return inputsOfItem;
  });
  const pool = await createPool({ backend, ...(workers ? { workers } : {}) });
  const bar =
    args['no-progress'] || items.length < 2
      ? undefined
      : new SingleBar(
          { format: 'batch [{bar}] {value}/{total} items | {eta_formatted} left', etaBuffer: 50 },
          Presets.shades_classic,
        );
  try {
    const keySet = await pool.addKeySet(keySetBytes);
    bar?.start(items.length, 0);
    const started = performance.now();
    const results = await pool.runBatch(keySet, program, inputs, {
      format,
      transferInputs: true, // the file contents were read for this batch alone
      ...(timeoutMs ? { timeoutMs } : {}),
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    mkdirSync(args.out, { recursive: true });
    const errors: Record<string, { code: string; message: string }> = {};
    results.forEach((result, i) => {
      if (result instanceof HeftyError) errors[items[i].name] = result.toJSON();
      else
        for (const [output, bytes] of Object.entries(result.outputs))
          writeFileSync(join(args.out as string, `${items[i].name}.${output}.ct`), bytes);
    });
    const failed = Object.keys(errors).length;
    if (failed > 0) writeFileSync(join(args.out, 'errors.json'), `${JSON.stringify(errors, null, 2)}\n`);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${items.length - failed}/${items.length} items done in ${seconds.toFixed(2)} s on ${pool.workers} workers (${keySet.info.backend})` +
        (failed ? `; ${failed} failed, see ${join(args.out, 'errors.json')}` : ''),
    );
    if (failed > 0) process.exitCode = 1;
  } finally {
    bar?.stop();
    await pool.close();
  }
}
