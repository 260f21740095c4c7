/**
 * A client of the relay (and of any frostd): XEdDSA login, every endpoint, long polling and push
 * subscriptions. Used by frostctl, the tests and the benchmark; it imports only node built-ins, the
 * curve library and `ws`, never the server.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import WebSocket from 'ws';
import { generateX25519KeyPair, x25519PublicKey, xeddsaSign } from './xeddsa.js';

export { xeddsaSign, xeddsaVerify, montgomeryToEdwards, generateX25519KeyPair, x25519PublicKey } from './xeddsa.js';

/** An X25519 identity (the communication key of frost-client). */
export interface RelayIdentity {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export const identityPublicHex = (id: RelayIdentity): string => hex(id.publicKey);

export function newIdentity(): RelayIdentity {
  return generateX25519KeyPair();
}

/** The identity file frostctl writes: JSON with the key pair in hex (keep it 0600). */
export function identityToJson(id: RelayIdentity): string {
  return JSON.stringify({ kind: 'frost-relay-identity', version: 1, privkey: hex(id.privateKey), pubkey: hex(id.publicKey) }, null, 2) + '\n';
}

function identityFromHex(privHex: string | undefined, what: string): RelayIdentity {
  if (!privHex || !/^[0-9a-fA-F]{64}$/.test(privHex)) throw new Error(`${what}: no 32-byte hex private key`);
  const privateKey = new Uint8Array(Buffer.from(privHex, 'hex'));
  return { privateKey, publicKey: x25519PublicKey(privateKey) };
}

/**
 * Reads an identity: frostctl's JSON file, or frost-client's credentials.toml (its
 * `[communication_key]` section). The public key is derived from the private key, never trusted from
 * the file.
 */
export function parseIdentity(text: string, what = 'identity'): RelayIdentity {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let o: { privkey?: string };
    try {
      o = JSON.parse(trimmed) as { privkey?: string };
    } catch {
      throw new Error(`${what}: not JSON`);
    }
    return identityFromHex(o.privkey, what);
  }
  const section = /^\[communication_key\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  return identityFromHex(/^privkey\s*=\s*"([0-9a-fA-F]*)"\s*$/m.exec(section)?.[1], what);
}

export const readIdentityFile = (path: string): RelayIdentity => parseIdentity(readFileSync(path, 'utf8'), path);

/** A refusal of the relay: its HTTP status and, when it sent one, the frostd error body. */
export class RelayRequestError extends Error {
  readonly status: number;
  /** frostd's variant (`error.code`: Unauthorized, SessionNotFound, ...) or undefined without a body. */
  readonly variant: string | undefined;
  /** The relay's stable code (`reason`); undefined from a frostd that does not send it. */
  readonly reason: string | undefined;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    const b = body as { msg?: string; error?: { code?: string }; reason?: string } | undefined;
    super(`relay answered ${status}${b?.error?.code ? ` ${b.error.code}` : ''}${b?.msg ? `: ${b.msg}` : ''}`);
    this.name = 'RelayRequestError';
    this.status = status;
    this.variant = b?.error?.code;
    this.reason = b?.reason;
    this.body = body;
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RelayClientOptions {
  /** https://host:port of the relay. */
  url: string;
  /** CA certificate(s) in PEM to trust instead of the system store. */
  ca?: string;
  identity?: RelayIdentity;
  /** Per-request time limit (a long poll adds its wait). */
  timeoutMs?: number;
}

export interface ReceivedMessage {
  sender: string;
  msg: string;
}

export interface SessionInfo {
  message_count: number;
  pubkeys: string[];
  coordinator_pubkey: string;
}

/** A frame of a push connection. */
export type PushFrame =
  | { type: 'ready' }
  | { type: 'message'; session_id: string; as_coordinator: boolean; sender: string; msg: string }
  | { type: 'created'; session_id: string; coordinator: string }
  | { type: 'joined'; session_id: string; pubkey: string }
  | { type: 'closed'; session_id: string };

export class RelayClient {
  readonly url: string;
  readonly identity: RelayIdentity | undefined;
  token: string | undefined;
  readonly #agent: Agent;
  readonly #ca: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: RelayClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.identity = options.identity;
    this.#ca = options.ca;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) });
  }

  get pubkey(): string {
    if (!this.identity) throw new Error('this client has no identity');
    return identityPublicHex(this.identity);
  }

