#!/usr/bin/env node
/**
 * hefty's command line. Each command lives in its own module and is imported only when used, so `hefty info`
 * does not load the server and `hefty serve` does not load bench code. Every command takes --help and
 * --version; failures print one line, `hefty: <code>: <message>`, and exit with status 1 (2 for an unknown
 * command). HEFTY_DEBUG=1 prints stacks too.
 */
import { parseCommand } from './cli/args.ts';
import { HeftyError } from './errors.ts';
import { VERSION } from './version.ts';

const USAGE = `usage: hefty <command> [options]      (hefty <command> --help for its options)

commands:
  keygen     create keys: keys/keyset.hfks (for servers) and keys/secret.key (private)
  encrypt    encrypt JSON values into ciphertext files
  decrypt    decrypt ciphertext files into JSON
  plan       levels, galois steps, N, chain and key-set size a program needs
  batch      run a program over many ciphertext files on the worker pool
  serve      start the HTTP service (API docs at /docs)
  worker     run a compute node of a distributed deployment (jobs from Redis)
  info       show the version and which engine runs here, and why
  demo       private-scoring demo: a client encrypts, the service computes, the client decrypts and checks
  bench      run the benchmark suites (in a clone of the repository: npm run bench)

options:
  -h, --help       this help
  -v, --version    hefty's version`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<void>> = {
  keygen: async (argv) => (await import('./cli/keygen.ts')).keygenCommand(argv),
  encrypt: async (argv) => (await import('./cli/vectors.ts')).encryptCommand(argv),
  decrypt: async (argv) => (await import('./cli/vectors.ts')).decryptCommand(argv),
  plan: async (argv) => (await import('./cli/plan.ts')).runPlanCommand(argv),
  batch: async (argv) => (await import('./pool/cli-batch.ts')).runBatchCommand(argv),
  serve: async (argv) => (await import('./cli/serve.ts')).serveCommand(argv),
  worker: async (argv) => (await import('./cli/worker.ts')).workerCommand(argv),
  info: async (argv) => (await import('./cli/info.ts')).infoCommand(argv),
  demo: async (argv) => {
    const help = 'usage: hefty demo\n\nStarts a throwaway service on a loopback port and runs the demo against it.';
    if (!parseCommand({ name: 'demo', help, options: {} }, argv)) return;
    const { runDemo } = await import('./demo.ts');
    if (!(await runDemo())) process.exitCode = 1;
  },
  bench: async () => {
    // The suites are not part of the installed package; in a clone they run from source.
    if (!import.meta.url.endsWith('.ts'))
      throw new HeftyError('E_UNSUPPORTED', 'hefty bench runs in a clone of the repository (npm run bench)');
    const suites = '../bench/run.ts';
    await import(suites);
  },
};

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h')
    return void console.log(USAGE);
  if (command === '--version' || command === '-v') return void console.log(VERSION);
  const run = COMMANDS[command];
  if (!run) {
    console.error(`hefty: E_INVALID_ARGUMENT: unknown command "${command}" (hefty --help lists them)`);
    process.exitCode = 2;
    return;
  }
  await run(rest);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const error = e instanceof HeftyError ? e : new HeftyError('E_INTERNAL', (e as Error)?.message ?? String(e));
  console.error(`hefty: ${error.code}: ${error.message.split('\n')[0]}`);
  if (process.env.HEFTY_DEBUG === '1') console.error(e);
  // Started workers or servers must not keep a failed command alive.
  process.exit(1);
});
