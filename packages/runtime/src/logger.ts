/**
 * pino JSON logger with a redact list: secrets and credentials never reach the logs.
 * @module
 */
import { destination as pinoDestination, pino, type Logger, type LevelWithSilent } from 'pino';

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
  '*.*.authorization',
  '*.*.headers.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'token',
  '*.token',
  '*.*.token',
  '*.*.*.secret',
];

export type { Logger };

/**
 * A JSON logger. By default it writes to stdout asynchronously through a buffered sonic-boom stream
 * (a synchronous write per record costs the coordinator a noticeable share of its CPU under load,
 * bench/RESULTS.md); call
 * `logger.flush()` before exiting. SIGNER_LOG_SYNC / COORDINATOR_LOG_SYNC=true selects synchronous
 * writes for deployments that prefer durability of every audit line over throughput.
 */
export function createLogger(name: string, level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream, options: { sync?: boolean } = {}): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (destination ?? pinoDestination({ dest: 1, sync: options.sync ?? false, minLength: 0 })) as never,
  );
}
