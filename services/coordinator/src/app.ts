/**
 * The public HTTPS API: POST /sign (alias /v1/sign) and a liveness /healthz. Readiness and the OpenAPI
 * document are served on the ops port, not here: an unauthenticated caller learns nothing about the
 * signers. Every error is `{"error":{"code","message","culprits"?}}` with a status from the STATUS
 * table; never a stack trace.
 *
 * A request is authenticated before anything else (its headers only), then holds one of
 * `maxInFlight` slots — at most `maxInFlightPerPrincipal` of them per caller — while its body is read
 * (bounded in size and time) and it is signed (bounded by its deadline, counted from its arrival).
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { PublicKeyPackage } from '@hoarfrost/frost';
import { ReplayCache, type JwkSet } from '@hoarfrost/rpc';
import { assertClientIdentity, readBody, type AuditTrail, type Logger } from '@hoarfrost/runtime';
import type { CoordinatorConfig } from './config.js';
import { ApiError, toApiError, type ParticipantId } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Orchestrator } from './orchestrator.js';
import type { SignerRegistry } from './registry.js';
import { parseSignRequest } from './request.js';

export interface CoordinatorAppDeps {
  config: Readonly<CoordinatorConfig>;
  pkp: PublicKeyPackage;
  registry: Pick<SignerRegistry, 'byUrl' | 'maxMessageBytes'>;
  orchestrator: Pick<Orchestrator, 'sign'>;
  metrics: CoordinatorMetrics;
  logger: Logger;
  inboundJwks?: JwkSet;
  /** Where each /sign leaves its hash-chained record (none: the log level hides info records). */
  audit?: AuditTrail;
  /** True once the listener has closed for shutdown (requests still arriving are refused). */
  isDraining: () => boolean;
}

/** A /sign answer may come this much after its deadline (the last step's own work); never later. */
export const DEADLINE_MARGIN_MS = 50;

function sendError(res: Response, e: ApiError): void {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.culprits.length > 0) error.culprits = e.culprits;
  if (e.status === 429 || e.status === 503) res.setHeader('retry-after', '1');
  res.status(e.status).json({ error });
}

/** Counts requests in flight, in total and per principal. */
class Slots {
  #total = 0;
  readonly #byPrincipal = new Map<string, number>();
  constructor(
    readonly max: number,
    readonly maxPerPrincipal: number,
  ) {}

  /** Takes a slot for `principal`, or throws THROTTLED; the returned function gives it back (once). */
  take(principal: string): () => void {
    const mine = this.#byPrincipal.get(principal) ?? 0;
    if (this.#total >= this.max) throw new ApiError('THROTTLED', 'too many requests in flight; retry shortly');
    if (mine >= this.maxPerPrincipal) throw new ApiError('THROTTLED', 'too many requests in flight for this caller; retry shortly');
    this.#total++;
    this.#byPrincipal.set(principal, mine + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#total--;
      const left = (this.#byPrincipal.get(principal) ?? 1) - 1;
      if (left === 0) this.#byPrincipal.delete(principal);
      else this.#byPrincipal.set(principal, left);
    };
  }
}

export function createCoordinatorApp(deps: CoordinatorAppDeps): express.Express {
  const { config, metrics, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(helmet());
  const jwks = deps.inboundJwks ? createLocalJWKSet(deps.inboundJwks) : undefined;
  const replay = new ReplayCache({ maxEntries: config.auth.jwtReplayCacheMax });
  const slots = new Slots(config.maxInFlight, config.maxInFlightPerPrincipal);

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));

