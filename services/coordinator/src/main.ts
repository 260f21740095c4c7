#!/usr/bin/env node
// Coordinator entry point: read config, start, drain and stop on SIGTERM/SIGINT.
import { createLogger, runUntilSignal } from '@hoarfrost/runtime';
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
runUntilSignal('coordinator', createCoordinator(config, { logger }), logger);
