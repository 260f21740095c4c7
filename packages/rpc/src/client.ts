/**
 * The coordinator's client for one signer. RPCs travel over the signer's persistent channel (a
 * WebSocket over mutual TLS, channel.ts) when the signer offers it, else as HTTP/1.1 requests on a
 * keep-alive undici Pool; either way the signer's server identity is pinned exactly (its certificate
 * must carry `DNS:<signer id>`), every RPC carries a fresh token bound to its exact body, and bodies
 * are CBOR. Under load, round-2 requests (and round-1 requests for one key) are coalesced into one
 * RPC (coalescer.ts), within the limits the signer announces in its info answer. What it does can be
 * watched through {@link SignerClientHooks} (the coordinator's metrics): the channel's state and
 * connections, and how many calls each round-1 and round-2 RPC carries.
 *
 * It speaks the wire protocol only; what a response means (identity, shares, breaker) is the
 * caller's business. It treats the signer as possibly hostile: answers are size capped and strictly
 * decoded, a call never outlives its signal, and nothing the signer writes reaches an error message
 * unbounded or unsanitized.
 * @module
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { PeerCertificate } from 'node:tls';
import type WebSocket from 'ws';
import { decodeCbor, encodeCbor, CBOR_CONTENT_TYPE } from './cbor.js';
import { ChannelUnsupportedError, SignerChannel, type ChannelConnectOutcome, type ChannelState } from './channel.js';
import { Coalescer } from './coalescer.js';
import { InvalidArgumentError, SignerCallError } from './errors.js';
import type { RpcTokenSigner } from './tokens.js';
import {
  RPC_PATHS,
  isRound2Refusal,
  isSignerErrorCode,
  parseInfoResponse,
  parseRound1Response,
  parseRound2BatchResponse,
  parseRound2Response,
  type InfoResponse,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
} from './protocol.js';

/** The RPCs of a signer, as the coordinator uses them (the real client or a test double). */
export interface SignerRpc {
  round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response>;
  round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response>;
  /**
   * Several round-2 requests, sent together (one RPC when the signer takes batches): one outcome per
   * request, in order, each a response or the SignerCallError of that request. Optional: a client
   * without it gets `round2` once per request.
   */
  round2Batch?(reqs: Round2Request[], signal?: AbortSignal): Promise<(Round2Response | SignerCallError)[]>;
  info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse>;
  /**
   * Any other RPC of the signer (key generation): `payload` CBOR-encoded under a token bound to
   * `path` and the body; the decoded answer, unchecked (the caller parses it strictly). Optional:
   * a test double without it takes no part in key generation.
   */
  call?(path: string, payload: unknown, signal?: AbortSignal): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Default cap on one answer's body, error answers included. The largest answers the coordinator
 * asks for are a round-1 batch (86 bytes of CBOR per commitment, so 86,073 bytes for 1,000, the
 * largest batch either side accepts) and a round-2 batch (≈110 bytes per share: 1,000 shares take
 * ≈110 KB); an info answer takes ≈190 bytes per key. 128 KiB holds each with room (an info answer
 * listing every key fits up to ≈650 keys); a deployment with more keys on one signer raises
 * `maxResponseBytes`.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024;

/** Round-2 requests one batch carries at most, whatever the signer allows (default of `maxBatchItems`). */
export const DEFAULT_MAX_BATCH_ITEMS = 64;

/** Longest text of a signer's error message that goes into a {@link SignerCallError} message. */
const MAX_SIGNER_MESSAGE = 200;

/** How the client reaches the signer: its channel when offered (`auto`), only the channel, or only HTTP/1.1. */
export type SignerTransport = 'auto' | 'channel' | 'http1';

/** The RPCs whose calls are coalesced. */
export type CoalescedRpc = 'round1' | 'round2';

/** What a client tells its owner as it works (for metrics and liveness). Hooks must not throw. */
export interface SignerClientHooks {
  /** Told whenever the channel's state changes (its connection is the signer's liveness). */
  onChannelState?: (state: ChannelState) => void;
  /** Told of each channel connection opened, each dial that failed or found no channel, and each connection lost. */
  onChannelConnect?: (outcome: ChannelConnectOutcome) => void;
  /** Told as each round-1 or round-2 RPC goes out, with the number of calls it carries (1 when nothing was coalesced). */
  onRpcSent?: (rpc: CoalescedRpc, calls: number) => void;
}

export interface SignerClientOptions extends SignerClientHooks {
  /** The signer's name: the expected DNS SAN of its server certificate (pinned) and the `aud` of its tokens. */
  id: string;
  /** Base URL, e.g. https://signer-1.frost-signers:7443 */
  url: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  tokens: RpcTokenSigner;
  /**
   * Per-request timeout when the caller passes no signal (default 5000 ms). Also bounds connecting
   * (TCP, TLS, and the channel's upgrade) and undici's wait for headers and body, whatever signal the
   * caller passes.
   */
  timeoutMs?: number;
  /** HTTP/1.1 connections (used when the signer offers no channel, or with `transport: 'http1'`). */
  connections?: number;
  /** Largest answer body accepted, error answers included (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
  /** Default `auto`. */
  transport?: SignerTransport;
  /**
   * True (default): the client dials the signer's channel. False: the signer dials out to the
   * coordinator, which hands the connection to {@link SignerClient.adopt}; no HTTP fallback then.
   */
  dial?: boolean;
  /** Liveness ping on the channel (default 5000 ms); a connection silent until the next ping is cut. */
  pingIntervalMs?: number;
  /** RPCs of one kind on their way to the signer at once before calls are coalesced (default 2). */
  maxInFlight?: number;
  /** Round-2 requests per batch, at most (default {@link DEFAULT_MAX_BATCH_ITEMS}; the signer's own limit applies too). */
  maxBatchItems?: number;
}

/** What the signer announced about itself (info), as far as coalescing needs it; 0: not known. */
interface SignerLimits {
  round2Batch: number;
  requestBytes: number;
  commitmentBatch: number;
}

/** Bytes a round-2 request adds to a batch body, at most (CBOR of the key id, the message and each commitment). */
function round2Size(r: Round2Request): number {
  return 48 + r.key_id.length + r.message.length + 130 * r.commitments.length;
}

/** Room a batch leaves for requests when the signer has not said how large a body it takes. */
const DEFAULT_BATCH_BYTES = 64 * 1024;

export class SignerClient implements SignerRpc {
  readonly id: string;
  readonly url: string;
  readonly #pool: Pool;
  readonly #channel: SignerChannel | undefined;
  readonly #transport: SignerTransport;
  readonly #tokens: RpcTokenSigner;
  readonly #timeout: number;
  readonly #maxInFlight: number;
  readonly #maxBatchItems: number;
  readonly #limits: SignerLimits = { round2Batch: 0, requestBytes: 0, commitmentBatch: 0 };
  readonly #round2: Coalescer<Round2Request, Round2Response>;
  readonly #round1 = new Map<string, Coalescer<number, Round1Response>>();
  readonly #onRpcSent: SignerClientHooks['onRpcSent'];
  #closing: Promise<void> | undefined;

