/**
 * The coordinator's client for one signer: a keep-alive undici Pool over mutual TLS, the signer's
 * server identity pinned through `servername`, a fresh RPC token per call and CBOR bodies. It speaks
 * the wire protocol only; what a response means (identity, shares, breaker) is the caller's business.
 * @module
 */
import { Pool, errors as undiciErrors } from 'undici';
import { checkServerIdentity as defaultCheck, type PeerCertificate } from 'node:tls';
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

export interface SignerClientOptions {
  /** The signer's name: the expected DNS SAN of its server certificate (pinned) and the `aud` of its tokens. */
  id: string;
  /** Base URL, e.g. https://signer-1.frost-signers:7443 */
  url: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  tokens: RpcTokenSigner;
  /** Per-request timeout when the caller passes no signal. */
  timeoutMs?: number;
  connections?: number;
}

export class SignerClient implements SignerRpc {
  readonly id: string;
  readonly url: string;
  readonly #pool: Pool;
  readonly #tokens: RpcTokenSigner;
  readonly #timeout: number;

  constructor(o: SignerClientOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new InvalidArgumentError(`signer URL is not a URL: ${o.url}`);
    }
    if (u.protocol !== 'https:') throw new InvalidArgumentError(`signer URL must be https: ${o.url}`);
    if (!o.id) throw new InvalidArgumentError('signer id must not be empty');
    this.id = o.id;
    this.url = u.origin;
    this.#tokens = o.tokens;
    this.#timeout = o.timeoutMs ?? 5000;
    const serverName = o.id;
    this.#pool = new Pool(u.origin, {
      connections: o.connections ?? 16,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 300_000,
      headersTimeout: this.#timeout,
      bodyTimeout: this.#timeout,
      connect: {
        ca: o.caPem,
        cert: o.certPem,
        key: o.keyPem,
        servername: serverName,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        // Pin the identity: the certificate must name the signer, whatever address we dialled.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => defaultCheck(serverName, cert),
      },
    });
  }

  async #call<T>(path: string, payload: unknown, parse: (v: unknown) => T, signal?: AbortSignal): Promise<T> {
    const body = encodeCbor(payload);
    const token = this.#tokens.sign({ audience: this.id, path, body });
    let res;
    try {
      res = await this.#pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': CBOR_CONTENT_TYPE, accept: CBOR_CONTENT_TYPE, authorization: `Bearer ${token}` },
        body,
        signal: signal ?? AbortSignal.timeout(this.#timeout),
      });
    } catch (e) {
      throw this.#failure(path, e);
    }
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(await res.body.arrayBuffer());
    } catch (e) {
      throw this.#failure(path, e);
    }
    if (res.statusCode !== 200) throw this.#answeredError(path, res.statusCode, buf);
    try {
      return parse(decodeCbor(buf));
    } catch (e) {
      throw new SignerCallError(this.id, 'SIGNER_BAD_RESPONSE', `${this.url}${path}: ${(e as Error).message}`);
    }
  }

  /** A call that got no answer: timed out (the caller's signal or undici's own timeouts) or unreachable. */
  #failure(path: string, e: unknown): SignerCallError {
    // An aborted signal rejects with its reason, a DOMException (TimeoutError or AbortError) that may
    // come from another realm, so it is recognised by name; undici's own timeouts by class.
    const err = e as Error;
    const timeout =
      err?.name === 'TimeoutError' || err?.name === 'AbortError' || e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError;
    return new SignerCallError(this.id, timeout ? 'SIGNER_TIMEOUT' : 'SIGNER_UNREACHABLE', `${this.url}${path}: ${String(err?.message ?? e)}`, { cause: e });
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
    const text = typeof message === 'string' ? message.slice(0, 200) : `status ${status}`;
    return new SignerCallError(this.id, isSignerErrorCode(code) ? code : 'SIGNER_ERROR', `${this.url}${path}: ${text}`);
  }

  round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response> {
    return this.#call(RPC_PATHS.round1, req, parseRound1Response, signal);
  }

  round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    return this.#call(RPC_PATHS.round2, req, parseRound2Response, signal);
  }

  info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse> {
    return this.#call(RPC_PATHS.info, keyId === undefined ? {} : { key_id: keyId }, parseInfoResponse, signal);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
