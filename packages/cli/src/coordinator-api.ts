/**
 * frostctl's connection to a coordinator's API over mutual TLS: the credentials (given, or found in
 * the local cluster's dev folder: the mint-API caller's for signing, the operator's for the admin
 * API), JSON requests, and the line-by-line progress stream of key generation.
 * @module
 */
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { CliError, readTextFile } from './cli-error.js';

export interface CoordinatorApiOptions {
  url: string;
  /** The local cluster's folder, where credentials are looked up unless given. */
  devDir: string;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /**
   * The name the coordinator's certificate must carry when it differs from the URL's host (e.g.
   * through `kubectl port-forward`: --url https://127.0.0.1:8443 --servername frost-coordinator).
   */
  servername?: string | undefined;
  /** Whose certificate to present by default: the caller of /sign, or the operator of /admin. */
  role: 'caller' | 'operator';
}

export interface CoordinatorApi {
  /** A JSON request; a non-2xx answer throws CliError with the coordinator's error code. */
  json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
  /**
   * A POST answered with newline-delimited JSON: each object goes to `onEvent` as it arrives. A
   * non-2xx answer throws like {@link CoordinatorApi.json}.
   */
  stream(path: string, body: unknown, onEvent: (event: Record<string, unknown>) => void): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_CREDENTIALS = { caller: ['client.pem', 'client-key.pem'], operator: ['operator.pem', 'operator-key.pem'] } as const;

export function openCoordinatorApi(o: CoordinatorApiOptions): CoordinatorApi {
  const [certFile, keyFile] = DEFAULT_CREDENTIALS[o.role];
  const dispatcher = new Agent({
    connect: {
      ca: readTextFile(o.ca ?? join(o.devDir, 'ca.pem')),
      cert: readTextFile(o.cert ?? join(o.devDir, certFile)),
      key: readTextFile(o.key ?? join(o.devDir, keyFile)),
      ...(o.servername ? { servername: o.servername } : {}),
    },
    // Key generation answers step by step; a slow step must not end the response.
    bodyTimeout: 0,
  });
  const send = async (method: 'GET' | 'POST', path: string, body: unknown) => {
    try {
      return await request(new URL(path, o.url), {
        method,
        dispatcher,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new CliError('UNREACHABLE', `cannot reach ${o.url}: ${(e as Error).message}`, 1);
    }
  };
  const refuse = async (res: Awaited<ReturnType<typeof send>>): Promise<never> => {
    const text = await res.body.text();
    let code = 'HTTP_' + res.statusCode;
    let message = text.slice(0, 500);
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e?.code) code = e.code;
      if (e?.message) message = e.message;
    } catch {
      /* not JSON: the raw text */
    }
    throw new CliError(code, `the coordinator answered ${res.statusCode}: ${message}`, 1);
  };
  return {
    async json(method, path, body) {
      const res = await send(method, path, body);
      if (res.statusCode < 200 || res.statusCode > 299) return refuse(res);
      return JSON.parse(await res.body.text()) as unknown;
    },
    async stream(path, body, onEvent) {
      const res = await send('POST', path, body);
      if (res.statusCode < 200 || res.statusCode > 299) return refuse(res);
      let buffered = '';
      const emit = (line: string) => {
        if (line.trim() === '') return;
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch {
          throw new CliError('BAD_ANSWER', `the coordinator sent a line that is not JSON: ${line.slice(0, 200)}`, 1);
        }
        if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new CliError('BAD_ANSWER', 'the coordinator sent a progress line that is not an object', 1);
        onEvent(event as Record<string, unknown>);
      };
      for await (const chunk of res.body) {
        buffered += (chunk as Buffer).toString('utf8');
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          emit(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      }
      emit(buffered);
    },
    close: () => dispatcher.close(),
  };
}