  constructor(o: SignerClientOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new InvalidArgumentError(`signer URL is not a URL: ${o.url}`);
    }
    if (u.protocol !== 'https:') throw new InvalidArgumentError(`signer URL must be https: ${o.url}`);
    if (!o.id) throw new InvalidArgumentError('signer id must not be empty');
    const timeout = o.timeoutMs ?? 5000;
    const connections = o.connections ?? 16;
    const maxResponseBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const transport = o.transport ?? 'auto';
    const maxInFlight = o.maxInFlight ?? 2;
    const maxBatchItems = o.maxBatchItems ?? DEFAULT_MAX_BATCH_ITEMS;
    const pingIntervalMs = o.pingIntervalMs ?? 5000;
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new InvalidArgumentError(`timeoutMs must be a positive integer, got ${timeout}`);
    if (!Number.isSafeInteger(connections) || connections < 1) throw new InvalidArgumentError(`connections must be a positive integer, got ${connections}`);
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1024 || maxResponseBytes > 64 * 1024 * 1024) {
      throw new InvalidArgumentError(`maxResponseBytes must be an integer between 1024 and ${64 * 1024 * 1024}, got ${maxResponseBytes}`);
    }
    if (!['auto', 'channel', 'http1'].includes(transport)) throw new InvalidArgumentError(`transport must be auto, channel or http1, got ${transport}`);
    if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new InvalidArgumentError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    if (!Number.isSafeInteger(maxBatchItems) || maxBatchItems < 1) throw new InvalidArgumentError(`maxBatchItems must be a positive integer, got ${maxBatchItems}`);
    if (!Number.isSafeInteger(pingIntervalMs) || pingIntervalMs < 10) throw new InvalidArgumentError(`pingIntervalMs must be an integer of at least 10, got ${pingIntervalMs}`);
    if (o.dial === false && transport === 'http1') throw new InvalidArgumentError('a signer that dials out is reached over its channel: transport cannot be http1');
    this.id = o.id;
    this.url = u.origin;
    this.#tokens = o.tokens;
    this.#timeout = timeout;
    this.#transport = transport;
    this.#maxInFlight = maxInFlight;
    this.#maxBatchItems = maxBatchItems;
    this.#onRpcSent = o.onRpcSent;
    const serverName = o.id;
    // Pin the identity: the certificate must name the signer, whatever address we dialled.
    const checkServerIdentity = (_host: string, cert: PeerCertificate) => checkSignerIdentity(serverName, cert);
    this.#pool = new Pool(u.origin, {
      connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 300_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      // Connecting is bounded too: a peer that accepts TCP and never finishes TLS frees the request's
      // slot within the call timeout (the call itself is over at its signal, see #call).
      connectTimeout: timeout,
      maxResponseSize: maxResponseBytes,
      connect: { ca: o.caPem, cert: o.certPem, key: o.keyPem, servername: serverName, minVersion: 'TLSv1.3', rejectUnauthorized: true, checkServerIdentity },
    });
    this.#channel =
      transport === 'http1'
        ? undefined
        : new SignerChannel({
            id: o.id,
            url: u.origin,
            caPem: o.caPem,
            certPem: o.certPem,
            keyPem: o.keyPem,
            dial: o.dial ?? true,
            connectTimeoutMs: timeout,
            maxAnswerBytes: maxResponseBytes,
            pingIntervalMs,
            checkServerIdentity,
            ...(o.onChannelState ? { onStateChange: o.onChannelState } : {}),
            ...(o.onChannelConnect ? { onConnect: o.onChannelConnect } : {}),
          });
    this.#round2 = new Coalescer<Round2Request, Round2Response>({
      send: (reqs, signal) => this.#sendRound2(reqs, signal),
      maxInFlight: () => this.#maxInFlight,
      maxItems: () => Math.min(this.#maxBatchItems, this.#limits.round2Batch),
      maxSize: () => (this.#limits.requestBytes || DEFAULT_BATCH_BYTES) - 64,
      sizeOf: round2Size,
      aborted: (reason) => this.#failure(RPC_PATHS.round2, reason, AbortSignal.abort(reason)),
      timeoutMs: timeout,
    });
  }

  /** The channel's state (`undefined` with `transport: 'http1'`). */
  get channelState(): ChannelState | undefined {
    return this.#channel?.state;
  }

  /** Takes a channel connection the signer dialled (signer-dials mode); the caller authenticated it. */
  adopt(ws: WebSocket): void {
    if (!this.#channel) throw new InvalidArgumentError('this client has no channel (transport http1)');
    this.#channel.adopt(ws);
  }

  /**
   * One RPC. It settles when its signal aborts at the latest: undici honours a signal only once the
   * request has a connection, so a peer that accepts TCP and stalls the handshake (or a stopped
   * process) would otherwise hold the call until undici's own timeouts.
   */
  async #call<T>(path: string, payload: unknown, parse: (v: unknown) => T, callerSignal?: AbortSignal): Promise<T> {
    const signal = callerSignal ?? AbortSignal.timeout(this.#timeout);
    if (signal.aborted) throw this.#failure(path, signal.reason, signal);
    const body = encodeCbor(payload);
    const token = this.#tokens.sign({ audience: this.id, path, body });
    let answer: { status: number; body: Uint8Array };
    try {
      answer = await untilAborted(this.#send(path, body, token, signal), signal);
    } catch (e) {
      throw this.#failure(path, e, signal);
    }
    if (answer.status !== 200) throw this.#answeredError(path, answer.status, answer.body);
    try {
      return parse(decodeCbor(answer.body));
    } catch (e) {
      // Shape errors quote field names the signer chose: sanitized like its messages.
      throw new SignerCallError(this.id, 'SIGNER_BAD_RESPONSE', `${this.url}${path}: ${signerText(String((e as Error)?.message ?? e))}`);
    }
  }

  /** The exchange over the channel, or over HTTP/1.1 when the signer offers no channel. */
  async #send(path: string, body: Uint8Array, token: string, signal: AbortSignal): Promise<{ status: number; body: Uint8Array }> {
    const channel = this.#channel;
    if (channel && channel.state !== 'unsupported') {
      try {
        return await channel.request(path, `Bearer ${token}`, body, signal);
      } catch (e) {
        // Nothing was sent (the upgrade was refused as unknown): the same token goes by HTTP instead.
        if (!(e instanceof ChannelUnsupportedError)) throw e;
      }
    }
    if (this.#transport === 'channel') {
      throw new SignerCallError(this.id, 'SIGNER_UNREACHABLE', `${this.url}${path}: the signer does not offer the channel`);
    }
    return this.#exchange(path, body, token, signal);
  }

  /** The HTTP exchange: status and whole body (undici caps it at maxResponseSize). */
  async #exchange(path: string, body: Uint8Array, token: string, signal: AbortSignal): Promise<{ status: number; body: Uint8Array }> {
    const res = await this.#pool.request({
      method: 'POST',
      path,
      headers: { 'content-type': CBOR_CONTENT_TYPE, accept: CBOR_CONTENT_TYPE, authorization: `Bearer ${token}` },
      body,
      signal,
    });
    return { status: res.statusCode, body: new Uint8Array(await res.body.arrayBuffer()) };
  }

  /** A call that got no usable answer: cut by its signal, timed out, too large, or unreachable. */
  #failure(path: string, e: unknown, signal: AbortSignal): SignerCallError {
    // Whoever noticed first (the race or undici), a call whose signal fired was cut by it; the reason
    // travels as the cause, so the caller can tell its deadline from its per-call timeout.
    if (signal.aborted) {
      return new SignerCallError(this.id, 'SIGNER_TIMEOUT', `${this.url}${path}: call cut by its signal (${textOf(signal.reason)})`, { cause: signal.reason });
    }
    if (e instanceof SignerCallError) return e;
    if (e instanceof undiciErrors.ResponseExceededMaxSizeError) {
      return new SignerCallError(this.id, 'SIGNER_BAD_RESPONSE', `${this.url}${path}: answer exceeds the response size limit`, { cause: e });
    }
    const timeout = e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError || e instanceof undiciErrors.ConnectTimeoutError;
    return new SignerCallError(this.id, timeout ? 'SIGNER_TIMEOUT' : 'SIGNER_UNREACHABLE', `${this.url}${path}: ${textOf(e)}`, { cause: e });
  }

  /** The signer's error answer: its code when it is one of the documented set, else SIGNER_ERROR. */
  #answeredError(path: string, status: number, buf: Uint8Array): SignerCallError {
    let code: unknown;
    let message: unknown;
    try {
      ({ code, message } = (JSON.parse(Buffer.from(buf).toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error ?? {});
    } catch {
      /* not JSON: an undocumented answer */
    }
    const text = typeof message === 'string' ? signerText(message) : `status ${status}`;
    return new SignerCallError(this.id, isSignerErrorCode(code) ? code : 'SIGNER_ERROR', `${this.url}${path}: ${text}`);
  }

  round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response> {
    const max = this.#limits.commitmentBatch;
    // Unknown limit, or an ask as large as it: one RPC of its own (the signer judges its size).
    if (max === 0 || req.count >= max) return this.#round1Now(req, signal);
    let c = this.#round1.get(req.key_id);
    if (!c) {
      const keyId = req.key_id;
      c = new Coalescer<number, Round1Response>({
        send: (counts, s) => this.#sendRound1(keyId, counts, s),
        maxInFlight: () => this.#maxInFlight,
        maxItems: () => Number.MAX_SAFE_INTEGER,
        maxSize: () => this.#limits.commitmentBatch,
        sizeOf: (n) => n,
        aborted: (reason) => this.#failure(RPC_PATHS.round1, reason, AbortSignal.abort(reason)),
        timeoutMs: this.#timeout,
      });
      this.#round1.set(keyId, c);
    }
    return c.submit([req.count], signal ?? AbortSignal.timeout(this.#timeout))[0]!;
  }

  /** One round-1 RPC, carrying `calls` coalesced calls. */
  #round1Now(req: Round1Request, signal?: AbortSignal, calls = 1): Promise<Round1Response> {
    this.#onRpcSent?.('round1', calls);
    // More commitments than asked is a bad answer, refused before any entry is checked or copied
    // (the response size cap already bounds what the decoder builds).
    return this.#call(RPC_PATHS.round1, req, (v) => parseRound1Response(v, req.count), signal);
  }

  /** One round-1 RPC for the sum of `counts`, its commitments handed out in order. */
  async #sendRound1(keyId: string, counts: number[], signal: AbortSignal): Promise<Round1Response[]> {
    const total = counts.reduce((a, b) => a + b, 0);
    const r = await this.#round1Now({ key_id: keyId, count: total }, signal, counts.length);
    if (r.commitments.length !== total) throw new SignerCallError(this.id, 'SIGNER_BAD_RESPONSE', `${this.url}${RPC_PATHS.round1}: asked for ${total} commitments, got ${r.commitments.length}`);
    let at = 0;
    return counts.map((n) => ({ identifier: r.identifier, commitments: r.commitments.slice(at, (at += n)), ttl_ms: r.ttl_ms }));
  }

  round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    // A signer that takes no batches (or has not said so yet) gets every request as it comes.
    if (this.#limits.round2Batch < 2) return this.#round2Now(req, signal);
    return this.#round2.submit([req], signal ?? AbortSignal.timeout(this.#timeout))[0]!;
  }

  async round2Batch(reqs: Round2Request[], signal?: AbortSignal): Promise<(Round2Response | SignerCallError)[]> {
    const s = signal ?? AbortSignal.timeout(this.#timeout);
    const calls = this.#limits.round2Batch < 2 ? reqs.map((r) => this.#round2Now(r, s)) : this.#round2.submit(reqs, s);
    const settled = await Promise.allSettled(calls);
    return settled.map((r) => (r.status === 'fulfilled' ? r.value : r.reason instanceof SignerCallError ? r.reason : this.#failure(RPC_PATHS.round2, r.reason, s)));
  }

  /** One RPC for `reqs`: the round-2 RPC itself for one, a batch for more. */
  async #sendRound2(reqs: Round2Request[], signal: AbortSignal): Promise<(Round2Response | Error)[]> {
    if (reqs.length === 1) return [await this.#round2Now(reqs[0]!, signal)];
    this.#onRpcSent?.('round2', reqs.length);
    const r = await this.#call(RPC_PATHS.round2Batch, { requests: reqs }, (v) => parseRound2BatchResponse(v, reqs.length), signal);
    return r.results.map((o) => {
      if (!isRound2Refusal(o)) return o;
      const { code, message } = o.error;
      return new SignerCallError(this.id, isSignerErrorCode(code) ? code : 'SIGNER_ERROR', `${this.url}${RPC_PATHS.round2Batch}: ${signerText(message)}`);
    });
  }

  /** The round-2 RPC itself, for one request. */
  #round2Now(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    this.#onRpcSent?.('round2', 1);
    return this.#call(RPC_PATHS.round2, req, parseRound2Response, signal);
  }

  call(path: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.#call(path, payload, (v) => v, signal);
  }

  async info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse> {
    const r = await this.#call(RPC_PATHS.info, keyId === undefined ? {} : { key_id: keyId }, parseInfoResponse, signal);
    // What the signer takes: coalescing stays within it (and off for a signer that takes no batches).
    this.#limits.round2Batch = r.max_round2_batch ?? 0;
    this.#limits.requestBytes = r.max_request_bytes ?? 0;
    this.#limits.commitmentBatch = r.max_commitment_batch ?? 0;
    return r;
  }

  /** Closes the channel, and the pool once its requests are done; later calls resolve with the same promise. */
  close(): Promise<void> {
    this.#channel?.close();
    this.#closing ??= this.#pool.close().then(() => undefined);
    return this.#closing;
  }
}

/**
 * `work`, or a rejection as soon as `signal` aborts, whichever comes first. The abandoned `work`
 * still settles later (undici gives up once connected, or when connecting fails or times out); its
 * rejection is handled here, so it can never become an unhandled rejection.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Node's default `checkServerIdentity` accepts wildcard names and falls back to the subject CN; a
 * signer's certificate must instead carry `DNS:<id>` exactly among its subjectAltNames (ASCII case
 * insensitive, no wildcard expansion, no CN fallback; IP and other SANs play no part).
 */
export function checkSignerIdentity(id: string, cert: Pick<PeerCertificate, 'subjectaltname'>): Error | undefined {
  const want = asciiLower(id);
  if (subjectAltNames(cert.subjectaltname).some(({ type, value }) => type === 'DNS' && asciiLower(value) === want)) return undefined;
  return Object.assign(new Error(`server certificate does not name signer "${id}" as a DNS subjectAltName`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host: id });
}

/**
 * Entries of Node's `subjectaltname` string: `TYPE:value` joined by ", ", where a value holding
 * a separator, a quote or a control character is written as a JSON string literal.
 */
export function subjectAltNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  const s = text ?? '';
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon);
    let end: number;
    let value: string;
    if (s[colon + 1] === '"') {
      end = colon + 2;
      while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
      end += 1;
      try {
        value = JSON.parse(s.slice(colon + 1, end)) as string;
      } catch {
        break; // not Node's format: stop rather than guess
      }
    } else {
      end = s.indexOf(', ', colon + 1);
      if (end < 0) end = s.length;
      value = s.slice(colon + 1, end);
    }
    out.push({ type, value });
    i = end + 2;
  }
  return out;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** A signer's error text for a message: control and other non-printable characters out, at most 200 characters. */
function signerText(message: string): string {
  let t = message
    .slice(0, 4 * MAX_SIGNER_MESSAGE)
    .replace(/[\p{C}\p{Zl}\p{Zp}]+/gu, ' ')
    .trim()
    .slice(0, MAX_SIGNER_MESSAGE);
  if (/[\uD800-\uDBFF]$/.test(t)) t = t.slice(0, -1); // never end on half a surrogate pair
  return t;
}

/** An error or abort reason as text for a message (bounded). */
function textOf(e: unknown): string {
  const text = e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? String((e as Error).message) : String(e);
  return text.slice(0, MAX_SIGNER_MESSAGE);
}
