#!/usr/bin/env node
/**
 * hefty's command line: serve | demo | keygen | plan | batch | bench | info. Each command lives in its own module and is
 * imported only when used, so `hefty info` does not load the server and `hefty serve` does not load bench code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HeftyError } from './errors.ts';

const USAGE = `usage: hefty <command> [options]

commands:
  serve                 start the HTTP service (env: HEFTY_PORT, HEFTY_HOST, HEFTY_DATA_DIR, HEFTY_BACKEND, ...)
  demo                  private-scoring demo: client encrypts, service computes, client decrypts and checks
  keygen                create keys: --scheme ckks|bfv --degree 8192 --galois power-of-two|1,2,4 --out DIR
                        (seeded, zstd; --full for unseeded keys, --compression none|zlib|zstd)
  plan                  levels, galois steps, N, chain and key-set size a program needs (hefty plan --help)
  batch                 run a program over many encrypted inputs on the worker pool (see hefty batch --help)
  bench                 run the benchmark suites (same as npm run bench)
  info                  show which engines load on this machine`;

async function keygen(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scheme: { type: 'string', default: 'ckks' },
      degree: { type: 'string', default: '8192' },
      galois: { type: 'string' },
      out: { type: 'string', default: 'keys' },
      full: { type: 'boolean', default: false },
      compression: { type: 'string', default: 'zstd' },
    },
  });
  const { createContext } = await import('./api/context.ts');
  const { encodeKeySet } = await import('./api/bundle.ts');
  const scheme = values.scheme === 'bfv' ? 'bfv' : values.scheme === 'ckks' ? 'ckks' : undefined;
  if (!scheme) throw new HeftyError('E_INVALID_ARGUMENT', '--scheme must be ckks or bfv');
  const ctx = await createContext({ scheme, polyModulusDegree: Number(values.degree) });
  const galois =
    values.galois === undefined
      ? undefined
      : values.galois === 'power-of-two'
        ? 'power-of-two'
        : values.galois.split(',').map(Number);
  ctx.keygen({ galois });
  mkdirSync(values.out, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(values.out, 'keyset.hfks'),
    encodeKeySet(
      ctx.exportKeySet({
        form: values.full ? 'full' : 'seeded',
        compression: values.compression as 'none' | 'zlib' | 'zstd',
      }),
    ),
  );
  writeFileSync(join(values.out, 'secret.key'), ctx.exportSecretKey(), { mode: 0o600 });
  console.log(
    `wrote ${join(values.out, 'keyset.hfks')} (for servers) and ${join(values.out, 'secret.key')} (keep private)`,
  );
  ctx.dispose();
}

async function info(): Promise<void> {
  const { availableBackends, loadBackend } = await import('./backend/load.ts');
  const names = await availableBackends();
  console.log(`engines: ${names.join(', ') || 'none'}; default: ${(await loadBackend()).name}`);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve': {
      const { startServer } = await import('./server/main.ts');
      await startServer();
      return;
    }
    case 'demo': {
      const { runDemo } = await import('./demo.ts');
      const ok = await runDemo();
      process.exitCode = ok ? 0 : 1;
      return;
    }
    case 'keygen':
      return keygen(rest);
    case 'plan': {
      const { runPlanCommand } = await import('./cli/plan.ts');
      await runPlanCommand(rest);
      return;
    }
    case 'batch': {
      const { runBatchCommand } = await import('./pool/cli-batch.ts');
      await runBatchCommand(rest);
      return;
    }
    case 'bench':
      await import('../bench/run.ts');
      return;
    case 'info':
      return info();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  if (e instanceof HeftyError) console.error(`hefty: ${e.code}: ${e.message}`);
  else console.error(e);
  process.exitCode = 1;
});
