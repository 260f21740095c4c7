// Shared helpers for cross-process tests: a mint-API client for the coordinator over real mTLS.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { DevEnvironment } from '@frostd/cli';

export interface ApiResponse {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string; culprits?: number[] } };
}

export class MintClient {
  readonly #agent: Agent;
  readonly #url: string;
  constructor(env: DevEnvironment, url: string, options: { withCert?: boolean } = {}) {
    this.#url = url;
    this.#agent = new Agent({
      connect: {
        ca: readFileSync(env.caFile, 'utf8'),
        ...(options.withCert === false ? {} : { cert: readFileSync(env.clientCertFile, 'utf8'), key: readFileSync(env.clientKeyFile, 'utf8') }),
      },
    });
  }

  async post(path: string, body: string | object, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const res = await request(new URL(path, this.#url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      dispatcher: this.#agent,
    });
    const text = await res.body.text();
    let json: ApiResponse['json'];
    try {
      json = JSON.parse(text) as ApiResponse['json'];
    } catch {
      json = { raw: text };
    }
    return { status: res.statusCode, json };
  }

  sign(message: Uint8Array, extra: object = {}): Promise<ApiResponse> {
    return this.post('/sign', { msg_b64: Buffer.from(message).toString('base64'), ...extra });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** Value of a Prometheus sample line `name{labels} value`, or 0 when absent. */
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

export function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}
