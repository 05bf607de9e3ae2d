// Prints the C++ sources of one part of the native engine, relative to the repository root, for binding.gyp
// (gyp has no globbing). It lists the same folders as CMakeLists.txt, so both builds compile the same files.
// Plain JavaScript on purpose: node-gyp runs it with whatever `node` is on PATH.
import console from 'node:console';
import { existsSync, readdirSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const PARTS = {
  core: ['native/ring', 'native/seal', 'native/rlwe', 'native/ckks', 'native/bfv', 'native/bgv'],
  addon: ['native/addon'],
};

const root = fileURLToPath(new URL('..', import.meta.url));
const folders = PARTS[process.argv[2]];
if (!folders) {
  console.error(`usage: node scripts/native-sources.mjs ${Object.keys(PARTS).join('|')}`);
  process.exit(2);
}
const sources = folders
  .filter((folder) => existsSync(`${root}${folder}`))
  .flatMap((folder) =>
    readdirSync(`${root}${folder}`)
      .filter((file) => file.endsWith('.cpp'))
      .sort()
      .map((file) => `${folder}/${file}`),
  );
console.log(sources.join('\n'));
