/**
 * The transport comparison behind the coordinator ↔ signer channel (bench/RESULTS.md): one small
 * authenticated RPC (a 400-byte bearer token and a 300-byte CBOR body up, 100 bytes down) over mutual
 * TLS on loopback, the server in its own process, with
 *   - HTTP/1.1 keep-alive (undici Pool, 16 connections: what the coordinator used before),
 *   - HTTP/2 (node:http2, one session; the server's stream API),
 *   - a WebSocket (`ws` as @hoarfrost/rpc uses it, one connection; CBOR frames with request ids).
 * Each prints the p50 round trip at concurrency 1, the rate at 64 in flight, and the CPU both
 * processes spent per request (process.cpuUsage).
 *   node bench/dist/channel-main.js
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { readFileSync, mkdtempSync } from 'node:fs';
import { connect as h2connect, constants as h2c, createSecureServer, type ClientHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { decodeCbor, encodeCbor } from '@hoarfrost/rpc';
import { createDevEnvironment, type DevEnvironment } from '@hoarfrost/testkit';
import { median } from './stats.js';

export type Transport = 'http1' | 'http2' | 'ws';

/** The `ws` module the RPC package depends on (the benchmark has no dependencies of its own). */
const ws = createRequire(fileURLToPath(import.meta.resolve('@hoarfrost/rpc')))('ws') as {
  WebSocket: new (u: string, o: object) => WsLike;
  WebSocketServer: new (o: object) => { on(e: string, f: (ws: WsLike) => void): void };
};

const TOKEN = `Bearer ${'x'.repeat(400)}`;
const BODY = encodeCbor({ key_id: 'default', message: new Uint8Array(120), commitments: [{ identifier: new Uint8Array(32), hiding: new Uint8Array(32), binding: new Uint8Array(32) }] });
const ANSWER = encodeCbor({ identifier: new Uint8Array(32), share: new Uint8Array(32) });

