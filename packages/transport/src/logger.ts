/**
 * pino JSON logger with a redact list: secrets and credentials never reach the logs.
 * @module
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Paths removed from every log record. */
export const REDACT_PATHS = [
  'signingShare',
  'signing_share',
  '*.signingShare',
  '*.signing_share',
  'nonces',
  '*.nonces',
  'secret',
  '*.secret',
  '*.*.secret',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'token',
  '*.token',
];

export type { Logger };

export function createLogger(name: string, level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as never,
  );
}
