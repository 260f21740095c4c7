/**
 * Reading a whole request body with a hard size limit, for both services.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyError } from './errors.js';

/**
 * Resolves with the raw body. Past `limit` bytes (declared or received) it rejects with
 * PAYLOAD_TOO_LARGE, drains the rest and asks for the connection to close; a broken stream
 * rejects with BODY_UNREADABLE.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      res.setHeader('connection', 'close');
      req.removeAllListeners('data');
      req.resume();
      reject(new BodyError('PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`));
    };
    if (Number(req.headers['content-length'] ?? NaN) > limit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge();
      else chunks.push(c);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', () => reject(new BodyError('BODY_UNREADABLE', 'request body could not be read')));
  });
}
