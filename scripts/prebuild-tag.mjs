// The prebuilds/ folder name for this process: <platform>-<arch>, with -musl for musl Linux (its binaries differ
// from glibc's). src/backend/addon-location.ts computes the same name at run time (a test keeps them equal).
// Plain JavaScript: install scripts run inside node_modules, where Node does not strip TypeScript types.
import process from 'node:process';

export function prebuildTag() {
  const musl = process.platform === 'linux' && !process.report.getReport().header.glibcVersionRuntime;
  return `${process.platform}-${process.arch}${musl ? '-musl' : ''}`;
}
