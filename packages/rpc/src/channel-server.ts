/**
 * The signer's end of the channel (channel.ts): it takes WebSocket upgrades that the signer has
 * already authenticated (client certificate first, as for every request), or a connection the
 * signer dialled itself ({@link ChannelServer.dial}, for a signer that cannot accept connections),
 * and hands each request frame to the signer's RPC handler, concurrently: one slow RPC never holds
 * up the answers of others on the same connection. Answers go back in the order they are ready,
 * matched by id.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { CHANNEL_PROTOCOL, MAX_REQUEST_FRAME_OVERHEAD, decodeFrame, encodeAnswerFrame, type RequestFrame } from './frames.js';
import { CHANNEL_PATH } from './protocol.js';
import { InvalidArgumentError } from './errors.js';
import type { ChannelAnswer } from './channel.js';

export interface ChannelServerOptions {
  /** The signer's body limit: a frame may carry that much body plus its envelope. */
  maxRequestBytes: number;
  /** Answers one request frame; must not reject (every refusal is an answer). */
  handle: (frame: RequestFrame) => Promise<ChannelAnswer>;
  /** A frame that is not a request of this layout: the connection is closed (not worth an answer). */
  onProtocolError?: (reason: string) => void;
}

/** Where and how a signer dials its coordinator (see {@link ChannelServer.dial}). */
export interface ChannelDialOptions {
  /** The coordinator's signer listener, `https://host:port` (the channel path is added). */
  url: string;
  caPem: string;
  /** The signer's own certificate and key: its TLS client certificate must name it (DNS:<signer id>). */
  certPem: string;
  keyPem: string;
  /** Checks the coordinator's certificate once TLS is up (the pin); an Error refuses it. */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  connectTimeoutMs: number;
  /** Delays between attempts after a failure: from `initialMs`, doubling up to `maxMs`, jittered (default 100 ms .. 5 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Told whenever the connection opens (true) or ends (false, with why). */
  onStateChange?: (connected: boolean, reason?: string) => void;
}

interface Served {
  ws: WebSocket;
  inFlight: number;
}

/** Close codes (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001;
const PROTOCOL_ERROR = 1002;
const UNSUPPORTED_DATA = 1003;

export class ChannelServer {
  readonly #o: ChannelServerOptions;
  readonly #wss: WebSocketServer;
  readonly #served = new Set<Served>();
  #closing = false;
  /** A dialled connection still connecting, and the timer of the next attempt (signer-dials mode). */
  #dialling: WebSocket | undefined;
  #redial: NodeJS.Timeout | undefined;

  constructor(options: ChannelServerOptions) {
    if (!Number.isSafeInteger(options.maxRequestBytes) || options.maxRequestBytes < 1) throw new InvalidArgumentError('maxRequestBytes must be a positive integer');
    this.#o = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxRequestBytes + MAX_REQUEST_FRAME_OVERHEAD,
      perMessageDeflate: false,
      clientTracking: false,
      // Only this layout is spoken: a client asking for another gets no subprotocol, and drops the connection.
      handleProtocols: (protocols) => (protocols.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false),
    });
  }

  /** Completes an upgrade the caller has authenticated, and serves the connection. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws));
  }

  /** Serves request frames arriving on `ws` (accepted here, or dialled by the signer) until it closes. */
  serve(ws: WebSocket): void {
    if (this.#closing) {
      ws.close(GOING_AWAY, 'shutting down');
      return;
    }
    const served: Served = { ws, inFlight: 0 };
    this.#served.add(served);
    ws.on('error', () => undefined); // 'close' follows
    ws.on('close', () => this.#served.delete(served));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.#refuse(ws, UNSUPPORTED_DATA, 'text frame');
      let frame;
      try {
        frame = decodeFrame(data);
      } catch (e) {
        return this.#refuse(ws, PROTOCOL_ERROR, (e as Error).message);
      }
      if (frame.type !== 'request') return this.#refuse(ws, PROTOCOL_ERROR, 'answer frame from the client');
      served.inFlight++;
      const id = frame.id;
      void this.#o.handle(frame).then(
        (answer) => {
          served.inFlight--;
          if (ws.readyState === WebSocket.OPEN) ws.send(encodeAnswerFrame(id, answer.status, answer.body));
          this.#closeIfDone(served);
        },
        () => {
          served.inFlight--;
          ws.terminate(); // the handler broke its contract: nothing sensible to answer
        },
      );
    });
  }

  /**
   * Keeps one connection to a coordinator that the signer dials itself (the coordinator cannot reach
   * it), serving request frames on it as on an accepted one; reconnects with backoff, at once after a
   * connection that worked ends. Stops at {@link close}.
   */
  dial(o: ChannelDialOptions): void {
    const { initialMs, maxMs } = o.backoff ?? { initialMs: 100, maxMs: 5000 };
    const origin = new URL(o.url);
    const target = `wss://${origin.host}${CHANNEL_PATH}`;
    let failures = 0;
    const attempt = () => {
      if (this.#closing) return;
      const options: WebSocket.ClientOptions & ConnectionOptions = {
        ca: o.caPem,
        cert: o.certPem,
        key: o.keyPem,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        // ws types this callback as returning a boolean; tls.connect takes an Error or undefined.
        checkServerIdentity: o.checkServerIdentity as never,
        handshakeTimeout: o.connectTimeoutMs,
        maxPayload: this.#wss.options.maxPayload,
        perMessageDeflate: false,
        followRedirects: false,
      };
      const ws = new WebSocket(target, CHANNEL_PROTOCOL, options);
      this.#dialling = ws;
      let opened = false;
      ws.once('open', () => {
        opened = true;
        failures = 0;
        o.onStateChange?.(true);
        this.serve(ws);
      });
      ws.on('error', () => undefined); // 'close' follows
      ws.once('close', (code: number) => {
        if (this.#dialling === ws) this.#dialling = undefined;
        if (opened) o.onStateChange?.(false, `connection closed (${code})`);
        if (this.#closing) return;
        const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(failures++, 20));
        const delay = opened ? 0 : Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        this.#redial = setTimeout(attempt, delay);
        this.#redial.unref();
      });
    };
    attempt();
  }

  /**
   * Shutdown: every connection closes (1001) once its requests are answered, at the latest after
   * `graceMs`. The caller refuses new requests (SHUTTING_DOWN) from the moment it calls this.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#redial);
    if (this.#dialling && this.#dialling.readyState === WebSocket.CONNECTING) this.#dialling.terminate();
    for (const s of this.#served) this.#closeIfDone(s);
    const deadline = Date.now() + graceMs;
    while (this.#served.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.#served) s.ws.terminate();
    this.#served.clear();
    this.#wss.close();
  }

  #closeIfDone(s: Served): void {
    if (this.#closing && s.inFlight === 0 && s.ws.readyState === WebSocket.OPEN) s.ws.close(GOING_AWAY, 'shutting down');
  }

  #refuse(ws: WebSocket, code: number, reason: string): void {
    this.#o.onProtocolError?.(reason);
    ws.close(code);
  }
}
