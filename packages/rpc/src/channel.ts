/**
 * The persistent channel to one signer: a WebSocket over the same mutual TLS as the HTTP RPCs, on
 * which any number of RPCs travel at once as request and answer frames matched by id (frames.ts).
 * Authorization stays per request: every frame carries its own RPC token, which the signer checks
 * against the frame's exact body before decoding it.
 *
 * The coordinator either dials (`dial: true`: reconnecting with backoff, and at once when a call
 * needs the channel) or is dialled (`dial: false`: a signer that cannot accept connections connects
 * out, and the coordinator {@link SignerChannel.adopt}s the socket). Either way the channel watches
 * itself: a ping every `pingIntervalMs`, and a connection that stays silent until the next one is cut,
 * failing its calls at once instead of at their timeouts. Its state changes are the signer's
 * liveness as the coordinator sees it ({@link ChannelOptions.onStateChange}); each connection's
 * fate (opened, failed, lost) is told too ({@link ChannelOptions.onConnect}), so that reconnection
 * storms can be counted.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { SignerCallError, type CallFailureCode } from './errors.js';
import { ANSWER_FRAME_OVERHEAD, CHANNEL_PROTOCOL, decodeFrame, encodeRequestFrame } from './frames.js';
import { CHANNEL_PATH, isSignerErrorCode, type SignerErrorCode } from './protocol.js';

/**
 * - `idle`: no connection and none being made (`lastError` says why, once there was one);
 * - `connecting`: dialling; calls wait for the outcome;
 * - `open`: calls go out at once;
 * - `unsupported`: the signer answers HTTP but does not offer the channel (an older signer, or
 *   something in between): the caller uses plain HTTP requests, and the channel is tried again later;
 * - `closed`: closed for good.
 */
export type ChannelState = 'idle' | 'connecting' | 'open' | 'unsupported' | 'closed';

/**
 * - `opened`: a connection is up (dialled, or one the signer dialled was adopted);
 * - `failed`: a dial failed (unreachable, timed out, refused for the caller);
 * - `unsupported`: a dial found that the signer does not offer the channel;
 * - `lost`: an open connection ended, other than by {@link SignerChannel.close} (the signer went away,
 *   stopped answering pings, broke the protocol, or dialled in again).
 */
export type ChannelConnectOutcome = 'opened' | 'failed' | 'unsupported' | 'lost';

export interface ChannelOptions {
  /** The signer's name: the DNS SAN its certificate must carry (pinned). */
  id: string;
  /** The signer's https origin; the channel is `wss://` on the same host and port. */
  url: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Dial the signer (true), or wait for it to connect and be {@link SignerChannel.adopt}ed (false). */
  dial: boolean;
  /** Bound on a connection attempt: TCP, TLS and the upgrade. */
  connectTimeoutMs: number;
  /** Largest answer body accepted; a larger frame ends the connection (its calls fail as bad answers). */
  maxAnswerBytes: number;
  /** A ping this often; no sign of life until the next one ends the connection (default 5000 ms). */
  pingIntervalMs?: number;
  /** Background reconnection delays after a failure: from `initialMs`, doubling up to `maxMs`, jittered. */
  backoff?: { initialMs: number; maxMs: number };
  /** How long a signer that does not offer the channel is left on plain HTTP before it is asked again (default 60 s). */
  retryUnsupportedMs?: number;
  /** Checks the signer's certificate once TLS is up (the pin); an Error refuses the connection. */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  onStateChange?: (state: ChannelState) => void;
  /** Told of each connection attempt's outcome and of each connection lost (for metrics). */
  onConnect?: (outcome: ChannelConnectOutcome) => void;
}

/** A whole answer: its status and its body (CBOR when 200, the JSON error body otherwise). */
export interface ChannelAnswer {
  status: number;
  body: Uint8Array;
}

/** The signer does not offer the channel: the call should go as a plain HTTP request. */
export class ChannelUnsupportedError extends Error {
  override name = 'ChannelUnsupportedError';
}

