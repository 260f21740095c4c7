#!/usr/bin/env node
// Signer entry point: read config, start, stop on SIGTERM/SIGINT.
import { createLogger } from '@frostd/transport';
import { loadConfig } from './config.js';
import { createSigner } from './signer.js';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  process.stderr.write(`signer: configuration error: ${(e as Error).message}\n`);
  process.exit(78); // EX_CONFIG
}
const logger = createLogger(`signer:${config.id}`, config.logLevel, undefined, { sync: config.logSync });
const signer = createSigner(config, { logger });
let stopping = false;
// Logs are written asynchronously: flush them before leaving.
const exit = (code: number) => logger.flush(() => process.exit(code));
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  signer.close().then(() => exit(0), () => exit(1));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
signer.start().catch((e: Error) => {
  logger.fatal({ err: { name: e.name, message: e.message } }, 'signer failed to start');
  exit(1);
});
