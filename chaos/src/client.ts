/**
 * The suite's HTTP clients: callers of the coordinator (undici, keep-alive, mutual TLS with a caller
 * certificate from the dev environment) and the classification of what came back — an answer with a
 * status and an error code, or a transport failure (reset, refused, timeout, TLS).
 * @module
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { DevEnvironment } from '@hoarfrost/testkit';
import { ed25519Verifies } from '@hoarfrost/testkit/support';

/** A client certificate and key (files). */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A keep-alive agent for the coordinator's API: the server is checked against the dev CA, and the
 * caller presents `cert` (default: the environment's caller certificate; `false`: none).
 */
export function callerAgent(env: DevEnvironment, options: { cert?: ClientCertificate | false; connections?: number } = {}): Agent {
  return new Agent({ connections: options.connections ?? null, keepAliveTimeout: 30_000, connect: callerTls(env, options.cert) });
}

/** TLS options of a caller: the dev CA for the server, `cert` (default: the environment's caller certificate; `false`: none). */
export function callerTls(env: DevEnvironment, cert?: ClientCertificate | false): { ca: Buffer; cert?: Buffer; key?: Buffer } {
  const c = cert === undefined ? { certFile: env.clientCertFile, keyFile: env.clientKeyFile } : cert;
  return { ca: readFileSync(env.caFile), ...(c ? { cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) } : {}) };
}

/** How a request that got no answer ended. */
export type TransportFailure = 'reset' | 'refused' | 'timeout' | 'tls' | 'other';

export interface Outcome {
  /** performance.now() when the request was sent. */
  startedAt: number;
  latencyMs: number;
  status?: number;
  /** `error.code` of a JSON error body. */
  code?: string;
  /** The answer said `Connection: close`: the server ends this connection after it. */
  connectionClose?: boolean;
  json?: Record<string, unknown>;
  failure?: TransportFailure;
  /** The transport error's code or message. */
  failureDetail?: string;
}

/** Where a transport error came from, by its code (undici wraps some in `cause`). */
export function classifyFailure(e: unknown): { failure: TransportFailure; detail: string } {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code ?? err?.name ?? 'unknown';
  const detail = `${code}: ${err?.message ?? err?.cause?.message ?? String(e)}`.slice(0, 200);
  if (['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)) return { failure: 'reset', detail };
  if (code === 'ECONNREFUSED') return { failure: 'refused', detail };
  if (['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'TimeoutError', 'AbortError', 'UND_ERR_ABORTED'].includes(code)) return { failure: 'timeout', detail };
  if (/^(ERR_SSL|ERR_TLS|EPROTO)/.test(code)) return { failure: 'tls', detail };
  return { failure: 'other', detail };
}

export interface CallInit {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** A stream goes out chunked (no content-length). */
  body?: string | Uint8Array | Readable;
  timeoutMs?: number;
}

/** One request; never throws: transport failures are part of the outcome. */
export async function call(agent: Dispatcher, origin: string, init: CallInit): Promise<Outcome> {
  const startedAt = performance.now();
  try {
    const res = await request(origin + init.path, {
      method: (init.method ?? 'POST') as Dispatcher.HttpMethod,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      dispatcher: agent,
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await res.body.text();
    const out: Outcome = { startedAt, latencyMs: performance.now() - startedAt, status: res.statusCode };
    if (String(res.headers.connection ?? '').toLowerCase() === 'close') out.connectionClose = true;
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      if (json && typeof json === 'object') {
        out.json = json;
        const code = (json.error as { code?: unknown } | undefined)?.code;
        if (typeof code === 'string') out.code = code;
      }
    } catch {
      /* not JSON (HEAD, or a body the test does not read) */
    }
    return out;
  } catch (e) {
    const { failure, detail } = classifyFailure(e);
    return { startedAt, latencyMs: performance.now() - startedAt, failure, failureDetail: detail };
  }
}

/** A participant as the public API names it (number, or 64 hex characters). */
export type ParticipantId = number | string;

export interface SignOutcome extends Outcome {
  participants?: ParticipantId[];
  /** For a 200: whether the signature verifies under the group key (node:crypto). */
  valid?: boolean;
}

/** Where and as whom to sign, and the group key every signature must verify under. */
export interface SignTarget {
  agent: Dispatcher;
  url: string;
  groupKey: Uint8Array;
}

/** POST /sign of `message`; a 200's signature is verified independently of the service. */
export async function sign(target: SignTarget, message: Uint8Array, extra: object = {}, timeoutMs = 30_000): Promise<SignOutcome> {
  const body = JSON.stringify({ msg_b64: Buffer.from(message).toString('base64'), ...extra });
  const out: SignOutcome = await call(target.agent, target.url, { path: '/sign', headers: { 'content-type': 'application/json' }, body, timeoutMs });
  if (out.status === 200 && out.json) {
    const sig = out.json.signature_b64;
    out.valid = typeof sig === 'string' && ed25519Verifies(target.groupKey, message, sig);
    if (Array.isArray(out.json.participants)) out.participants = out.json.participants as ParticipantId[];
    delete out.json; // the records of a long run keep only what the figures need
  }
  return out;
}
