/**
 * Server lifecycle shared by the services: listen and report the bound port, count in-flight
 * requests, drain on shutdown, and run a service from main.ts until SIGTERM/SIGINT.
 * @module
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** Listens and resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Counts requests whose response has not closed yet. */
export function trackInFlight(server: Server): () => number {
  let n = 0;
  server.on('request', (_req, res) => {
    n++;
    res.once('close', () => n--);
  });
  return () => n;
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes every connection. */
export async function drain(server: Server, inFlight: () => number, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  server.closeAllConnections();
  await closed;
}

/** Closes a plain server and its connections (open requests included: it does not wait for them). */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * Starts `service` and stops it on SIGTERM/SIGINT; exits 0 after a clean stop, 1 when start-up or
 * shutdown fails. Logs are flushed before exiting (they are written asynchronously).
 */
export function runUntilSignal(name: string, service: { start(): Promise<void>; close(): Promise<void> }, logger: Logger): void {
  const exit = (code: number) => logger.flush(() => process.exit(code));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.close().then(() => exit(0), () => exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  service.start().catch((e: Error) => {
    logger.fatal({ err: { name: e.name, message: e.message } }, `${name} failed to start`);
    exit(1);
  });
}
