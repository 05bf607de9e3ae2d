/**
 * One way to read every subcommand's arguments: node:util parseArgs in strict mode, with --help/-h and
 * --version/-v on every command, and argument problems as E_INVALID_ARGUMENT (one line, the usage follows on
 * request) instead of Node's ERR_PARSE_ARGS_* stacks.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { HeftyError } from '../errors.ts';
import { VERSION } from '../version.ts';

export interface Command<Options extends ParseArgsOptionsConfig> {
  /** `hefty <name>` */
  readonly name: string;
  /** The text --help prints (usage line first). */
  readonly help: string;
  readonly options: Options;
  /** Positional arguments allowed (default none). */
  readonly positionals?: boolean;
}

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Parses `argv` for `command`. Returns null when --help or --version was answered (the caller just returns),
 * else the values and positionals.
 */
export function parseCommand<Options extends ParseArgsOptionsConfig>(
  command: Command<Options>,
  argv: readonly string[],
): { values: ReturnType<typeof parseArgs<{ options: Options }>>['values']; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, ...COMMON },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    throw new HeftyError('E_INVALID_ARGUMENT', `${message} (hefty ${command.name} --help lists the options)`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    console.log(command.help);
    return null;
  }
  if (values.version) {
    console.log(VERSION);
    return null;
  }
  return { values: parsed.values as never, positionals: parsed.positionals };
}

/** A required string option. */
export function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === '')
    throw new HeftyError('E_INVALID_ARGUMENT', `${flag} is required (hefty ${command} --help)`);
  return value;
}

/** An integer option within [min, max], or undefined when absent. */
export function integer(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max)
    throw new HeftyError('E_INVALID_ARGUMENT', `${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** One of `allowed`, or undefined when absent. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T))
    throw new HeftyError('E_INVALID_ARGUMENT', `${flag} must be ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** File and argument problems become E_INVALID_ARGUMENT naming the path, not a stack trace. */
export function attempt<T>(what: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof HeftyError) throw e;
    throw new HeftyError('E_INVALID_ARGUMENT', `${what}: ${(e as Error).message}`);
  }
}
