/**
 * The signer's end of the channel (channel.ts): it takes WebSocket upgrades that the signer has
 * already authenticated (client certificate first, as for every request), or connections the signer
 * dialled itself ({@link ChannelServer.dial}, for a signer that cannot accept connections: one to
 * every replica of its coordinator), and hands each request frame to the signer's RPC handler,
 * concurrently: one slow RPC never holds up the answers of others on the same connection. Answers go
 * back in the order they are ready, matched by id.
 * @module
 */
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { CHANNEL_PROTOCOL, MAX_REQUEST_FRAME_OVERHEAD, decodeFrame, encodeAnswerFrame, type RequestFrame } from './frames.js';
import { CHANNEL_PATH } from './protocol.js';
import { InvalidArgumentError } from './errors.js';
import { backoffDelay, type ChannelAnswer } from './channel.js';

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
  /**
   * The coordinator's signer listener, `https://host:port` (the channel path is added). A host name
   * may stand for several replicas (a headless Service): each of its addresses is dialled.
   */
  url: string;
  caPem: string;
  /** The signer's own certificate and key: its TLS client certificate must name it (DNS:<signer id>). */
  certPem: string;
  keyPem: string;
  /**
   * Checks the coordinator's certificate once TLS is up (the pin); an Error refuses it. Its `host` is
   * the URL's host (also sent as the TLS server name), whichever address was dialled.
   */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  connectTimeoutMs: number;
  /** Delays between attempts after a failure: from `initialMs`, doubling up to `maxMs`, jittered (default 100 ms .. 5 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** How often a host name is looked up again, to dial replicas that appeared and drop gone ones (default 10 s). */
  resolveIntervalMs?: number;
  /** Every address a host name has now (default: the system resolver, as any connection would use it). */
  resolve?: (host: string) => Promise<string[]>;
  /** Told whenever a connection opens (true) or ends (false, with why), with the address it goes to. */
  onStateChange?: (connected: boolean, address: string, reason?: string) => void;
  /**
   * Told when the addresses dialled change, and when a lookup fails or finds nothing (the addresses
   * known are kept then: a resolver's hiccup never drops a working connection).
   */
  onResolve?: (event: { added: string[]; removed: string[] } | { error: string }) => void;
}

interface Served {
  ws: WebSocket;
  inFlight: number;
  /** A dialled connection to an address the coordinator's name no longer has: closes once answered. */
  retiring: boolean;
}

/** Close codes (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001;
const PROTOCOL_ERROR = 1002;
const UNSUPPORTED_DATA = 1003;

const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5000 };
const DEFAULT_RESOLVE_INTERVAL_MS = 10_000;
/** Longer than any RPC's timeout: what is still in flight by then has been given up by its caller. */
const RETIRE_GRACE_MS = 30_000;

export class ChannelServer {
  readonly #o: ChannelServerOptions;
  readonly #wss: WebSocketServer;
  readonly #served = new Set<Served>();
  /** Signer-dials mode: the coordinators this signer keeps connections to. */
  readonly #dialled = new Set<CoordinatorDialler>();
  #closing = false;

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
    const served: Served = { ws, inFlight: 0, retiring: false };
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
   * Keeps a connection to every replica of a coordinator that the signer dials itself (the
   * coordinator cannot reach it), serving request frames on each as on an accepted one. Every
   * replica needs its own: each sends RPCs only on connections it holds. The URL's host name is
   * looked up at once and every `resolveIntervalMs`: an address that appears is dialled, and the
   * connection to one that disappeared closes once its requests are answered. Each connection
   * reconnects with backoff, at once after one that worked ends. An IP literal is one address, never
   * looked up. Of a dual-stack name only the addresses of the family listed first are dialled (a
   * replica with both would otherwise be dialled twice, and each connection would replace the
   * other). May be called for several coordinators; all stop at {@link close}.
   */
  dial(o: ChannelDialOptions): void {
    if (this.#closing) return;
    const dialler = new CoordinatorDialler(o, {
      maxPayload: this.#wss.options.maxPayload!,
      serve: (ws) => this.serve(ws),
      retire: (ws) => this.#retire(ws),
    });
    this.#dialled.add(dialler);
    dialler.start();
  }

  /**
   * Shutdown: every connection closes (1001) once its requests are answered, at the latest after
   * `graceMs`; dialled ones are not dialled again. The caller refuses new requests (SHUTTING_DOWN)
   * from the moment it calls this.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const d of this.#dialled) d.stop();
    this.#dialled.clear();
    for (const s of this.#served) this.#closeIfDone(s);
    const deadline = Date.now() + graceMs;
    while (this.#served.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.#served) s.ws.terminate();
    this.#served.clear();
    this.#wss.close();
  }

  /**
   * A dialled connection whose address is gone: it closes once its requests are answered, at the
   * latest after RETIRE_GRACE_MS (a replica still sending keeps some request in flight all along).
   */
  #retire(ws: WebSocket): void {
    for (const s of this.#served) {
      if (s.ws !== ws || s.retiring) continue;
      s.retiring = true;
      this.#closeIfDone(s);
      if (ws.readyState === WebSocket.OPEN) setTimeout(() => ws.terminate(), RETIRE_GRACE_MS).unref();
    }
  }

