/**
 * Child process for the restart tests: the real service on a loopback port. Prints its URL, then one
 * `handling <METHOD> <route>` line each time a route handler starts, so a test can act once its requests are
 * inside the server (an event) rather than after a guessed delay.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { startServer } from '../../src/server/main.ts';

const [dataDir, apiKey] = process.argv.slice(2);
tracingChannel<unknown, { route: { method: string; url: string } }>('fastify.request.handler').start.subscribe(
  ({ route }) => {
    process.stdout.write(`handling ${route.method} ${route.url}\n`);
  },
);
const server = await startServer(
  { host: '127.0.0.1', port: 0, dataDir, apiKeys: { [apiKey]: 'alice' }, logLevel: 'silent' },
  { env: {} },
);
process.stdout.write(`${server.url}\n`);
