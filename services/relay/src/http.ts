/**
 * The relay's HTTPS API: frostd's wire behaviour, checked in this order on every request:
 * path (404) → method (405, POST only) → shutting down (503) → rate limit and requests in progress per
 * address (429) → bearer token where the endpoint needs one (500 Unauthorized, before any body is read)
 * → JSON content type where the endpoint takes arguments (415) → body within its size and time limits
 * (413, 408) → JSON syntax (400) → argument shapes (422) → the endpoint (api.ts).
 *
 * Written on node:http rather than a framework because the contract is byte-exact where frameworks have
 * opinions: argument-less calls send the body `null` (a strict JSON body parser rejects it; frostd
 * ignores their bodies), `/send` answers 200 with an empty body (frost-client reads an empty body as
 * `null` and breaks on `{}`), `/logout` and `/close_session` answer `null`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, type Logger } from '@hoarfrost/runtime';
import type { RelayApi, User } from './api.js';
import type { RelayConfig } from './config.js';
import { RelayError, errorBody, toRelayError } from './errors.js';
import type { RelayMetrics } from './metrics.js';
import type { ConcurrencyLimiter, RateClassName, RateLimiter } from './rate-limit.js';
import { ENDPOINTS, PUSH_PATH, argsObject, isEndpoint, parseCreateSession, parseLogin, parseReceive, parseSend, parseSession, type Endpoint } from './wire.js';

export interface RelayHttpDeps {
  config: Readonly<RelayConfig>;
  api: RelayApi;
  metrics: RelayMetrics;
  logger: Logger;
  rate: RateLimiter;
  concurrency: ConcurrencyLimiter;
  isDraining: () => boolean;
}

/** The client's address: the TCP peer, or the last X-Forwarded-For entry when the peer is a trusted proxy. */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxies.length === 0 || !trustedProxies.includes(peer.replace(/^::ffff:/i, ''))) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((s) => s.trim()).filter(Boolean).pop();
  return last ?? peer;
}

export const rateClassOf = (path: Endpoint | typeof PUSH_PATH): RateClassName => (path === '/challenge' ? 'challenge' : path === '/create_new_session' ? 'createSession' : 'other');

/** `application/json` or `application/<x>+json`, with or without parameters (as frostd's extractor accepts). */
export function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

const hasBody = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/** Writes a refusal (JSON body, stable `reason`) and counts it. */
export function sendError(res: ServerResponse, e: RelayError, metrics: RelayMetrics): void {
  metrics.refusals.inc({ code: e.code });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(e));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (e.code === 'METHOD_NOT_ALLOWED') headers.allow = 'POST';
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = e.retryAfterSeconds;
  res.writeHead(e.status, headers).end(body);
}

export function createRelayHandler(deps: RelayHttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, api, metrics, logger } = deps;
  const maxMembers = config.limits.maxSessionMembers;

  async function dispatch(path: Endpoint, user: User | undefined, args: Record<string, unknown>, aborted: AbortSignal): Promise<unknown> {
    switch (path) {
      case '/challenge':
        return api.challenge();
      case '/login':
        return api.login(parseLogin(args));
      case '/logout':
        return api.logout(user!);
      case '/create_new_session':
        return api.createNewSession(user!, parseCreateSession(args, maxMembers));
      case '/list_sessions':
        return api.listSessions(user!);
      case '/get_session_info':
        return api.getSessionInfo(user!, parseSession(args));
      case '/send':
        return api.send(user!, parseSend(args, maxMembers));
      case '/receive':
        return api.receive(user!, parseReceive(args), aborted);
      case '/close_session':
        return api.closeSession(user!, parseSession(args));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: Endpoint): Promise<void> {
    const endpoint = ENDPOINTS[path];
    const user = endpoint.auth ? await api.authenticate(req.headers.authorization) : undefined;
    if (endpoint.args && !isJsonContentType(req.headers['content-type'])) {
      throw new RelayError('UNSUPPORTED_MEDIA_TYPE', 'Expected request with `Content-Type: application/json`');
    }
    const raw = await readBody(req, res, config.limits.maxBodyBytes, { timeoutMs: config.bodyTimeoutMs });
    let args: Record<string, unknown> = {};
    if (endpoint.args) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new RelayError('INVALID_JSON', 'Failed to parse the request body as JSON');
      }
      args = argsObject(parsed);
    }
    // A long poll ends early when its caller goes away.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const result = await dispatch(path, user, args, gone.signal);
    if (res.destroyed) return;
    if (path === '/send') {
      res.writeHead(200, { 'content-length': 0 }).end();
      return;
    }
    const body = JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const endpoint = isEndpoint(path) ? path : undefined;
    let release: (() => void) | undefined;
    res.once('close', () => {
      release?.();
      metrics.requestDuration.observe({ endpoint: endpoint ?? 'unknown', status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    const refuse = (e: RelayError) => {
      // The body of a refused request is not worth reading: end the connection after the answer.
      if (hasBody(req) && !req.readableEnded) res.setHeader('connection', 'close');
      sendError(res, e, metrics);
    };
    if (path === PUSH_PATH) return refuse(new RelayError('UPGRADE_REQUIRED', `${PUSH_PATH} takes WebSocket upgrades only`));
    if (!endpoint) return refuse(new RelayError('NOT_FOUND', 'no such endpoint'));
    if (req.method !== 'POST') return refuse(new RelayError('METHOD_NOT_ALLOWED', 'use POST'));
    if (deps.isDraining()) return refuse(new RelayError('SHUTTING_DOWN', 'the relay is shutting down; retry'));
    const address = clientAddress(req, config.trustedProxies);
    const wait = deps.rate.take(rateClassOf(endpoint), address);
    if (wait !== undefined) return refuse(new RelayError('THROTTLED', 'too many requests from this address', { retryAfterSeconds: wait }));
    release = deps.concurrency.acquire(address);
    if (!release) return refuse(new RelayError('THROTTLED', 'too many requests in progress from this address', { retryAfterSeconds: 1 }));
    handle(req, res, endpoint).catch((err: unknown) => {
      const e = toRelayError(err);
      if (e.code === 'INTERNAL') logger.error({ endpoint, err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unexpected error');
      else if (e.code === 'STORE_UNAVAILABLE') logger.warn({ endpoint, err: e.detail }, 'store unavailable');
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (hasBody(req) && !req.readableEnded) res.setHeader('connection', 'close');
      sendError(res, e, metrics);
    });
  };
}