  #closeIfDone(s: Served): void {
    if ((this.#closing || s.retiring) && s.inFlight === 0 && s.ws.readyState === WebSocket.OPEN) s.ws.close(GOING_AWAY, this.#closing ? 'shutting down' : 'address gone');
  }

  #refuse(ws: WebSocket, code: number, reason: string): void {
    this.#o.onProtocolError?.(reason);
    ws.close(code);
  }
}

/** What a dialler needs of its server: how to serve a connection it opened, and retire one. */
interface DiallerHost {
  maxPayload: number;
  serve(ws: WebSocket): void;
  retire(ws: WebSocket): void;
}

/** One address of the coordinator's name, and the connection kept to it. */
interface DialTarget {
  address: string;
  /** The connection, connecting or open. */
  ws: WebSocket | undefined;
  /** The next attempt, after a failure or a close. */
  timer: NodeJS.Timeout | undefined;
  failures: number;
  /** No longer among the name's addresses (or the dialler stopped): never dialled again. */
  retired: boolean;
}

/** The connections to one coordinator URL: one per address of its host, following its lookups. */
class CoordinatorDialler {
  readonly #o: ChannelDialOptions;
  readonly #host: DiallerHost;
  readonly #backoff: { initialMs: number; maxMs: number };
  readonly #resolveIntervalMs: number;
  readonly #resolve: (host: string) => Promise<string[]>;
  /** The URL's host without brackets, and its `host:port` (the Host header of every connection). */
  readonly #hostname: string;
  readonly #authority: string;
  readonly #port: string;
  readonly #targets = new Map<string, DialTarget>();
  #lookupTimer: NodeJS.Timeout | undefined;
  #lookupFailures = 0;
  #stopped = false;

