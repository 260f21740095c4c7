/**
 * A compromised signer host, for the reliability suite and tests: a man-in-the-middle TLS proxy in
 * front of one real signer. It presents that signer's own certificate and key (an attacker on the
 * signer's host has them), dials the real signer with the coordinator's client certificate, and
 * forwards every request unchanged (RPC tokens bind the exact body, so it could not alter one
 * anyway). Round-2 answers (single or batched) come back with wrong signature shares: valid scalars,
 * well-formed CBOR, from the right identity, which only the share check can expose. It does not offer
 * the persistent channel (an upgrade is answered 404, as by a proxy that does not know it), so the
 * coordinator sends this signer its RPCs as HTTP requests.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CBOR_CONTENT_TYPE, RPC_PATHS, decodeCbor, encodeCbor } from '@hoarfrost/rpc';
import type { DevEnvironment, DevSigner } from './environment.js';

export interface CheatingSigner {
  /** https://127.0.0.1:<port>: give it to the coordinator as the signer's URL. */
  url: string;
  /** Round-2 answers whose share was corrupted so far. */
  readonly corrupted: number;
  /** Requests forwarded so far (all RPCs). */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * The share with its lowest bit flipped: s ± 1, still a canonical scalar (s = ℓ − 1, the one value
 * whose neighbour is not, has probability 2⁻²⁵²), so the answer decodes and the lie is only caught
 * when the share is checked against the signer's verifying share.
 */
function corruptShare(share: Uint8Array): Uint8Array {
  const out = Uint8Array.from(share);
  out[0]! ^= 1;
  return out;
}

/** Replaces every 32-byte `share` in a decoded answer (one response, or a batch of them). */
function corruptAnswer(value: unknown): { value: unknown; count: number } {
  if (Array.isArray(value)) {
    let count = 0;
    const items = value.map((v) => {
      const r = corruptAnswer(v);
      count += r.count;
      return r.value;
    });
    return { value: items, count };
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return { value, count: 0 };
  let count = 0;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'share' && v instanceof Uint8Array && v.length === 32) {
      out[k] = corruptShare(v);
      count++;
    } else {
      const r = corruptAnswer(v);
      out[k] = r.value;
      count += r.count;
    }
  }
  return { value: out, count };
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Starts the proxy for `signer` of `env`, forwarding to the real signer at `upstreamUrl`. */
export async function startCheatingSigner(env: DevEnvironment, signer: DevSigner, upstreamUrl: string): Promise<CheatingSigner> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({
    keepAlive: true,
    ca: readFileSync(env.caFile),
    cert: readFileSync(env.coordinatorClientCertFile),
    key: readFileSync(env.coordinatorClientKeyFile),
    servername: signer.id,
    minVersion: 'TLSv1.3',
  });
  let corrupted = 0;
  let forwarded = 0;

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    forwarded++;
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    for (const h of ['content-type', 'accept', 'authorization']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (r) => {
        readAll(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject);
      });
      up.once('error', reject);
      up.end(body);
    });
    let out = answer.body;
    if (req.url?.startsWith(RPC_PATHS.round2) && answer.status === 200 && answer.headers['content-type']?.startsWith(CBOR_CONTENT_TYPE)) {
      try {
        const r = corruptAnswer(decodeCbor(out));
        if (r.count > 0) {
          out = Buffer.from(encodeCbor(r.value));
          corrupted += r.count;
        }
      } catch {
        /* not an answer this proxy understands: forwarded as it is */
      }
    }
    const type = answer.headers['content-type'];
    res.writeHead(answer.status, { ...(type ? { 'content-type': type } : {}), 'content-length': String(out.length) }).end(out);
  };

  const server: Server = createServer({ cert: readFileSync(signer.certFile), key: readFileSync(signer.keyFile), minVersion: 'TLSv1.3' }, (req, res) => {
    forward(req, res).catch(() => {
      // The real signer could not be reached: to the coordinator, the signer is down.
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.on('upgrade', (_req, socket: Duplex) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get corrupted() {
      return corrupted;
    },
    get forwarded() {
      return forwarded;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
