/** The README's "## Example" block and how its printed results are read: shared by the README and package tests. */
import { readFileSync } from 'node:fs';

const README = new URL('../README.md', import.meta.url);

export function readmeExample(): string {
  const example = readFileSync(README, 'utf8')
    .split('## Example')[1]
    ?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (!example?.includes("from 'hefty'")) throw new Error('README: no "## Example" ts block importing hefty');
  return example;
}

/** The four numbers the example prints: y.decrypt() (three values) and score. */
export function readmeExampleNumbers(stdout: string): number[] {
  const numbers =
    stdout
      .replace(/Float64Array\(\d+\)/, '')
      .match(/-?\d+(\.\d+)?(e-?\d+)?/g)
      ?.map(Number) ?? [];
  if (numbers.length !== 4) throw new Error(`README example printed ${numbers.length} numbers: ${stdout}`);
  return numbers;
}
