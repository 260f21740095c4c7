import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyError } from '../src/errors.js';
import { readBody } from '../src/http-body.js';

const LIMIT = 1024;

/** What the handler saw: the body it read, or the error it got, and the response's connection header. */
interface Outcome {
  body?: Buffer;
  error?: unknown;
  connectionHeader?: unknown;
}

let server: Server;
let port: number;
let outcomes: Outcome[] = [];
let nextOutcome: Promise<Outcome>;
let settle: (o: Outcome) => void;
const expectOutcome = () => {
  nextOutcome = new Promise((resolve) => (settle = resolve));
};

beforeAll(async () => {
  // Echoes the SHA-256 and length of the body it read, or answers 413 the way the services do.
  server = createServer((req, res) => {
    readBody(req, res, LIMIT).then(
      (body) => {
        const o = { body, connectionHeader: res.getHeader('connection') };
        outcomes.push(o);
        settle(o);
        res.writeHead(200).end(JSON.stringify({ length: body.length, sha256: createHash('sha256').update(body).digest('hex') }));
      },
      (error: unknown) => {
        const o = { error, connectionHeader: res.getHeader('connection') };
        outcomes.push(o);
        settle(o);
        res.writeHead(error instanceof BodyError && error.code === 'PAYLOAD_TOO_LARGE' ? 413 : 400).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * POSTs `chunks` (written one by one, chunked transfer unless `contentLength` is given) and resolves
 * with the status, headers and body of the answer.
 */
function post(chunks: Buffer[], contentLength?: number): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  outcomes = [];
  expectOutcome();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (contentLength !== undefined) headers['content-length'] = String(contentLength);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('readBody', () => {
  it('returns a body sent in many chunks whole and in order', async () => {
    const parts = [bytes(100, 1), bytes(1, 2), bytes(300, 3), bytes(200, 4)];
    const whole = Buffer.concat(parts);
    const res = await post(parts);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ length: whole.length, sha256: sha(whole) });
    expect(outcomes[0]!.body!.equals(whole)).toBe(true);
    expect(outcomes[0]!.connectionHeader).toBeUndefined();
  });

  it('returns an empty body as an empty Buffer', async () => {
    const res = await post([], 0);
    expect(res.status).toBe(200);
    expect(outcomes[0]!.body).toEqual(Buffer.alloc(0));
  });

  it('accepts a body of exactly the limit, declared or streamed', async () => {
    const body = bytes(LIMIT);
    expect((await post([body], LIMIT)).status).toBe(200);
    expect(outcomes[0]!.body!.equals(body)).toBe(true);
    expect((await post([body.subarray(0, 500), body.subarray(500)])).status).toBe(200);
    expect(outcomes[0]!.body!.equals(body)).toBe(true);
  });

  it('refuses a declared content-length over the limit with PAYLOAD_TOO_LARGE and connection: close', async () => {
    const res = await post([bytes(LIMIT + 1)], LIMIT + 1);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    const o = await nextOutcome;
    expect(o.error).toBeInstanceOf(BodyError);
    expect((o.error as BodyError).code).toBe('PAYLOAD_TOO_LARGE');
    expect((o.error as BodyError).message).toBe(`body exceeds ${LIMIT} bytes`);
    expect(o.connectionHeader).toBe('close');
  });

  it('refuses a streamed body that grows over the limit (no content-length) the same way', async () => {
    const res = await post([bytes(600), bytes(600), bytes(600)]);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    const o = await nextOutcome;
    expect(o.error).toBeInstanceOf(BodyError);
    expect((o.error as BodyError).code).toBe('PAYLOAD_TOO_LARGE');
    expect(o.connectionHeader).toBe('close');
    // The handler settled once: a refusal, never a body afterwards.
    expect(outcomes).toHaveLength(1);
  });

  it('refuses one byte over the limit', async () => {
    expect((await post([bytes(LIMIT), bytes(1)])).status).toBe(413);
    expect((await post([bytes(LIMIT + 1)], LIMIT + 1)).status).toBe(413);
  });

  it('a client that goes away mid-body → BODY_UNREADABLE', async () => {
    outcomes = [];
    expectOutcome();
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': '500' }, agent: false });
    req.on('error', () => {
      /* we destroy it ourselves */
    });
    req.write(bytes(100));
    // Give the server the headers and the first bytes, then cut the connection.
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    const o = await nextOutcome;
    expect(o.error).toBeInstanceOf(BodyError);
    expect((o.error as BodyError).code).toBe('BODY_UNREADABLE');
  });
});

describe('readBody time limit', () => {
  it('a body that does not arrive whole in time → BODY_TIMEOUT and connection: close, without waiting for the rest', async () => {
    let seen: unknown;
    const slow = createServer((req, res) => {
      readBody(req, res, LIMIT, { timeoutMs: 200 }).then(
        () => res.writeHead(200).end(),
        (e: unknown) => {
          seen = e;
          res.writeHead(408).end();
        },
      );
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const answer = await new Promise<{ status: number; connection: unknown }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: (slow.address() as AddressInfo).port, method: 'POST', path: '/', headers: { 'content-length': '500' }, agent: false },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode!, connection: res.headers.connection });
          },
        );
        req.on('error', reject);
        // 10 bytes now, and never the other 490.
        req.write(bytes(10));
      });
      expect(answer.status).toBe(408);
      expect(answer.connection).toBe('close');
      expect(seen).toBeInstanceOf(BodyError);
      expect((seen as BodyError).code).toBe('BODY_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
