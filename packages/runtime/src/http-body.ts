/**
 * Reading a whole request body with a hard size limit and a time limit, for both services.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyError } from './errors.js';

/** Default bound on the time a client may take to send a whole body (a slow body holds a request slot). */
export const DEFAULT_BODY_TIMEOUT_MS = 5000;

export interface ReadBodyOptions {
  /** Time from the call until the last byte must have arrived (default {@link DEFAULT_BODY_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/**
 * Resolves with the raw body. Past `limit` bytes (declared or received) it rejects with
 * PAYLOAD_TOO_LARGE, drains the rest and asks for the connection to close; past `timeoutMs` it
 * rejects with BODY_TIMEOUT and asks for the connection to close (the rest of a slow body is not
 * worth waiting for); a broken stream rejects with BODY_UNREADABLE.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number, options: ReadBodyOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const stop = (e: BodyError, drainRest: boolean) => {
      clearTimeout(timer);
      res.setHeader('connection', 'close');
      req.removeAllListeners('data');
      req.removeAllListeners('end');
      if (drainRest) req.resume();
      else req.pause();
      reject(e);
    };
    if (Number(req.headers['content-length'] ?? NaN) > limit) return stop(new BodyError('PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`), true);
    const timeoutMs = options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    timer = setTimeout(() => stop(new BodyError('BODY_TIMEOUT', `body not received within ${timeoutMs} ms`), false), timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) stop(new BodyError('PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`), true);
      else chunks.push(c);
    });
    req.once('end', () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.once('error', () => {
      clearTimeout(timer);
      reject(new BodyError('BODY_UNREADABLE', 'request body could not be read'));
    });
  });
}
