/**
 * Test support shared by every test suite (`@hoarfrost/testkit/support`): an Ed25519 check that is
 * independent of the code under test, a mint-API client for the coordinator over mutual TLS, and a
 * Prometheus sample reader. Only Node built-ins are imported here, so unit tests can use it without
 * loading the dev PKI, the services or an HTTP library.
 * @module
 */
import { createPublicKey, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import type { DevEnvironment } from './environment.js';

/** Bytes, or their base64 / base64url text (as the coordinator's JSON carries them). */
export type BytesOrBase64 = Uint8Array | string;

const bytes = (v: BytesOrBase64): Buffer => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v));

/**
 * Whether `signature` is a valid Ed25519 signature of `message` under the 32-byte `publicKey`, checked
 * by node:crypto (OpenSSL) rather than by @hoarfrost/frost, so a bug there cannot hide itself.
 */
export function ed25519Verifies(publicKey: BytesOrBase64, message: Uint8Array, signature: BytesOrBase64): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes(publicKey).toString('base64url') }, format: 'jwk' });
  return verify(null, message, key, bytes(signature));
}

/**
 * Whether OpenSSL's command-line verifier (another process, another implementation) accepts
 * `signature` of `message` under the 32-byte Ed25519 `publicKey`.
 */
export function opensslVerifies(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'frost-openssl-'));
  const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  writeFileSync(join(dir, 'pub.pem'), spki);
  writeFileSync(join(dir, 'msg'), message);
  writeFileSync(join(dir, 'sig'), signature);
  try {
    execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A text file (PEM certificates and keys, JSON). */
export function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}

/** An answer of the coordinator's public API. */
export interface ApiResponse {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string; culprits?: number[] } };
}

/**
 * The mint API's view of the coordinator: POST over mutual TLS with the dev environment's client
 * certificate (or without one, to test refusals). Keep-alive, like a real caller.
 */
export class MintClient {
  readonly #agent: Agent;
  readonly #url: string;

  /** `as`: present the operator's certificate instead of the mint API's (the admin API). */
  constructor(env: Pick<DevEnvironment, 'caFile' | 'clientCertFile' | 'clientKeyFile'> & Partial<Pick<DevEnvironment, 'operatorCertFile' | 'operatorKeyFile'>>, url: string, options: { withCert?: boolean; as?: 'caller' | 'operator' } = {}) {
    this.#url = url;
    const [cert, key] = options.as === 'operator' ? [env.operatorCertFile!, env.operatorKeyFile!] : [env.clientCertFile, env.clientKeyFile];
    this.#agent = new Agent({
      keepAlive: true,
      ca: readPem(env.caFile),
      ...(options.withCert === false ? {} : { cert: readPem(cert), key: readPem(key) }),
    });
  }

  post(path: string, body: string | object, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return this.#send('POST', path, payload, { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers });
  }

  get(path: string, headers: Record<string, string> = {}): Promise<ApiResponse & { headers: Record<string, string | string[] | undefined> }> {
    return this.#send('GET', path, undefined, headers);
  }

  #send(method: 'GET' | 'POST', path: string, payload: Buffer | undefined, headers: Record<string, string>): Promise<ApiResponse & { headers: Record<string, string | string[] | undefined> }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = request(new URL(path, this.#url), { method, agent: this.#agent, headers }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: ApiResponse['json'];
          try {
            json = JSON.parse(text) as ApiResponse['json'];
          } catch {
            json = { raw: text };
          }
          resolve({ status: res.statusCode!, json, headers: res.headers });
        });
      });
      // A server may answer (413) before reading the whole body and then reset the connection: the
      // answer is what the test wants, the write error after it is not.
      req.on('error', (e) => {
        if (!answered) reject(e);
      });
      req.end(payload);
    });
  }

  sign(message: Uint8Array, extra: object = {}): Promise<ApiResponse> {
    return this.post('/sign', { msg_b64: Buffer.from(message).toString('base64'), ...extra });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}

/** Value of a Prometheus sample line `name{labels} value` whose labels include `labels`, or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}