interface Pending {
  resolve: (a: ChannelAnswer) => void;
  reject: (e: Error) => void;
}

interface Waiter {
  resolve: (ws: WebSocket) => void;
  reject: (e: Error) => void;
}

/** Close codes (RFC 6455 §7.4.1) the channel uses or reads. */
const NORMAL = 1000;
const GOING_AWAY = 1001;
const PROTOCOL_ERROR = 1002;
const TOO_BIG = 1009;

/** Upgrade refusals that say "not you" or "not now" rather than "no channel here". */
const REFUSALS_OF_CALLER = new Set<SignerErrorCode>(['CLIENT_CERT_REQUIRED', 'CLIENT_CERT_UNTRUSTED', 'CLIENT_IDENTITY_NOT_ALLOWED', 'SHUTTING_DOWN']);

export class SignerChannel {
  readonly #o: Required<Pick<ChannelOptions, 'pingIntervalMs' | 'backoff' | 'retryUnsupportedMs'>> & ChannelOptions;
  readonly #wssUrl: string;
  #state: ChannelState = 'idle';
  #ws: WebSocket | undefined;
  #pending = new Map<number, Pending>();
  #waiters: Waiter[] = [];
  #seq = 0;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #alive = false;
  /** Ends the connection attempt under way, if any. */
  #abandonDial: (() => void) | undefined;
  /** Why the last connection attempt failed or the last connection ended. */
  lastError: SignerCallError | undefined;

  constructor(options: ChannelOptions) {
    this.#o = { pingIntervalMs: 5000, backoff: { initialMs: 100, maxMs: 5000 }, retryUnsupportedMs: 60_000, ...options };
    const u = new URL(options.url);
    this.#wssUrl = `wss://${u.host}${CHANNEL_PATH}`;
  }

  get state(): ChannelState {
    return this.#state;
  }

