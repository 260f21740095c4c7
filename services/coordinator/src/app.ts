/**
 * The public HTTPS API: POST /sign (alias /v1/sign), /healthz, /readyz, /openapi.json. Every error is
 * `{"error":{"code","message","culprits"?}}` with a status from the STATUS table; never a stack trace.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { PublicKeyPackage } from '@hoarfrost/frost';
import type { JwkSet } from '@hoarfrost/rpc';
import { assertClientIdentity, readBody, type Logger } from '@hoarfrost/runtime';
import type { CoordinatorConfig } from './config.js';
import { ApiError, toApiError, type ParticipantId } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Orchestrator } from './orchestrator.js';
import type { SignerRegistry } from './registry.js';
import { parseSignRequest } from './request.js';

export interface CoordinatorAppDeps {
  config: Readonly<CoordinatorConfig>;
  pkp: PublicKeyPackage;
  registry: Pick<SignerRegistry, 'byUrl'>;
  orchestrator: Pick<Orchestrator, 'sign'>;
  metrics: CoordinatorMetrics;
  logger: Logger;
  inboundJwks?: JwkSet;
  openapi: unknown;
  notReadyReason: () => string | undefined;
  isDraining: () => boolean;
}

function sendError(res: Response, e: ApiError): void {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.culprits.length > 0) error.culprits = e.culprits;
  if (e.status === 429 || e.status === 503) res.setHeader('retry-after', '1');
  res.status(e.status).json({ error });
}

export function createCoordinatorApp(deps: CoordinatorAppDeps): express.Express {
  const { config, metrics, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(helmet());
  const jwks = deps.inboundJwks ? createLocalJWKSet(deps.inboundJwks) : undefined;
  let inFlight = 0;

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const reason = deps.notReadyReason();
    res.status(reason ? 503 : 200).json(reason ? { status: 'not ready', reason } : { status: 'ready' });
  });
  app.get('/openapi.json', (_req, res) => void res.json(deps.openapi));

  /** Authenticates the caller per AUTH_MODE; returns a principal string for the audit log. */
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
      try {
        const { payload } = await jwtVerify(m[1]!, jwks, {
          algorithms: ['EdDSA'],
          audience: config.auth.jwtAudience,
          ...(config.auth.jwtIssuer ? { issuer: config.auth.jwtIssuer } : {}),
          requiredClaims: ['exp'],
          clockTolerance: 5,
        });
        return `jwt:${String(payload.sub ?? payload.iss ?? 'unknown')}`;
      } catch {
        throw new ApiError('TOKEN_INVALID', 'bearer token is invalid, expired or not for this service');
      }
    };
    if (mode === 'mtls') return viaMtls();
    if (mode === 'jwt') return viaJwt();
    if (mode === 'mtls-and-jwt') return `${viaMtls()}+${await viaJwt()}`;
    return bearer ? viaJwt() : viaMtls();
  }

  const sign = async (req: Request, res: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,128}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    res.setHeader('x-request-id', requestId);
    const log = logger.child({ requestId });
    let principal = 'anonymous';
    let messageSha256: string | undefined;
    let messageBytes: number | undefined;
    let participants: ParticipantId[] = [];
    let culprits: readonly ParticipantId[] = [];
    let outcome = 'ok';
    let counted = false;
    try {
      if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN', 'coordinator is shutting down');
      principal = await authenticate(req);
      if (inFlight >= config.maxInFlight) throw new ApiError('THROTTLED', 'too many requests in flight; retry shortly');
      inFlight++;
      counted = true;
      metrics.inFlight.inc();
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
      const body = await readJson(req, res, config.maxBodyBytes);
      const parsed = parseSignRequest(body, deps.pkp, deps.registry);
      messageSha256 = createHash('sha256').update(parsed.message).digest('hex');
      messageBytes = parsed.message.length;
      const result = await deps.orchestrator.sign({ ...parsed, log });
      participants = result.participants;
      culprits = result.culprits;
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
      if (counted) {
        inFlight--;
        metrics.inFlight.dec();
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.signs.inc({ outcome });
      metrics.signDuration.observe({ outcome: outcome === 'ok' ? 'ok' : 'error' }, seconds);
      log.info({ audit: { requestId, principal, messageSha256, messageBytes, participants, outcome, culprits, durationMs: Math.round(seconds * 1e4) / 10 } }, 'sign');
    }
  };
  app.post('/sign', sign);
  app.post('/v1/sign', sign);

  app.use((req: Request, res: Response) => {
    const known = ['/sign', '/v1/sign', '/healthz', '/readyz', '/openapi.json'].includes(req.path);
    sendError(res, known ? new ApiError('METHOD_NOT_ALLOWED', `${req.method} not allowed here`) : new ApiError('NOT_FOUND', 'not found'));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, logged(toApiError(err), err, logger));
  });
  return app;
}

/** An INTERNAL error is a bug: its cause is logged (name and message only), never sent. */
function logged(e: ApiError, cause: unknown, log: Logger): ApiError {
  if (e.code === 'INTERNAL') log.error({ err: { name: (cause as Error)?.name, message: (cause as Error)?.message } }, 'unexpected error');
  return e;
}

/** Reads the body (hard byte limit: 413 past it) and parses it as JSON. */
async function readJson(req: Request, res: Response, limit: number): Promise<unknown> {
  const body = await readBody(req, res, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError('INVALID_JSON', 'body is not valid JSON');
  }
}
