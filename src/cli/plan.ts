/**
 * `hefty plan`: what a program needs before any key exists — levels, galois steps, N and the coefficient
 * chain at 128-bit security, and the size of the key set (see src/api/he/planner.ts).
 *
 *   hefty plan model.json --input x=784 --input w=128x784
 */
import { readFileSync } from 'node:fs';
import type { ParseArgsOptionsConfig } from 'node:util';
import { loadBackend, type BackendChoice } from '../backend/load.ts';
import { megabytes, planIntegerProgram, planProgram, type InputSize, type ProgramPlan } from '../api/he/planner.ts';
import { isIntegerScheme, type Scheme } from '../backend/types.ts';
import { validateProgram } from '../api/program.ts';
import { HeftyError } from '../errors.ts';
import { parseCommand } from './args.ts';

const HELP = `usage: hefty plan PROGRAM.json --input NAME=LENGTH... [options]

  --input NAME=LENGTH     length of an encrypted or plain vector input (repeatable)
  --input NAME=ROWSxCOLS  size of a matrix input
  --scheme ckks|bfv|bgv   default ckks
  --scale-bits B          CKKS: bits of the scale (default 40)
  --integer-bits B        CKKS: bits the first prime leaves above the scale (default 20)
  --plain-bits B          BFV, BGV: bits of the plaintext modulus t (default 20)
  --degree N              use this ring degree instead of the smallest that fits
  --security 128|192|256  default 128
  --json                  print the plan as JSON
  -h, --help              this help
  -v, --version           hefty's version`;

function parseSize(text: string): [string, InputSize] {
  const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=(\d+)(?:x(\d+))?$/.exec(text);
  if (!match) throw new HeftyError('E_INVALID_ARGUMENT', `--input ${text}: expected NAME=LENGTH or NAME=ROWSxCOLS`);
  const [, name, first, second] = match;
  return [name, second === undefined ? Number(first) : [Number(first), Number(second)]];
}

function optionalNumber(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new HeftyError('E_INVALID_ARGUMENT', `${what} must be an integer`);
  return n;
}

/** The plan as the lines `hefty plan` prints. */
export function formatPlan(plan: ProgramPlan): string {
  const steps = (list: readonly number[]) => (list.length === 0 ? 'none' : list.join(', '));
  const integer = plan.scheme !== 'ckks';
  const lines = [
    integer
      ? `depth          ${plan.levels} (the noise budget at N=${plan.polyModulusDegree} holds about ${plan.maxLevels})`
      : `levels         ${plan.levels} (a chain at N=${plan.polyModulusDegree} holds at most ${plan.maxLevels} at this precision)`,
    `N              ${plan.polyModulusDegree} (${plan.slotCount} slots), ${plan.security}-bit security, ${plan.scheme}`,
    integer
      ? `chain          [${plan.coeffModulusBits.join(', ')}] bits, t ${plan.plainModulusBits} bits, noise budget ` +
        `${plan.noiseBudget?.fresh} bits fresh, about ${plan.noiseBudget?.consumed} consumed`
      : `chain          [${plan.coeffModulusBits.join(', ')}] bits, scale 2^${plan.scaleBits}`,
    `galois steps   ${steps(plan.galoisSteps)}` +
      (plan.keyBasis === 'exact' ? '' : ` (${plan.keyBasis} keys: the other rotations are composed of them)`),
    `key switches   ${plan.rotations} rotations, ${plan.multiplications} relinearizations`,
    `key set        ${megabytes(plan.keyBytes.seededZstd)} seeded+zstd (estimate), ${megabytes(plan.keyBytes.seeded)} seeded, ${megabytes(plan.keyBytes.full)} full` +
      ` (${plan.galoisSteps.length} galois keys${plan.relinKeys ? ', relinearization keys' : ''}, public key)`,
    'steps:',
    ...plan.steps.map(
      (s) =>
        `  ${s.out} = ${s.op}: ${s.levels} level(s), depth ${s.depth}` +
        (s.rotations > 0 ? `, ${s.rotations} rotations by ${steps(s.galoisSteps)}` : ''),
    ),
  ];
  return lines.join('\n');
}

const OPTIONS = {
  input: { type: 'string', multiple: true },
  scheme: { type: 'string', default: 'ckks' },
  'plain-bits': { type: 'string' },
  'scale-bits': { type: 'string' },
  'integer-bits': { type: 'string' },
  degree: { type: 'string' },
  security: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

export async function runPlanCommand(argv: readonly string[]): Promise<void> {
  const args = parseCommand({ name: 'plan', help: HELP, options: OPTIONS, positionals: true }, argv);
  if (!args) return;
  const { values, positionals } = args;
  if (positionals.length !== 1)
    throw new HeftyError('E_INVALID_ARGUMENT', 'hefty plan takes one program file (hefty plan --help)');
  let text: string;
  try {
    text = readFileSync(positionals[0], 'utf8');
  } catch (e) {
    throw new HeftyError('E_INVALID_ARGUMENT', `cannot read ${positionals[0]}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HeftyError('E_BAD_PROGRAM', `${positionals[0]} is not JSON: ${(e as Error).message}`);
  }
  const scheme = values.scheme as Scheme;
  if (scheme !== 'ckks' && !isIntegerScheme(scheme))
    throw new HeftyError('E_INVALID_ARGUMENT', '--scheme must be ckks, bfv or bgv');
  const program = validateProgram(parsed, scheme);
  const security = optionalNumber(values.security, '--security');
  if (security !== undefined && security !== 128 && security !== 192 && security !== 256)
    throw new HeftyError('E_INVALID_ARGUMENT', '--security must be 128, 192 or 256');
  const backend = await loadBackend(values.backend as BackendChoice | undefined, scheme);
  const inputs = Object.fromEntries((values.input ?? []).map(parseSize));
  if (isIntegerScheme(scheme)) {
    const plan = planIntegerProgram(
      program,
      scheme,
      {
        inputs,
        plainModulusBits: optionalNumber(values['plain-bits'], '--plain-bits'),
        polyModulusDegree: optionalNumber(values.degree, '--degree'),
        security,
      },
      (n, level) => backend.coeffModulusBfvDefault(n, level).map((q) => q.toString(2).length),
    );
    console.log(values.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
    return;
  }
  const plan = planProgram(
    program,
    {
      inputs,
      scaleBits: optionalNumber(values['scale-bits'], '--scale-bits'),
      integerBits: optionalNumber(values['integer-bits'], '--integer-bits'),
      polyModulusDegree: optionalNumber(values.degree, '--degree'),
      security,
    },
    (n, level) => backend.maxCoeffModulusBits(n, level),
  );
  console.log(values.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
}
