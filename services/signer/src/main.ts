#!/usr/bin/env node
// Signer entry point: read config, start, stop on SIGTERM/SIGINT.
import { createLogger, runUntilSignal } from '@hoarfrost/runtime';
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
runUntilSignal('signer', createSigner(config, { logger }), logger);
