/**
 * A compromised signer host on the channel: a man-in-the-middle in front of one real signer that
 * speaks the channel (a WebSocket over mutual TLS, frames.ts). It presents the signer's own
 * certificate and key (an attacker on the signer's host has them), dials the real signer's channel
 * with the coordinator's client certificate, and passes every frame through, except what its current
 * {@link ChannelProxy.tamper} rewrites: each answer frame from the signer (with the request it
 * answers) goes through it, and whatever frames it returns are what the coordinator gets. Requests are
 * forwarded unchanged (their tokens bind the exact body). HTTP requests are answered 404: the
 * coordinator reaches this signer over the channel only.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type WsModule from '../../packages/rpc/node_modules/@types/ws/index.js';
import { CHANNEL_PATH, CHANNEL_PROTOCOL, decodeFrame, type AnswerFrame, type RequestFrame } from '@hoarfrost/rpc';
import type { DevEnvironment, DevSigner } from '@hoarfrost/testkit';

/** What the coordinator gets for `answer` (raw frames, in order; none: the answer is withheld). */
export type Tamper = (answer: AnswerFrame, request: RequestFrame | undefined, raw: Buffer, link: ProxyLink) => Buffer[] | Promise<Buffer[]>;

/** One coordinator connection through the proxy. */
export interface ProxyLink {
  /** Sends a raw frame to the coordinator now. */
  toCoordinator(frame: Buffer): void;
}

export interface ChannelProxy {
  /** https://127.0.0.1:<port>: the signer's URL as the coordinator knows it. */
  url: string;
  /** Rewrites answers; undefined: every frame passes unchanged. */
  tamper: Tamper | undefined;
  /** Called with each request frame before it goes on to the signer. */
  onRequest: ((request: RequestFrame, link: ProxyLink) => void) | undefined;
  /** Request frames seen so far, by path. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

// ws is a dependency of the rpc package (the channel's own), not of the workspace root: loaded from there.
const WebSocket = createRequire(new URL('../../packages/rpc/package.json', import.meta.url))('ws') as typeof WsModule;
type WebSocket = WsModule;
const { WebSocketServer } = WebSocket;

export async function startChannelProxy(env: DevEnvironment, signer: DevSigner, upstreamUrl: string): Promise<ChannelProxy> {
  const upstream = `wss://${new URL(upstreamUrl).host}${CHANNEL_PATH}`;
  const ca = readFileSync(env.caFile);
  const clientCert = readFileSync(env.coordinatorClientCertFile);
  const clientKey = readFileSync(env.coordinatorClientKeyFile);
  const sockets = new Set<WebSocket>();
  const server: Server = createServer({ cert: readFileSync(signer.certFile), key: readFileSync(signer.keyFile), minVersion: 'TLSv1.3' }, (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such RPC' } }));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (p) => (p.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false) });
  const proxy: ChannelProxy = {
    url: '',
    tamper: undefined,
    onRequest: undefined,
    requests: new Map(),
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    if (new URL(req.url ?? '/', 'https://x').pathname !== CHANNEL_PATH) return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    const options: WsModule.ClientOptions & ConnectionOptions = { ca, cert: clientCert, key: clientKey, servername: signer.id, minVersion: 'TLSv1.3', perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 };
    const up = new WebSocket(upstream, CHANNEL_PROTOCOL, options);
    up.on('error', () => socket.destroy());
    up.once('open', () => {
      wss.handleUpgrade(req, socket, head, (down) => {
        sockets.add(down);
        sockets.add(up);
        const link: ProxyLink = { toCoordinator: (f) => down.readyState === WebSocket.OPEN && down.send(f) };
        const asked = new Map<number, RequestFrame>();
        const end = () => {
          sockets.delete(down);
          sockets.delete(up);
          down.terminate();
          up.terminate();
        };
        down.on('error', end);
        down.on('close', end);
        up.on('close', end);
        down.on('message', (data: Buffer) => {
          const frame = decodeFrame(data);
          if (frame.type === 'request') {
            asked.set(frame.id, { ...frame, body: Buffer.from(frame.body) });
            proxy.requests.set(frame.path, (proxy.requests.get(frame.path) ?? 0) + 1);
            proxy.onRequest?.(frame, link);
          }
          up.send(data);
        });
        up.on('message', (data: Buffer) => {
          const answer = decodeFrame(data) as AnswerFrame;
          const request = asked.get(answer.id);
          asked.delete(answer.id);
          const tamper = proxy.tamper;
          if (!tamper) return link.toCoordinator(data);
          void Promise.resolve(tamper(answer, request, data, link)).then((frames) => {
            for (const f of frames) link.toCoordinator(f);
          });
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
