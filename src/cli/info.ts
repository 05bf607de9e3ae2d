/** `hefty info`: the version, the engine CKKS runs on here and why, and what else could load. */
import { engineReport } from '../backend/engine-report.ts';
import { parseCommand } from './args.ts';

const HELP = `usage: hefty info [--json]

Shows hefty's version, which engine runs (native: a source build or the prebuilt binary for this platform;
else node-seal WASM) and why, the SIMD code path, and whether the WASM fallback loads.

  --json          the same as a JSON object
  -h, --help      this help
  -v, --version   hefty's version`;

export async function infoCommand(argv: readonly string[]): Promise<void> {
  const parsed = parseCommand(
    { name: 'info', help: HELP, options: { json: { type: 'boolean', default: false } } },
    argv,
  );
  if (!parsed) return;
  const report = await engineReport();
  if (parsed.values.json) return void console.log(JSON.stringify(report, null, 2));
  const native = report.native.available
    ? `available (${report.native.origin}, ${report.native.simd})`
    : `unavailable: ${report.native.error}`;
  const wasm = report.wasm?.available ? 'available (node-seal)' : `unavailable: ${report.wasm?.error}`;
  console.log(
    [
      `hefty ${report.version} on Node ${process.version} (${report.platform})`,
      `engine: ${report.engine}: ${report.reason}`,
      `native: ${native}`,
      `wasm: ${wasm}`,
    ].join('\n'),
  );
}
