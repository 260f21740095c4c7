/**
 * The coordinator's client for one signer: a keep-alive undici Pool over mutual TLS, the signer's
 * server identity pinned exactly (its certificate must carry `DNS:<signer id>`), a fresh RPC token per
 * call and CBOR bodies. It speaks the wire protocol only; what a response means (identity, shares,
 * breaker) is the caller's business. It treats the signer as possibly hostile: answers are size
 * capped and strictly decoded, a call never outlives its signal, and nothing the signer writes
 * reaches an error message unbounded or unsanitized.
 * @module
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { PeerCertificate } from 'node:tls';
import { decodeCbor, encodeCbor, CBOR_CONTENT_TYPE } from './cbor.js';
import { InvalidArgumentError, SignerCallError } from './errors.js';
import type { RpcTokenSigner } from './tokens.js';
import {
  RPC_PATHS,
  isSignerErrorCode,
  parseInfoResponse,
  parseRound1Response,
  parseRound2Response,
  type InfoResponse,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
} from './protocol.js';

/** The three RPCs of a signer, as the coordinator uses them (the real client or a test double). */
export interface SignerRpc {
  round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response>;
  round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response>;
  info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse>;
  close(): Promise<void>;
}

/**
 * Default cap on one answer's body, error answers included. The largest answer the coordinator asks
 * for is a round-1 batch: 86 bytes of CBOR per commitment, so 86,073 bytes for 1,000 (the largest
 * batch either side accepts); an info answer takes ≈190 bytes per key. 128 KiB holds both with room
 * (an info answer listing every key fits up to ≈650 keys); a deployment with more keys on one signer
 * raises `maxResponseBytes`.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024;

/** Longest text of a signer's error message that goes into a {@link SignerCallError} message. */
const MAX_SIGNER_MESSAGE = 200;

export interface SignerClientOptions {
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
   * (TCP and TLS) and undici's wait for headers and body, whatever signal the caller passes.
   */
  timeoutMs?: number;
  connections?: number;
  /** Largest answer body accepted, error answers included (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
  maxResponseBytes?: number;
}

export class SignerClient implements SignerRpc {
  readonly id: string;
  readonly url: string;
  readonly #pool: Pool;
  readonly #tokens: RpcTokenSigner;
  readonly #timeout: number;
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
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new InvalidArgumentError(`timeoutMs must be a positive integer, got ${timeout}`);
    if (!Number.isSafeInteger(connections) || connections < 1) throw new InvalidArgumentError(`connections must be a positive integer, got ${connections}`);
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1024 || maxResponseBytes > 64 * 1024 * 1024) {
      throw new InvalidArgumentError(`maxResponseBytes must be an integer between 1024 and ${64 * 1024 * 1024}, got ${maxResponseBytes}`);
    }
    this.id = o.id;
    this.url = u.origin;
    this.#tokens = o.tokens;
    this.#timeout = timeout;
    const serverName = o.id;
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
      connect: {
        ca: o.caPem,
        cert: o.certPem,
        key: o.keyPem,
        servername: serverName,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        // Pin the identity: the certificate must name the signer, whatever address we dialled.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkSignerIdentity(serverName, cert),
      },
    });
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
      answer = await untilAborted(this.#exchange(path, body, token, signal), signal);
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

  /** A call that got no usable answer: cut by its signal, timed out in undici, too large, or unreachable. */
  #failure(path: string, e: unknown, signal: AbortSignal): SignerCallError {
    // Whoever noticed first (the race or undici), a call whose signal fired was cut by it; the reason
    // travels as the cause, so the caller can tell its deadline from its per-call timeout.
    if (signal.aborted) {
      return new SignerCallError(this.id, 'SIGNER_TIMEOUT', `${this.url}${path}: call cut by its signal (${textOf(signal.reason)})`, { cause: signal.reason });
    }
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
    // More commitments than asked is a bad answer, refused before any entry is checked or copied
    // (the response size cap already bounds what the decoder builds).
    return this.#call(RPC_PATHS.round1, req, (v) => parseRound1Response(v, req.count), signal);
  }

  round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    return this.#call(RPC_PATHS.round2, req, parseRound2Response, signal);
  }

  info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse> {
    return this.#call(RPC_PATHS.info, keyId === undefined ? {} : { key_id: keyId }, parseInfoResponse, signal);
  }

  /** Closes the pool once its requests are done; later calls resolve with the same promise. */
  close(): Promise<void> {
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
