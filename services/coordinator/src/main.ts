#!/usr/bin/env node
// Coordinator entry point: read config, start, drain and stop on SIGTERM/SIGINT.
import { createLogger } from '@frostd/transport';
import { loadConfig } from './config.js';
import { createCoordinator } from './coordinator.js';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  process.stderr.write(`coordinator: configuration error: ${(e as Error).message}\n`);
  process.exit(78); // EX_CONFIG
}
const logger = createLogger('coordinator', config.logLevel, undefined, { sync: config.logSync });
const coordinator = createCoordinator(config, { logger });
let stopping = false;
// Logs are written asynchronously: flush them before leaving.
const exit = (code: number) => logger.flush(() => process.exit(code));
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  coordinator.close().then(() => exit(0), () => exit(1));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
coordinator.start().catch((e: Error) => {
  logger.fatal({ err: { name: e.name, message: e.message } }, 'coordinator failed to start');
  exit(1);
});
