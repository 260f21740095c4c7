/**
 * The coordinator's client for one signer: a keep-alive undici Pool over mutual TLS, the signer's
 * server identity pinned through `servername`, a fresh RPC JWT per call and CBOR bodies.
 * @module
 */
import { Pool } from 'undici';
import { checkServerIdentity as defaultCheck, type PeerCertificate } from 'node:tls';
import { decodeCbor, encodeCbor, CBOR_CONTENT_TYPE } from './cbor.js';
import { SignerRpcError } from './errors.js';
import type { RpcTokenSigner } from './jwt.js';
import {
  RPC_PATHS,
  parseInfoResponse,
  parseRound1Response,
  parseRound2Response,
  type InfoResponse,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
} from './rpc-protocol.js';

export interface SignerClientOptions {
  /** Base URL, e.g. https://signer-1.frost-signers:7443 */
  url: string;
  /** Expected DNS SAN of the signer's server certificate (pinned). */
  serverName: string;
  /** `aud` of the tokens sent to this signer. */
  audience: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  tokens: RpcTokenSigner;
  /** Per-request timeout. */
  timeoutMs?: number;
  connections?: number;
}

export class SignerClient {
  readonly url: string;
  readonly audience: string;
  readonly #pool: Pool;
  readonly #tokens: RpcTokenSigner;
  readonly #timeout: number;

  constructor(o: SignerClientOptions) {
    const u = new URL(o.url);
    if (u.protocol !== 'https:') throw new Error(`signer URL must be https: ${o.url}`);
    this.url = u.origin;
    this.audience = o.audience;
    this.#tokens = o.tokens;
    this.#timeout = o.timeoutMs ?? 5000;
    const serverName = o.serverName;
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
        // Pin the identity: the certificate must name `serverName`, whatever address we dialled.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => defaultCheck(serverName, cert),
      },
    });
  }

  async #call(path: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    const body = encodeCbor(payload);
    const token = await this.#tokens.sign({ audience: this.audience, path, body });
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
      const timeout = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      throw new SignerRpcError(this.url, timeout ? 'SIGNER_TIMEOUT' : 'SIGNER_UNREACHABLE', 503, `${this.url}${path}: ${(e as Error).message}`, { cause: e });
    }
    const buf = new Uint8Array(await res.body.arrayBuffer());
    if (res.statusCode !== 200) {
      let code = 'SIGNER_ERROR';
      let message = `status ${res.statusCode}`;
      try {
        const j = JSON.parse(Buffer.from(buf).toString('utf8')) as { error?: { code?: string; message?: string } };
        if (typeof j.error?.code === 'string') code = j.error.code;
        if (typeof j.error?.message === 'string') message = j.error.message;
      } catch {
        /* not JSON: keep the generic code */
      }
      throw new SignerRpcError(this.url, code, res.statusCode, `${this.url}${path}: ${message}`);
    }
    try {
      return decodeCbor(buf);
    } catch {
      throw new SignerRpcError(this.url, 'SIGNER_BAD_RESPONSE', 502, `${this.url}${path}: response is not CBOR`);
    }
  }

  #shape<T>(f: () => T, path: string): T {
    try {
      return f();
    } catch (e) {
      throw new SignerRpcError(this.url, 'SIGNER_BAD_RESPONSE', 502, `${this.url}${path}: ${(e as Error).message}`);
    }
  }

  async round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response> {
    const r = await this.#call(RPC_PATHS.round1, req, signal);
    return this.#shape(() => parseRound1Response(r), RPC_PATHS.round1);
  }

  async round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    const r = await this.#call(RPC_PATHS.round2, req, signal);
    return this.#shape(() => parseRound2Response(r), RPC_PATHS.round2);
  }

  async info(keyId?: string, signal?: AbortSignal): Promise<InfoResponse> {
    const r = await this.#call(RPC_PATHS.info, keyId === undefined ? {} : { key_id: keyId }, signal);
    return this.#shape(() => parseInfoResponse(r), RPC_PATHS.info);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