interface Files {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** The server side, run in a child process: answers every RPC with ANSWER and reports its CPU on request. */
async function serve(kind: Transport, f: Files): Promise<void> {
  const tls = { cert: f.cert, key: f.key, ca: f.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' as const };
  let port: number;
  if (kind === 'http2') {
    const server = createSecureServer({ ...tls, allowHTTP1: false });
    server.on('stream', (stream, headers) => {
      if (!headers.authorization) return void stream.respond({ ':status': 401 }, { endStream: true });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        decodeCbor(Buffer.concat(chunks));
        stream.respond({ ':status': 200, 'content-type': 'application/cbor' });
        stream.end(ANSWER);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  } else {
    const server = createHttpsServer({ ...tls, keepAliveTimeout: 65_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        decodeCbor(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/cbor', 'content-length': ANSWER.length }).end(ANSWER);
      });
    });
    if (kind === 'ws') {
      const wss = new ws.WebSocketServer({ server, maxPayload: 1 << 20, perMessageDeflate: false });
      wss.on('connection', (socket) => {
        socket.on('message', (data: Buffer) => {
          const m = decodeCbor(data) as { id: number; token: string; body: Uint8Array };
          decodeCbor(m.body);
          socket.send(encodeCbor({ id: m.id, status: 200, body: ANSWER }));
        });
      });
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  }
  process.on('message', () => process.send!(process.cpuUsage()));
  process.send!({ port });
}

interface WsLike {
  on(e: string, f: (...a: never[]) => void): void;
  once(e: string, f: (...a: never[]) => void): void;
  send(b: Uint8Array): void;
  close(): void;
}

type Call = () => Promise<void>;

async function client(kind: Transport, port: number, f: Files, servername: string): Promise<{ call: Call; close: () => Promise<void> }> {
  const tls = { ca: f.ca, cert: f.cert, key: f.key, servername, minVersion: 'TLSv1.3' as const };
  if (kind === 'http1') {
    const pool = new Pool(`https://127.0.0.1:${port}`, { connections: 16, connect: tls });
    return {
      call: async () => {
        const r = await pool.request({ method: 'POST', path: '/v1/round2', headers: { 'content-type': 'application/cbor', authorization: TOKEN }, body: BODY });
        decodeCbor(new Uint8Array(await r.body.arrayBuffer()));
      },
      close: () => pool.close(),
    };
  }
  if (kind === 'http2') {
    const session: ClientHttp2Session = h2connect(`https://127.0.0.1:${port}`, tls);
    await once(session, 'connect');
    return {
      call: () =>
        new Promise<void>((resolve, reject) => {
          const s = session.request({ [h2c.HTTP2_HEADER_METHOD]: 'POST', [h2c.HTTP2_HEADER_PATH]: '/v1/round2', 'content-type': 'application/cbor', authorization: TOKEN });
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            decodeCbor(Buffer.concat(chunks));
            resolve();
          });
          s.on('error', reject);
          s.end(BODY);
        }),
      close: async () => void session.close(),
    };
  }
  const socket = new ws.WebSocket(`wss://127.0.0.1:${port}/`, { ...tls, perMessageDeflate: false, maxPayload: 1 << 20 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const pending = new Map<number, () => void>();
  let seq = 0;
  socket.on('message', (data: Buffer) => {
    const m = decodeCbor(data) as { id: number; body: Uint8Array };
    decodeCbor(m.body);
    pending.get(m.id)?.();
    pending.delete(m.id);
  });
  return {
    call: () =>
      new Promise<void>((resolve) => {
        const id = ++seq;
        pending.set(id, resolve);
        socket.send(encodeCbor({ id, path: '/v1/round2', token: TOKEN, body: BODY }));
      }),
    close: async () => socket.close(),
  };
}

export interface TransportResult {
  transport: Transport;
  p50_us: number;
  rps: number;
  /** CPU of client and server per request at 64 in flight (µs). */
  client_cpu_us: number;
  server_cpu_us: number;
}

const cpuOf = (child: ChildProcess): Promise<NodeJS.CpuUsage> =>
  new Promise((resolve) => {
    child.once('message', (m) => resolve(m as NodeJS.CpuUsage));
    child.send('cpu');
  });
const total = (u: NodeJS.CpuUsage) => u.user + u.system;

/** Runs one transport: `requests` sequential calls for the p50, then `seconds` with 64 in flight. */
export async function measureTransport(kind: Transport, env: DevEnvironment, requests = 2000, seconds = 3): Promise<TransportResult> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', kind, env.dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const signer = env.signers[0]!;
  const c = await client(kind, port, { cert: readFileSync(env.coordinatorClientCertFile), key: readFileSync(env.coordinatorClientKeyFile), ca: readFileSync(env.caFile) }, signer.id);
  try {
    for (let i = 0; i < 500; i++) await c.call();
    const xs: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t = process.hrtime.bigint();
      await c.call();
      xs.push(Number(process.hrtime.bigint() - t) / 1e3);
    }
    const until = Date.now() + seconds * 1000;
    let done = 0;
    const serverBefore = await cpuOf(child);
    const clientBefore = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < until) {
          await c.call();
          done++;
        }
      }),
    );
    const clientCpu = total(process.cpuUsage(clientBefore));
    const serverCpu = total(await cpuOf(child)) - total(serverBefore);
    return { transport: kind, p50_us: median(xs), rps: done / seconds, client_cpu_us: clientCpu / done, server_cpu_us: serverCpu / done };
  } finally {
    await c.close();
    child.kill();
  }
}

/** Every transport, alternated `rounds` times; the median run of each. */
export async function compareTransports(rounds = 3): Promise<TransportResult[]> {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-bench-channel-')), { threshold: 2, signers: 3 });
  const kinds: Transport[] = ['http1', 'http2', 'ws'];
  const runs = new Map<Transport, TransportResult[]>(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const k of kinds) runs.get(k)!.push(await measureTransport(k, env));
  return kinds.map((k) => {
    const rs = runs.get(k)!;
    const mid = <K extends keyof TransportResult>(key: K) => median(rs.map((x) => x[key] as number));
    return { transport: k, p50_us: mid('p50_us'), rps: mid('rps'), client_cpu_us: mid('client_cpu_us'), server_cpu_us: mid('server_cpu_us') };
  });
}

if (process.argv[2] === 'serve') {
  const env = JSON.parse(readFileSync(join(process.argv[4]!, 'environment.json'), 'utf8')) as DevEnvironment;
  const s = env.signers[0]!;
  await serve(process.argv[3] as Transport, { cert: readFileSync(s.certFile), key: readFileSync(s.keyFile), ca: readFileSync(env.caFile) });
}
