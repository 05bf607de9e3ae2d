/** hefty/server: the HTTP service as a library (what `hefty serve` runs). */
export { startServer, devApiKey, DEV_KEY_FILE, type RunningServer } from './main.ts';
export { buildApp, type BuildOptions, type HeftyApp } from './app.ts';
export { resolveOptions, parseApiKeys, DEFAULT_OPTIONS, type ServerOptions } from './config.ts';
export type { Executor, ExecutorStats } from './executor.ts';