  constructor(o: ChannelDialOptions, host: DiallerHost) {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new InvalidArgumentError('dial url must be an https origin (https://host:port)');
    }
    if (url.protocol !== 'https:') throw new InvalidArgumentError('dial url must be an https origin (https://host:port)');
    const backoff = o.backoff ?? DEFAULT_BACKOFF;
    if (!(backoff.initialMs > 0 && backoff.maxMs >= backoff.initialMs)) throw new InvalidArgumentError('backoff needs 0 < initialMs <= maxMs');
    const interval = o.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval < 1) throw new InvalidArgumentError('resolveIntervalMs must be a positive integer');
    this.#o = o;
    this.#host = host;
    this.#backoff = backoff;
    this.#resolveIntervalMs = interval;
    this.#resolve = o.resolve ?? systemResolve;
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#authority = url.host;
    this.#port = url.port || '443';
  }

  start(): void {
    if (isIP(this.#hostname)) this.#apply([this.#hostname]);
    else void this.#lookup();
  }

  /** Nothing is dialled again; connections still connecting are dropped (open ones close with the server). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#lookupTimer);
    for (const t of this.#targets.values()) this.#retireTarget(t, false);
    this.#targets.clear();
  }

  /** Looks the host name up, applies the answer, and schedules the next lookup. */
  async #lookup(): Promise<void> {
    let addresses: string[] | undefined;
    let error: string | undefined;
    try {
      addresses = pickFamily(await this.#resolve(this.#hostname));
      if (addresses.length === 0) error = 'no address';
    } catch (e) {
      error = (e as Error).message;
    }
    if (this.#stopped) return;
    if (error === undefined) {
      this.#lookupFailures = 0;
      this.#apply(addresses!);
    } else {
      this.#lookupFailures++;
      this.#o.onResolve?.({ error });
    }
    // While no address is known, look again as soon as a connection would be retried.
    const delay = this.#targets.size > 0 ? this.#resolveIntervalMs : Math.min(this.#resolveIntervalMs, backoffDelay(this.#backoff, this.#lookupFailures - 1));
    this.#lookupTimer = setTimeout(() => void this.#lookup(), delay);
    this.#lookupTimer.unref();
  }

  /** Dials the addresses new to the set, retires those no longer in it. */
  #apply(addresses: string[]): void {
    const next = new Set(addresses);
    const added = addresses.filter((a) => !this.#targets.has(a));
    const removed = [...this.#targets.keys()].filter((a) => !next.has(a));
    for (const a of removed) {
      this.#retireTarget(this.#targets.get(a)!, true);
      this.#targets.delete(a);
    }
    for (const a of added) {
      const t: DialTarget = { address: a, ws: undefined, timer: undefined, failures: 0, retired: false };
      this.#targets.set(a, t);
      this.#attempt(t);
    }
    if (added.length > 0 || removed.length > 0) this.#o.onResolve?.({ added, removed });
  }

  /** `open`: let an open connection finish its requests first; otherwise the server closes it. */
  #retireTarget(t: DialTarget, open: boolean): void {
    t.retired = true;
    clearTimeout(t.timer);
    if (!t.ws) return;
    if (t.ws.readyState === WebSocket.CONNECTING) t.ws.terminate();
    else if (open) this.#host.retire(t.ws);
  }

  #attempt(t: DialTarget): void {
    if (this.#stopped || t.retired) return;
    const o = this.#o;
    const named = !isIP(this.#hostname);
    const options: WebSocket.ClientOptions & ConnectionOptions = {
      ca: o.caPem,
      cert: o.certPem,
      key: o.keyPem,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      // The name, not the address, is what the coordinator's certificate is checked for.
      ...(named ? { servername: this.#hostname } : {}),
      headers: { host: this.#authority },
      // ws types this callback as returning a boolean; tls.connect takes an Error or undefined.
      checkServerIdentity: ((_servername: string, cert: PeerCertificate) => o.checkServerIdentity(this.#hostname, cert)) as never,
      handshakeTimeout: o.connectTimeoutMs,
      maxPayload: this.#host.maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
    };
    const at = isIP(t.address) === 6 ? `[${t.address}]` : t.address;
    const ws = new WebSocket(`wss://${at}:${this.#port}${CHANNEL_PATH}`, CHANNEL_PROTOCOL, options);
    t.ws = ws;
    let openedAt: number | undefined;
    ws.once('open', () => {
      openedAt = Date.now();
      o.onStateChange?.(true, t.address);
      this.#host.serve(ws);
      // Retired while the upgrade completed: closes once answered, like any retired connection.
      if (t.retired && !this.#stopped) this.#host.retire(ws);
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.once('close', (code: number) => {
      if (t.ws === ws) t.ws = undefined;
      if (openedAt !== undefined) o.onStateChange?.(false, t.address, `connection closed (${code})`);
      if (this.#stopped || t.retired) return;
      // A connection that lasted is redialled at once; one refused or closed soon after it opened (a
      // peer that drops or replaces it) counts as a failure, so that it is redialled with backoff.
      const lasted = openedAt !== undefined && Date.now() - openedAt >= STABLE_CONNECTION_MS;
      if (lasted) t.failures = 0;
      const delay = lasted ? 0 : backoffDelay(this.#backoff, t.failures++);
      t.timer = setTimeout(() => this.#attempt(t), delay);
      t.timer.unref();
    });
  }
}

/** How long a dialled connection must have lasted for its loss to be redialled at once, without backoff. */
const STABLE_CONNECTION_MS = 1000;

/** Every address the system resolver (as a connection would use it) has for `host`, in its order. */
async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/** The distinct addresses of the family listed first. */
function pickFamily(addresses: string[]): string[] {
  const valid = addresses.filter((a) => isIP(a) !== 0);
  if (valid.length === 0) return [];
  const family = isIP(valid[0]!);
  return [...new Set(valid.filter((a) => isIP(a) === family))];
}