  /**
   * One POST, as it is sent: `body` is the exact text (undefined sends none), headers default to JSON
   * and the client's token. Resolves with whatever the relay answered.
   */
  raw(path: string, body: string | undefined, headers: Record<string, string | undefined> = {}, timeoutMs = this.#timeoutMs, method = 'POST'): Promise<RawResponse> {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const all: Record<string, string> = {};
    const defaults: Record<string, string | undefined> = {
      'content-type': 'application/json',
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...(payload ? { 'content-length': String(payload.length) } : {}),
    };
    for (const [k, v] of Object.entries({ ...defaults, ...headers })) if (v !== undefined) all[k] = v;
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.url + '/'), { method, agent: this.#agent, headers: all }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${this.url}${path} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Calls an endpoint with frost-client's conventions (no arguments: the body `null`). */
  async call<T>(path: string, args?: unknown, timeoutMs?: number): Promise<T> {
    const r = await this.raw(path, JSON.stringify(args ?? null), {}, timeoutMs);
    let parsed: unknown;
    try {
      parsed = r.text === '' ? null : JSON.parse(r.text);
    } catch {
      parsed = undefined;
    }
    if (r.status !== 200) throw new RelayRequestError(r.status, parsed);
    return parsed as T;
  }

  async challenge(): Promise<string> {
    return (await this.call<{ challenge: string }>('/challenge')).challenge;
  }

  /** Challenge, XEdDSA signature of its 16 raw bytes, login; keeps the token. */
  async login(identity: RelayIdentity | undefined = this.identity): Promise<string> {
    if (!identity) throw new Error('login needs an identity');
    const challenge = await this.challenge();
    const signature = xeddsaSign(identity.privateKey, Buffer.from(challenge.replace(/-/g, ''), 'hex'));
    const { access_token } = await this.call<{ access_token: string }>('/login', { challenge, pubkey: identityPublicHex(identity), signature: hex(signature) });
    this.token = access_token;
    return access_token;
  }

  async logout(): Promise<void> {
    await this.call('/logout');
    this.token = undefined;
  }

  async createNewSession(pubkeys: string[], messageCount = 1): Promise<string> {
    return (await this.call<{ session_id: string }>('/create_new_session', { pubkeys, message_count: messageCount })).session_id;
  }

  async listSessions(): Promise<string[]> {
    return (await this.call<{ session_ids: string[] }>('/list_sessions')).session_ids;
  }

  getSessionInfo(sessionId: string): Promise<SessionInfo> {
    return this.call<SessionInfo>('/get_session_info', { session_id: sessionId });
  }

  /** Sends `msg` (bytes, or hex) to `recipients` (none: the coordinator). */
  async send(sessionId: string, recipients: string[], msg: Uint8Array | string): Promise<void> {
    await this.call('/send', { session_id: sessionId, recipients, msg: typeof msg === 'string' ? msg : hex(msg) });
  }

  /** Drains this client's queue; with `waitMs`, long-polls. */
  async receive(sessionId: string, asCoordinator: boolean, waitMs?: number): Promise<ReceivedMessage[]> {
    const args = { session_id: sessionId, as_coordinator: asCoordinator, ...(waitMs !== undefined ? { wait_ms: waitMs } : {}) };
    return (await this.call<{ msgs: ReceivedMessage[] }>('/receive', args, this.#timeoutMs + (waitMs ?? 0))).msgs;
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.call('/close_session', { session_id: sessionId });
  }

  /** Opens a push connection with this client's token; resolves once the relay sent `ready`. */
  subscribe(timeoutMs = this.#timeoutMs): Promise<PushSubscription> {
    const url = this.url.replace(/^http/, 'ws') + '/subscribe';
    const ws = new WebSocket(url, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      ...(this.#ca ? { ca: this.#ca } : {}),
      handshakeTimeout: timeoutMs,
    });
    const sub = new PushSubscription(ws);
    return new Promise((resolve, reject) => {
      let responded = false;
      ws.once('unexpected-response', (_req, res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          reject(new RelayRequestError(res.statusCode ?? 0, body));
        });
      });
      ws.once('error', (e) => {
        if (!responded) reject(e);
      });
      sub.next((f) => f.type === 'ready', timeoutMs).then(() => resolve(sub), reject);
    });
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Frames of a push connection, buffered until read. */
export class PushSubscription {
  readonly ws: WebSocket;
  readonly #frames: PushFrame[] = [];
  #waiters: { match: (f: PushFrame) => boolean; resolve: (f: PushFrame) => void }[] = [];
  /** Close code and reason once closed. */
  closed: { code: number; reason: string } | undefined;
  readonly #closeWaiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      let f: PushFrame;
      try {
        f = JSON.parse(data.toString('utf8')) as PushFrame;
      } catch {
        return;
      }
      const w = this.#waiters.find((x) => x.match(f));
      if (w) {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        w.resolve(f);
      } else this.#frames.push(f);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      for (const w of this.#closeWaiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
  }

  /** The next frame (buffered first) that `match` accepts. */
  next(match: (f: PushFrame) => boolean = () => true, timeoutMs = 10_000): Promise<PushFrame> {
    const i = this.#frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: PushFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== waiter);
        reject(new Error(`no matching push frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Frames received and not taken by next(). */
  get buffered(): readonly PushFrame[] {
    return this.#frames;
  }

  /** Resolves when the relay (or this side) closed the connection. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => this.#closeWaiters.push(() => resolve(this.closed!)));
  }

  close(): void {
    this.ws.close(1000);
  }
}

