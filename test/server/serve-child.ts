/** Child process for the restart test: the real service on a loopback port; prints its URL. */
import { startServer } from '../../src/server/main.ts';

const [dataDir, apiKey] = process.argv.slice(2);
const server = await startServer(
  { host: '127.0.0.1', port: 0, dataDir, apiKeys: { [apiKey]: 'alice' }, logLevel: 'silent' },
  { env: {} },
);
process.stdout.write(`${server.url}\n`);
