#!/usr/bin/env node
// Relay entry point: read config, start, drain and stop on SIGTERM/SIGINT.
import { createLogger, runUntilSignal } from '@hoarfrost/runtime';
import { loadConfig } from './config.js';
import { createRelay } from './relay.js';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  process.stderr.write(`relay: configuration error: ${(e as Error).message}\n`);
  process.exit(78); // EX_CONFIG
}
const logger = createLogger('relay', config.logLevel, undefined, { sync: config.logSync });
runUntilSignal('relay', createRelay(config, { logger }), logger);