  /** Authenticates the caller per AUTH_MODE; returns a principal string for the audit log and the slots. */
  async function authenticate(req: Request): Promise<string> {
    const mode = config.auth.mode;
    const bearer = req.headers.authorization;
    const viaMtls = (): string => {
      const sans = assertClientIdentity(req.socket as TLSSocket, config.auth.allowedClientSans);
      return `mtls:${sans[0] ?? (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? 'unknown'}`;
    };
    const viaJwt = async (): Promise<string> => {
      if (!bearer) throw new ApiError('UNAUTHENTICATED', 'Authorization: Bearer token required');
      const m = /^Bearer (\S+)$/.exec(bearer);
      if (!m || !jwks) throw new ApiError('TOKEN_INVALID', 'malformed bearer token');
      let payload;
      try {
        ({ payload } = await jwtVerify(m[1]!, jwks, {
          algorithms: ['EdDSA'],
          audience: config.auth.jwtAudience,
          issuer: config.auth.jwtIssuer!,
          requiredClaims: ['iss', 'iat', 'exp', 'jti'],
          clockTolerance: 5,
        }));
      } catch {
        throw new ApiError('TOKEN_INVALID', 'bearer token is invalid, expired or not for this service');
      }
      const { iat, exp, jti } = payload as { iat: number; exp: number; jti: unknown };
      if (exp - iat > config.auth.jwtMaxAgeSeconds) throw new ApiError('TOKEN_INVALID', `bearer token lifetime (exp - iat) exceeds ${config.auth.jwtMaxAgeSeconds} s`);
      if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) throw new ApiError('TOKEN_INVALID', 'bearer token jti must be a string of 16..128 characters');
      const claim = replay.claim(jti, exp + 5);
      if (claim === 'replayed') throw new ApiError('TOKEN_REPLAYED', 'bearer token was already used');
      if (claim === 'full') throw new ApiError('THROTTLED', 'too many caller tokens are live; retry shortly');
      return `jwt:${String(payload.sub ?? payload.iss)}`;
    };
    if (mode === 'mtls') return viaMtls();
    if (mode === 'jwt') return viaJwt();
    if (mode === 'mtls-and-jwt') return `${viaMtls()}+${await viaJwt()}`;
    return bearer ? viaJwt() : viaMtls();
  }

  const sign = async (req: Request, res: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    const deadline = Date.now() + config.signDeadlineMs;
    const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,128}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    res.setHeader('x-request-id', requestId);
    const log = logger.child({ requestId });
    let principal = 'anonymous';
    let messageSha256: string | undefined;
    let messageBytes: number | undefined;
    let participants: ParticipantId[] = [];
    let culprits: readonly ParticipantId[] = [];
    let outcome = 'ok';
    let release: (() => void) | undefined;
    let recorded = false;
    const record = () => {
      recorded = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const event = { event: 'sign', requestId, principal, keyId: config.keyId, messageSha256, messageBytes, participants, outcome, culprits: [...culprits], durationMs: Math.round(seconds * 1e4) / 10 };
      return deps.audit ? deps.audit.append(event) : Promise.resolve();
    };
    try {
      if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN', 'coordinator is shutting down');
      principal = await authenticate(req);
      release = slots.take(principal);
      metrics.inFlight.inc();
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
      const body = await readJson(req, res, config.maxBodyBytes, Math.min(config.bodyTimeoutMs, deadline - Date.now()));
      const parsed = parseSignRequest(body, deps.pkp, deps.registry);
      messageSha256 = createHash('sha256').update(parsed.message).digest('hex');
      messageBytes = parsed.message.length;
      const limit = deps.registry.maxMessageBytes(config.maxMessageBytes);
      if (parsed.message.length > limit) throw new ApiError('MESSAGE_TOO_LARGE', `message is ${parsed.message.length} bytes; the signers accept at most ${limit}`);
      const result = await withinDeadline(deps.orchestrator.sign({ ...parsed, deadline, log }), deadline + DEADLINE_MARGIN_MS);
      participants = result.participants;
      culprits = result.culprits;
      if (config.audit.failClosed) {
        // Fail closed: a signature whose record is not written is not handed out.
        await record().catch((e: Error) => {
          log.error({ err: { name: e.name, message: e.message } }, 'audit record not written: signature withheld');
          throw new ApiError('AUDIT_UNAVAILABLE', 'the audit record could not be written; nothing was returned');
        });
      }
      res.status(200).json({
        signature_b64: Buffer.from(result.signature).toString('base64'),
        group_public_b64: Buffer.from(deps.pkp.verifyingKeyBytes).toString('base64'),
        participants: result.participants,
      });
      if (config.auditLogMessage) log.info({ messageB64: Buffer.from(parsed.message).toString('base64') }, 'signed message');
    } catch (err) {
      const e = logged(toApiError(err), err, log);
      outcome = e.code;
      culprits = e.culprits;
      metrics.failures.inc({ reason: e.code });
      sendError(res, e);
    } finally {
      if (release) {
        release();
        metrics.inFlight.dec();
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.signs.inc({ outcome });
      metrics.signDuration.observe({ outcome: outcome === 'ok' ? 'ok' : 'error' }, seconds);
      if (!recorded) record().catch((e: Error) => log.error({ err: { name: e.name, message: e.message } }, 'audit record not written'));
    }
  };
  app.post('/sign', sign);
  app.post('/v1/sign', sign);

  app.use((req: Request, res: Response) => {
    const known = ['/sign', '/v1/sign', '/healthz'].includes(req.path);
    sendError(res, known ? new ApiError('METHOD_NOT_ALLOWED', `${req.method} not allowed here`) : new ApiError('NOT_FOUND', 'not found'));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, logged(toApiError(err), err, logger));
  });
  return app;
}

/**
 * The signing's result, or DEADLINE_EXCEEDED at `until` whatever the signing is still waiting for.
 * Every signer call is bounded by the deadline already; this makes the bound hold for the request
 * as a whole, whatever a signer (or a bug) does.
 */
function withinDeadline<T>(work: Promise<T>, until: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ApiError('DEADLINE_EXCEEDED', 'signing deadline exceeded')), Math.max(0, until - Date.now()));
  });
  work.catch(() => undefined); // settled later than the deadline: nobody waits for it any more
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** An INTERNAL error is a bug: its cause is logged (name and message only), never sent. */
function logged(e: ApiError, cause: unknown, log: Logger): ApiError {
  if (e.code === 'INTERNAL') log.error({ err: { name: (cause as Error)?.name, message: (cause as Error)?.message } }, 'unexpected error');
  return e;
}

/** Reads the body (413 past its byte limit, 408 past its time limit) and parses it as JSON. */
async function readJson(req: Request, res: Response, limit: number, timeoutMs: number): Promise<unknown> {
  const body = await readBody(req, res, limit, { timeoutMs: Math.max(1, timeoutMs) });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('INVALID_JSON', 'body is not valid JSON');
  }
}
