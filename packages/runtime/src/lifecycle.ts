/**
 * Server lifecycle shared by the services: listen and report the bound port, count in-flight
 * requests, drain on shutdown, and run a service from main.ts until SIGTERM/SIGINT.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

/** The requests of a server whose responses have not closed yet, and its open connections. */
export interface InFlight {
  readonly count: number;
  readonly responses: ReadonlySet<ServerResponse>;
  /**
   * Every accepted connection still open, from its first byte: for a TLS server this includes those
   * still in their handshake, which `closeAllConnections` does not reach.
   */
  readonly sockets: ReadonlySet<Socket>;
}

/** Tracks the requests of `server` until their responses close (answered, or the client went away). */
export function trackInFlight(server: Server): InFlight {
  const responses = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    responses.add(res);
    res.once('close', () => responses.delete(res));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    get count() {
      return responses.size;
    },
    responses,
    sockets,
  };
}

export interface DrainOptions {
  /**
   * How long to keep serving normally before the listener closes: the time a load balancer (a
   * Kubernetes Service's endpoints) takes to stop routing here once readiness fails. Default 0.
   */
  delayMs?: number;
  /** After the listener closed, how long in-flight requests may take before connections are cut. */
  graceMs: number;
  /** Called when the delay is over and the listener closes (a service stops taking new work). */
  onListenerClose?: () => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Shuts an HTTP(S) server down without cutting a client mid-request. The caller has made readiness
 * fail already. Then:
 * 1. every response from now on — requests in flight included — carries `Connection: close`, so each
 *    kept-alive connection ends after its current exchange, at a point its client expects, instead of
 *    being closed under a request it is about to send;
 * 2. for `delayMs` the server keeps accepting and serving (traffic still routed here is answered);
 * 3. the listener closes and idle connections are closed; requests in flight get up to `graceMs`;
 * 4. whatever is still open is closed, connections still in their TLS handshake included.
 */
export async function drain(server: Server, inFlight: InFlight, options: DrainOptions): Promise<void> {
  const lastExchange = (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close');
  server.prependListener('request', lastExchange);
  for (const res of inFlight.responses) if (!res.headersSent) res.setHeader('connection', 'close');
  if (options.delayMs) await sleep(options.delayMs);
  options.onListenerClose?.();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = Date.now() + options.graceMs;
  while (inFlight.count > 0 && Date.now() < deadline) {
    await sleep(20);
    server.closeIdleConnections();
  }
  server.closeAllConnections();
  // A connection that never finished its TLS handshake is not an HTTP connection yet: only its
  // socket can end it, and nothing else would before the handshake timeout.
  for (const socket of inFlight.sockets) socket.destroy();
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
