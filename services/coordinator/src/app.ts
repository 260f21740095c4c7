/**
 * The public HTTPS API: POST /sign (alias /v1/sign), POST /v1/sign/batch and POST /v1/jws for
 * authenticated callers; GET /v1/keys, GET /.well-known/jwks.json (public keys, for anyone) and a
 * liveness /healthz. Readiness and the OpenAPI document are served on the ops port, not here: an
 * unauthenticated caller learns nothing about the signers' health. Every error is
 * `{"error":{"code","message","culprits"?}}` with a status from the STATUS table; never a stack trace.
 *
 * Every signing names a key (`key_id`, default: the configured one) that must be known and active;
 * an answer names the key it signed with, and its signature has been verified under that key.
 *
 * A request is authenticated before anything else (its headers only), then holds one of
 * `maxInFlight` slots — at most `maxInFlightPerPrincipal` of them per caller — while its body is read
 * (bounded in size and time) and it is signed (bounded by its deadline, counted from its arrival).
 * A batch holds one slot and one deadline for all its messages; each message gets its own outcome
 * (a signature, or an error of the same shape and codes as /sign's) and its own audit record.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ReplayCache, type JwkSet } from '@hoarfrost/rpc';
import { assertClientIdentity, readBody, type AuditTrail, type Logger } from '@hoarfrost/runtime';
import type { AdminHandlers } from './admin.js';
import type { CoordinatorConfig } from './config.js';
import { ApiError, toApiError, type ParticipantId } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Orchestrator, SignResult } from './orchestrator.js';
import type { KnownKey, SignerRegistry } from './registry.js';
import { jwsSigningInput, parseBatchItem, parseBatchRequest, parseJwsRequest, parseSignRequest, type ParsedBatchItem, type ParsedSignRequest } from './request.js';

export interface CoordinatorAppDeps {
  config: Readonly<CoordinatorConfig>;
  registry: Pick<SignerRegistry, 'byUrl' | 'maxMessageBytes' | 'signingKey' | 'keys'>;
  orchestrator: Pick<Orchestrator, 'sign' | 'signBatch'>;
  metrics: CoordinatorMetrics;
  logger: Logger;
  inboundJwks?: JwkSet;
  /** Where each /sign leaves its hash-chained record (none: the log level hides info records). */
  audit?: AuditTrail;
  /** True once the listener has closed for shutdown (requests still arriving are refused). */
  isDraining: () => boolean;
  /** The admin API's handlers (admin.ts); served only when COORDINATOR_ADMIN_CLIENT_SANS names someone. */
  admin?: AdminHandlers;
}

/** Largest admin request body (a key id, a threshold and a list of signer ids). */
const ADMIN_MAX_BODY_BYTES = 16 * 1024;

/** A /sign answer may come this much after its deadline (the last step's own work); never later. */
export const DEADLINE_MARGIN_MS = 50;

/**
 * How long clients may cache GET /v1/keys and the JWKS: short, so that a new key is picked up soon
 * by relying parties (a key is published before it signs anything, RFC 7517 rotation practice).
 */
export const KEYS_MAX_AGE_SECONDS = 60;

/** A key as GET /v1/keys describes it. */
function keyEntry(k: KnownKey): Record<string, unknown> {
  return {
    key_id: k.keyId,
    group_public_key: Buffer.from(k.pkp.verifyingKeyBytes).toString('base64url'),
    threshold: k.pkp.minSigners,
    participants: { count: k.pkp.maxSigners, signers: [...k.holders.keys()].map((h) => h.id) },
    version: k.version,
    ...(k.createdAt !== undefined ? { created: new Date(k.createdAt).toISOString() } : {}),
    state: k.state,
  };
}

/** A key as a JWK (RFC 8037 §2: an Ed25519 public key), named by its key id. */
function jwk(k: KnownKey): Record<string, string> {
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(k.pkp.verifyingKeyBytes).toString('base64url'), kid: k.keyId, use: 'sig', alg: 'EdDSA' };
}

/** The caller's X-Request-Id when it is a plain token, else a new one. */
function requestIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The `error` member of an error answer (of the whole request, or of one item of a batch). */
function errorBody(e: ApiError): Record<string, unknown> {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.culprits.length > 0) error.culprits = e.culprits;
  return error;
}