  /**
   * One RPC over the channel. Rejects with a SignerCallError when there is no connection (or it
   * ends before the answer), and with {@link ChannelUnsupportedError} when the signer turns out not
   * to offer the channel. Bounded by `signal`: the caller's wait ends when it aborts (with its reason).
   */
  async request(path: string, authorization: string, body: Uint8Array, signal: AbortSignal): Promise<ChannelAnswer> {
    const ws = this.#state === 'open' && this.#ws ? this.#ws : await this.#connected(signal);
    const id = (this.#seq = (this.#seq + 1) >>> 0);
    const frame = encodeRequestFrame(id, path, authorization, body);
    return new Promise<ChannelAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        signal.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
        f(v);
      };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      ws.send(frame, (err) => {
        if (err) this.#pending.get(id)?.reject(this.#error('SIGNER_UNREACHABLE', `channel send failed: ${err.message}`));
      });
    });
  }

  /**
   * Takes a connection the signer opened (signer-dials mode): it replaces the current one, whose
   * calls fail. The caller has authenticated the peer as this signer.
   */
  adopt(ws: WebSocket): void {
    if (this.#state === 'closed') {
      ws.close(GOING_AWAY, 'coordinator closing');
      return;
    }
    if (this.#ws && this.#ws !== ws) this.#drop(this.#ws, this.#error('SIGNER_UNREACHABLE', 'replaced by a new connection from the signer'));
    this.#attach(ws);
  }

  /** Closes the connection for good; calls in flight fail. */
  close(): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    this.#setState('closed');
    this.#abandonDial?.();
    if (ws) this.#drop(ws, this.#error('SIGNER_UNREACHABLE', 'channel closed'), NORMAL);
    this.#failWaiters(this.#error('SIGNER_UNREACHABLE', 'channel closed'));
  }

  /** An open connection, dialling one if needed (bounded by `signal`). */
  #connected(signal: AbortSignal): Promise<WebSocket> {
    if (this.#state === 'closed') return Promise.reject(this.#error('SIGNER_UNREACHABLE', 'channel closed'));
    if (this.#state === 'unsupported') return Promise.reject(new ChannelUnsupportedError('the signer does not offer the channel'));
    if (!this.#o.dial && this.#state !== 'open') {
      return Promise.reject(this.lastError ?? this.#error('SIGNER_UNREACHABLE', 'the signer has not connected'));
    }
    return new Promise<WebSocket>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve: (ws) => {
          signal.removeEventListener('abort', onAbort);
          resolve(ws);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      // A call does not wait out a reconnection delay: it dials now (one attempt shared by all waiting calls).
      if (this.#state === 'idle') this.#dial();
    });
  }

  #dial(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#setState('connecting');
    const options: WebSocket.ClientOptions & ConnectionOptions = {
      ca: this.#o.caPem,
      cert: this.#o.certPem,
      key: this.#o.keyPem,
      servername: this.#o.id,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      // ws types this callback as returning a boolean; it is handed to tls.connect, which takes an Error or undefined.
      checkServerIdentity: this.#o.checkServerIdentity as never,
      handshakeTimeout: this.#o.connectTimeoutMs,
      maxPayload: this.#o.maxAnswerBytes + ANSWER_FRAME_OVERHEAD,
      perMessageDeflate: false,
      followRedirects: false,
    };
    const ws = new WebSocket(this.#wssUrl, CHANNEL_PROTOCOL, options);
    let settled = false;
    const fail = (e: SignerCallError | ChannelUnsupportedError) => {
      if (settled) return;
      settled = true;
      this.#abandonDial = undefined;
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      this.#ws = undefined;
      // Closed meanwhile: close() has failed the waiting calls, and nothing is retried.
      if (this.#state === 'closed') return;
      if (e instanceof ChannelUnsupportedError) {
        this.#o.onConnect?.('unsupported');
        this.#setState('unsupported');
        this.#failWaiters(e);
        this.#retryLater(this.#o.retryUnsupportedMs);
        return;
      }
      this.lastError = e;
      this.#failures++;
      this.#o.onConnect?.('failed');
      this.#setState('idle');
      this.#failWaiters(e);
      this.#retryLater(this.#backoff());
    };
    ws.once('open', () => {
      if (settled) return;
      if (ws.protocol !== CHANNEL_PROTOCOL) return fail(new ChannelUnsupportedError(`the signer answered with subprotocol "${ws.protocol}"`));
      settled = true;
      this.#abandonDial = undefined;
      ws.removeAllListeners();
      this.#failures = 0;
      this.#attach(ws);
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      void refusalOf(res).then(({ status, code }) => {
        // Refused as the caller it is, or for now: the same refusal awaits an HTTP request. Anything
        // else (an unknown path, a missing token: a signer or proxy that does not know the channel,
        // any other status) sends calls over HTTP instead.
        if (code !== undefined && REFUSALS_OF_CALLER.has(code)) return fail(this.#error(code, `channel refused: ${code}`));
        fail(new ChannelUnsupportedError(`channel upgrade answered ${status}${code ? ` ${code}` : ''}`));
      });
    });
    ws.once('error', (e: Error) => {
      const timeout = /handshake has timed out/i.test(e.message);
      fail(this.#error(timeout ? 'SIGNER_TIMEOUT' : 'SIGNER_UNREACHABLE', `channel: ${e.message.slice(0, 200)}`));
    });
    ws.once('close', () => fail(this.#error('SIGNER_UNREACHABLE', 'channel closed during the handshake')));
    this.#abandonDial = () => fail(this.#error('SIGNER_UNREACHABLE', 'channel closed'));
  }

  /** Serves calls on `ws` until it closes. */
  #attach(ws: WebSocket): void {
    this.#ws = ws;
    this.#alive = true;
    this.lastError = undefined;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#alive = true;
      let frame;
      try {
        if (!isBinary) throw new Error('text frame');
        frame = decodeFrame(data);
        if (frame.type !== 'answer') throw new Error('request frame from the signer');
      } catch {
        this.#drop(ws, this.#error('SIGNER_BAD_RESPONSE', 'channel: the signer sent a frame that is not an answer'), PROTOCOL_ERROR);
        return;
      }
      // An answer to a call given up already (aborted) finds nobody: it is dropped.
      this.#pending.get(frame.id)?.resolve({ status: frame.status, body: frame.body });
    });
    ws.on('pong', () => (this.#alive = true));
    let tooBig = false;
    // 'close' follows every error; a frame over maxPayload is the one worth telling apart.
    ws.on('error', (e: Error & { code?: string }) => (tooBig ||= e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
    ws.on('close', (code: number) => {
      const why =
        tooBig || code === TOO_BIG ? this.#error('SIGNER_BAD_RESPONSE', 'channel: an answer exceeds the response size limit') : this.#error('SIGNER_UNREACHABLE', `channel closed (${code})`);
      this.#drop(ws, why);
    });
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (!this.#alive) return this.#drop(ws, this.#error('SIGNER_UNREACHABLE', 'channel: no answer to a ping'));
      this.#alive = false;
      ws.ping();
    }, this.#o.pingIntervalMs);
    this.#pingTimer.unref();
    this.#o.onConnect?.('opened');
    this.#setState('open');
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(ws);
  }

  /** Ends `ws` (if it is the current connection: its calls fail with `why`, and a dialling channel reconnects). */
  #drop(ws: WebSocket, why: SignerCallError, code?: number): void {
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    if (code !== undefined && ws.readyState === WebSocket.OPEN) ws.close(code);
    else ws.terminate();
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    clearInterval(this.#pingTimer);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(why);
    if (this.#state === 'closed') return;
    this.lastError = why;
    this.#o.onConnect?.('lost');
    this.#setState('idle');
    // A connection that worked is dialled again at once (a signer restarting or draining ends its
    // connections); repeated failures back off.
    if (this.#o.dial) this.#retryLater(this.#failures === 0 ? 0 : this.#backoff());
  }

  #retryLater(ms: number): void {
    if (!this.#o.dial || this.#state === 'closed') return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state === 'idle' || this.#state === 'unsupported') this.#dial();
    }, ms);
    this.#retryTimer.unref();
  }

  #backoff(): number {
    return backoffDelay(this.#o.backoff, this.#failures);
  }

  #failWaiters(e: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(e);
  }

  #setState(s: ChannelState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#o.onStateChange?.(s);
  }

  #error(code: CallFailureCode | SignerErrorCode, message: string): SignerCallError {
    return new SignerCallError(this.#o.id, code, `${this.#wssUrl}: ${message}`);
  }
}

/** The status and documented code (if any) of a refused upgrade; reads at most 4 KiB of its body. */
function refusalOf(res: IncomingMessage): Promise<{ status: number; code: SignerErrorCode | undefined }> {
  const status = res.statusCode ?? 0;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      res.removeAllListeners('data');
      res.destroy();
      let code: unknown;
      try {
        code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: unknown } }).error?.code;
      } catch {
        /* not a JSON error */
      }
      resolve({ status, code: isSignerErrorCode(code) ? code : undefined });
    };
    const timer = setTimeout(done, 1000);
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4096) return done();
      chunks.push(c);
    });
    res.once('end', done);
    res.once('error', done);
  });
}

/**
 * The coordinator's side of channels that signers dial (signer-dials mode): completes upgrades the
 * caller has authenticated (the signer's client certificate, pinned to a registered signer) and
 * hands each connection to that signer's client ({@link SignerChannel.adopt}).
 */
export class InboundChannels {
  readonly #wss: WebSocketServer;

  /** `maxAnswerBytes`: the largest answer body accepted, as for a dialled channel. */
  constructor(options: { maxAnswerBytes: number }) {
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxAnswerBytes + ANSWER_FRAME_OVERHEAD,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false),
    });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, onOpen: (ws: WebSocket) => void): void {
    this.#wss.handleUpgrade(req, socket, head, onOpen);
  }
}

/**
 * The jittered delay before the next attempt after `failures` failures in a row (either end of a
 * channel reconnecting): from half to all of `initialMs` doubled per failure, capped at `maxMs`.
 */
export function backoffDelay(backoff: { initialMs: number; maxMs: number }, failures: number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(failures, 0), 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