function sendError(res: Response, e: ApiError): void {
  if (e.status === 429 || e.status === 503) res.setHeader('retry-after', '1');
  res.status(e.status).json({ error: errorBody(e) });
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
  app.use(fixedHeaders(helmet()));
  const jwks = deps.inboundJwks ? createLocalJWKSet(deps.inboundJwks) : undefined;
  const slots = new Slots(config.maxInFlight, config.maxInFlightPerPrincipal);

  /** Every path served, for METHOD_NOT_ALLOWED on a known path with another method. */
  const paths = new Set<string>();
  const route = (method: 'get' | 'post', path: string, handler: (req: Request, res: Response) => void | Promise<void>) => {
    paths.add(path);
    app[method](path, handler);
  };

  route('get', '/healthz', (_req, res) => void res.json({ status: 'ok' }));

  // Public keys, for anyone (relying parties verify with them): no caller credentials, nothing secret.
  route('get', '/v1/keys', (_req, res) => {
    res.setHeader('cache-control', `public, max-age=${KEYS_MAX_AGE_SECONDS}`);
    res.json({ keys: deps.registry.keys().map(keyEntry) });
  });
  route('get', '/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', `public, max-age=${KEYS_MAX_AGE_SECONDS}`);
    res.json({ keys: deps.registry.keys().filter((k) => k.state !== 'pending').map(jwk) });
  });


  /** The caller as authentication established it. */
  interface Caller {
    /** Who, for the audit log (`mtls:<SAN>`, `jwt:<kid>:<sub>`). */
    principal: string;
    /** Whose share of the request slots it uses: the certificate, or the key that signed the token. */
    slotKey: string;
    /** The token to claim as used once the request holds its slot. */
    token?: { kid: string; jti: string; exp: number };
  }

  /** Authenticates the caller per AUTH_MODE, from the headers and the TLS session only. */
  async function authenticate(req: Request): Promise<Caller> {
    const mode = config.auth.mode;
    const bearer = req.headers.authorization;
    const viaMtls = (): Caller => {
      const sans = assertClientIdentity(req.socket as TLSSocket, config.auth.allowedClientSans);
      const principal = `mtls:${sans[0] ?? (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? 'unknown'}`;
      return { principal, slotKey: principal };
    };
    const viaJwt = async (): Promise<Caller> => {
      if (!bearer) throw new ApiError('UNAUTHENTICATED', 'Authorization: Bearer token required');
      const m = /^Bearer (\S+)$/.exec(bearer);
      if (!m || !jwks) throw new ApiError('TOKEN_INVALID', 'malformed bearer token');
      let payload;
      let kid: string;
      try {
        let header;
        ({ payload, protectedHeader: header } = await jwtVerify(m[1]!, jwks, {
          algorithms: ['EdDSA'],
          audience: config.auth.jwtAudience,
          issuer: config.auth.jwtIssuer!,
          requiredClaims: ['iss', 'iat', 'exp', 'jti'],
          // iat neither older than the maximum age nor in the future (beyond the tolerance).
          maxTokenAge: config.auth.jwtMaxAgeSeconds,
          clockTolerance: 5,
        }));
        kid = String(header.kid ?? '');
      } catch {
        throw new ApiError('TOKEN_INVALID', 'bearer token is invalid, expired or not for this service');
      }
      const { iat, exp, jti } = payload as { iat: number; exp: number; jti: unknown };
      if (exp - iat > config.auth.jwtMaxAgeSeconds) throw new ApiError('TOKEN_INVALID', `bearer token lifetime (exp - iat) exceeds ${config.auth.jwtMaxAgeSeconds} s`);
      if (typeof jti !== 'string' || jti.length < 16 || jti.length > 128) throw new ApiError('TOKEN_INVALID', 'bearer token jti must be a string of 16..128 characters');
      return { principal: `jwt:${kid}:${String(payload.sub ?? payload.iss)}`, slotKey: `jwt:${kid}`, token: { kid, jti, exp } };
    };
    if (mode === 'mtls') return viaMtls();
    if (mode === 'jwt') return viaJwt();
    if (mode === 'mtls-and-jwt') {
      const cert = viaMtls();
      const jwt = await viaJwt();
      return { ...jwt, principal: `${cert.principal}+${jwt.principal}`, slotKey: cert.slotKey };
    }
    return bearer ? viaJwt() : viaMtls();
  }

  /** Replay caches per caller key: one caller's tokens can fill only its own. */
  const replayCaches = new Map<string, ReplayCache>();

  /**
   * Authenticates the caller and takes its slot, then claims its token: a request refused for want of
   * a slot has not used its token up. Returns the caller and the slot's release.
   */
  async function admit(req: Request): Promise<{ caller: Caller; release: () => void }> {
    const caller = await authenticate(req);
    const release = slots.take(caller.slotKey);
    if (caller.token) {
      const { kid, jti, exp } = caller.token;
      let cache = replayCaches.get(kid);
      if (!cache) replayCaches.set(kid, (cache = new ReplayCache({ maxEntries: config.auth.jwtReplayCacheMax })));
      const claim = cache.claim(jti, exp + 5);
      if (claim !== 'claimed') {
        release();
        if (claim === 'replayed') throw new ApiError('TOKEN_REPLAYED', 'bearer token was already used');
        throw new ApiError('THROTTLED', 'too many of this caller\'s tokens are live; retry shortly');
      }
    }
    return { caller, release };
  }

  /** What one signing request is: its key, message and quorum constraints, and what it answers. */
  interface OneSigning extends ParsedSignRequest {
    /** The 200 answer's body once signed (the signature verified under the key). */
    answer(result: SignResult): Record<string, unknown>;
  }

  /**
   * The handler of a request signing one message (/sign, /v1/jws): authentication, a slot, the body,
   * `parse` (which names the key and message), the size limit of the key's signers, the signing
   * within the deadline, its audit record (awaited when failing closed), and metrics.
   */
  const signingRoute = (event: 'sign' | 'jws', parse: (body: unknown) => OneSigning) => async (req: Request, res: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    const deadline = Date.now() + config.signDeadlineMs;
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const log = logger.child({ requestId });
    let principal = 'anonymous';
    let keyId: string | undefined;
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
      const entry = { event, requestId, principal, keyId, messageSha256, messageBytes, participants, outcome, culprits: [...culprits], durationMs: Math.round(seconds * 1e4) / 10 };
      return deps.audit ? deps.audit.append(entry) : Promise.resolve();
    };
    try {
      if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN', 'coordinator is shutting down');
      let caller: Caller;
      ({ caller, release } = await admit(req));
      principal = caller.principal;
      metrics.inFlight.inc();
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
      const body = await readJson(req, res, config.maxBodyBytes, Math.min(config.bodyTimeoutMs, deadline - Date.now()));
      const parsed = parse(body);
      keyId = parsed.key.keyId;
      messageSha256 = createHash('sha256').update(parsed.message).digest('hex');
      messageBytes = parsed.message.length;
      const limit = deps.registry.maxMessageBytes(keyId, config.maxMessageBytes);
      if (parsed.message.length > limit) throw new ApiError('MESSAGE_TOO_LARGE', `message is ${parsed.message.length} bytes; the signers accept at most ${limit}`);
      const request = { keyId, message: parsed.message, deadline, log, ...(parsed.participants ? { participants: parsed.participants } : {}), ...(parsed.signers ? { signers: parsed.signers } : {}) };
      const result = await withinDeadline(deps.orchestrator.sign(request), deadline + DEADLINE_MARGIN_MS);
      participants = result.participants;
      culprits = result.culprits;
      if (config.audit.failClosed) {
        // Fail closed: a signature whose record is not written is not handed out.
        await withinDeadline(record(), deadline + DEADLINE_MARGIN_MS).catch((e: Error) => {
          log.error({ err: { name: e.name, message: e.message } }, 'audit record not written: signature withheld');
          throw new ApiError('AUDIT_UNAVAILABLE', 'the audit record could not be written; nothing was returned');
        });
      }
      res.status(200).json(parsed.answer(result));
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
      metrics.signs.inc({ outcome, key_id: metrics.keyLabel(keyId) });
      metrics.signDuration.observe({ outcome: outcome === 'ok' ? 'ok' : 'error' }, seconds);
      // Only requests from authenticated callers are recorded: anyone can send the others.
      if (!recorded && release) record().catch((e: Error) => log.error({ err: { name: e.name, message: e.message } }, 'audit record not written'));
    }
  };

  const sign = signingRoute('sign', (body) => {
    const parsed = parseSignRequest(body, config.keyId, deps.registry);
    return {
      ...parsed,
      answer: (result) => ({
        signature_b64: Buffer.from(result.signature).toString('base64'),
        group_public_b64: Buffer.from(result.groupPublicKey).toString('base64'),
        participants: result.participants,
        key_id: result.keyId,
      }),
    };
  });
  route('post', '/sign', sign);
  route('post', '/v1/sign', sign);

  // A compact JWS (RFC 7515 §7.1) of the caller's payload, its signing input signed like a /sign message.
  route(
    'post',
    '/v1/jws',
    signingRoute('jws', (body) => {
      const { key, header, payload } = parseJwsRequest(body, config.keyId, deps.registry);
      const input = jwsSigningInput(header, payload);
      return {
        key,
        message: new Uint8Array(Buffer.from(input, 'ascii')),
        answer: (result) => ({ jws: `${input}.${Buffer.from(result.signature).toString('base64url')}`, key_id: result.keyId }),
      };
    }),
  );

  const signBatch = async (req: Request, res: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    const deadline = Date.now() + config.signDeadlineMs;
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const log = logger.child({ requestId });
    let principal = 'anonymous';
    let release: (() => void) | undefined;
    let items = 0;
    /** The audit record of item `index` (undefined: of the whole batch, refused as a whole). */
    const record = (index: number | undefined, keyId: string | undefined, message: Uint8Array | undefined, outcome: string, participants: ParticipantId[], culprits: readonly ParticipantId[]) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const event = {
        event: 'sign',
        requestId,
        batchIndex: index,
        principal,
        keyId,
        messageSha256: message ? createHash('sha256').update(message).digest('hex') : undefined,
        messageBytes: message?.length,
        participants,
        outcome,
        culprits: [...culprits],
        durationMs: Math.round(seconds * 1e4) / 10,
      };
      return deps.audit ? deps.audit.append(event) : Promise.resolve();
    };
    try {
      if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN', 'coordinator is shutting down');
      let caller: Caller;
      ({ caller, release } = await admit(req));
      principal = caller.principal;
      metrics.inFlight.inc();
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
      const body = await readJson(req, res, config.maxBatchBodyBytes, Math.min(config.bodyTimeoutMs, deadline - Date.now()));
      const raw = parseBatchRequest(body, config.maxBatchItems);
      items = raw.length;
      const parsed = raw.map((item) => parseBatchItem(item, config.keyId, deps.registry, config.maxMessageBytes));
      const outcomes = await signGrouped(parsed, deadline, log);
      const records = outcomes.map((o, i) => {
        const item = parsed[i]!;
        const [keyId, message] = item instanceof ApiError ? [undefined, undefined] : [item.key.keyId, item.message];
        return o instanceof ApiError ? record(i, keyId, message, o.code, [], o.culprits) : record(i, keyId, message, 'ok', o.participants, o.culprits);
      });
      // Fail closed: a signature whose record is not written is not handed out (the others are).
      const written = config.audit.failClosed ? await Promise.allSettled(records) : records.map(() => ({ status: 'fulfilled' as const }));
      if (!config.audit.failClosed) for (const r of records) r.catch((e: Error) => log.error({ err: { name: e.name, message: e.message } }, 'audit record not written'));
      const results = outcomes.map((o, i) => {
        const item = parsed[i]!;
        if (!(o instanceof ApiError) && written[i]!.status === 'rejected') {
          log.error({ batchIndex: i }, 'audit record not written: signature withheld');
          o = new ApiError('AUDIT_UNAVAILABLE', 'the audit record could not be written; nothing was returned');
        }
        metrics.signs.inc({ outcome: o instanceof ApiError ? o.code : 'ok', key_id: metrics.keyLabel(item instanceof ApiError ? undefined : item.key.keyId) });
        if (o instanceof ApiError) {
          metrics.failures.inc({ reason: o.code });
          return { error: errorBody(o) };
        }
        if (config.auditLogMessage) log.info({ batchIndex: i, messageB64: Buffer.from((item as ParsedBatchItem).message).toString('base64') }, 'signed message');
        return { signature_b64: Buffer.from(o.signature).toString('base64'), participants: o.participants, key_id: o.keyId, group_public_b64: Buffer.from(o.groupPublicKey).toString('base64') };
      });
      // One key for every item: its group key once for all, as before items named keys.
      const keys = new Set(parsed.flatMap((p) => (p instanceof ApiError ? [] : [p.key])));
      const only = keys.size === 1 ? [...keys][0]! : undefined;
      res.status(200).json({ ...(only ? { group_public_b64: Buffer.from(only.pkp.verifyingKeyBytes).toString('base64') } : {}), results });
    } catch (err) {
      // The batch as a whole was refused (before any message was signed, or at its hard deadline).
      const e = logged(toApiError(err), err, log);
      metrics.signs.inc({ outcome: e.code, key_id: metrics.keyLabel(undefined) }, Math.max(1, items));
      metrics.failures.inc({ reason: e.code }, Math.max(1, items));
      // Only requests from authenticated callers are recorded: anyone can send the others.
      if (release) record(undefined, undefined, undefined, e.code, [], e.culprits).catch((x: Error) => log.error({ err: { name: x.name, message: x.message } }, 'audit record not written'));
      sendError(res, e);
    } finally {
      if (release) {
        release();
        metrics.inFlight.dec();
      }
      if (items > 0) metrics.batchItems.observe(items);
      metrics.batchDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
  route('post', '/v1/sign/batch', signBatch);

  /**
   * The outcome of each parsed item: the items of each key signed together (one joint attempt per key,
   * the keys in parallel), within the batch's deadline; a refused item keeps its error.
   */
  async function signGrouped(parsed: (ParsedBatchItem | ApiError)[], deadline: number, log: Logger): Promise<(SignResult | ApiError)[]> {
    const outcomes: (SignResult | ApiError)[] = parsed.map((p) => (p instanceof ApiError ? p : new ApiError('INTERNAL', 'internal error')));
    const groups = new Map<string, number[]>();
    parsed.forEach((p, i) => {
      if (!(p instanceof ApiError)) groups.set(p.key.keyId, [...(groups.get(p.key.keyId) ?? []), i]);
    });
    const signing = [...groups].map(async ([keyId, indexes]) => {
      let signed: (SignResult | Error)[];
      try {
        signed = await deps.orchestrator.signBatch(indexes.map((i) => ({ keyId, message: (parsed[i] as ParsedBatchItem).message, deadline, log })));
      } catch (e) {
        // The key's items fail together (e.g. it was retired since they were read); the other keys' items do not.
        signed = indexes.map(() => (e instanceof Error ? e : new Error(String(e))));
      }
      indexes.forEach((i, k) => {
        const o = signed[k]!;
        outcomes[i] = o instanceof Error ? logged(toApiError(o), o, log) : o;
      });
    });
    if (signing.length > 0) await withinDeadline(Promise.all(signing), deadline + DEADLINE_MARGIN_MS);
    return outcomes;
  }

  const admin = deps.admin;
  if (admin && config.admin.allowedClientSans.length > 0) {
    /**
     * An admin request: the operator's certificate (its own SAN list) before anything else, then a
     * small JSON body, then the handler. Refusals before a key generation starts are JSON errors.
     */
    const adminRoute = (handler: (req: Request, res: Response, body: unknown) => Promise<unknown>) => async (req: Request, res: Response): Promise<void> => {
      const requestId = requestIdOf(req);
      res.setHeader('x-request-id', requestId);
      try {
        if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN', 'coordinator is shutting down');
        const sans = assertClientIdentity(req.socket as TLSSocket, config.admin.allowedClientSans);
        (req as Request & { principal?: string }).principal = `mtls:${sans[0] ?? 'unknown'}`;
        const body = await readJson(req, res, ADMIN_MAX_BODY_BYTES, config.bodyTimeoutMs);
        const answer = await handler(req, res, body);
        if (!res.headersSent) res.status(200).json(answer);
      } catch (e) {
        const err = toApiError(e);
        if (err.code === 'INTERNAL') logger.error({ requestId, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, 'admin request failed');
        if (!res.headersSent) sendError(res, err);
        else res.end();
      }
    };
    route('post', '/admin/v1/keys', adminRoute((req, res, body) => admin.create(req, res, body)));
    route('post', '/admin/v1/keys/:keyId/refresh', adminRoute((req, res, body) => admin.refresh(req, res, body)));
    route('post', '/admin/v1/keys/:keyId/retire', adminRoute((req, res, body) => admin.retire(req, res, body)));
    route('post', '/admin/v1/keys/:keyId/remove', adminRoute((req, res, body) => admin.remove(req, res, body)));
  }

  app.use((req: Request, res: Response) => {
    sendError(res, paths.has(req.path) ? new ApiError('METHOD_NOT_ALLOWED', `${req.method} not allowed here`) : new ApiError('NOT_FOUND', 'not found'));
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

/**
 * The headers `middleware` sets, recorded once and then set by one middleware: helmet's defaults are
 * the same for every response, and running its dozen middlewares per request showed in the profiles
 * (bench/RESULTS.md).
 */
function fixedHeaders(middleware: (req: Request, res: Response, next: (err?: unknown) => void) => void): (req: Request, res: Response, next: NextFunction) => void {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  middleware({} as Request, recorder as unknown as Response, () => undefined);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
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
