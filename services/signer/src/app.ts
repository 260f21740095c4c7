/**
 * The signer's RPC application (served only over mutual TLS). Order of checks on every RPC:
 * client certificate → draining → bearer token present → raw body (size- and time-limited) → token
 * signature, claims and body hash → CBOR decode → shape → round handler (rounds.ts). Nothing is
 * parsed before the caller is authenticated, and nothing (not even that the signer is shutting down)
 * is told to a client whose certificate is not allowed. Every refusal is one of the documented wire
 * codes (errors.ts).
 * @module
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { TLSSocket } from 'node:tls';
import { CBOR_CONTENT_TYPE, RPC_PATHS, SIGNER_ERROR_CODES, decodeCbor, encodeCbor, type RpcClaims, type RpcTokenVerifier, type SignerErrorBody } from '@hoarfrost/rpc';
import { assertClientIdentity, readBody, type Logger } from '@hoarfrost/runtime';
import type { SignerConfig } from './config.js';
import { SignerError, toWireRefusal } from './errors.js';
import type { SignerMetrics } from './metrics.js';
import { handleInfo, handleRound1, handleRound2, type RoundsDeps } from './rounds.js';

export interface SignerAppDeps extends RoundsDeps {
  config: Readonly<SignerConfig>;
  verifier: RpcTokenVerifier;
  metrics: SignerMetrics;
  logger: Logger;
  isDraining: () => boolean;
}

type Rpc = keyof typeof RPC_PATHS;
const RPC_OF_PATH = new Map<string, Rpc>(Object.entries(RPC_PATHS).map(([rpc, path]) => [path, rpc as Rpc]));

export function createSignerApp(deps: SignerAppDeps): express.Express {
  const { metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(helmet());

  // mTLS identity and token presence before any body is read.
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.locals.start = process.hrtime.bigint();
    // Known from the path before any check, so that every refusal of an RPC counts in its outcomes.
    res.locals.rpc = RPC_OF_PATH.get(req.path);
    try {
      assertClientIdentity(req.socket as TLSSocket, deps.config.allowedClientSans);
      if (deps.isDraining()) throw new SignerError('SHUTTING_DOWN', 'signer is shutting down');
      if (!req.headers.authorization) throw new SignerError('TOKEN_MISSING', 'Authorization: Bearer token required');
      if (req.method !== 'POST') throw new SignerError('METHOD_NOT_ALLOWED', 'RPCs use POST');
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== CBOR_CONTENT_TYPE) throw new SignerError('UNSUPPORTED_MEDIA_TYPE', `content-type must be ${CBOR_CONTENT_TYPE}`);
      next();
    } catch (e) {
      next(e);
    }
  });
  // Raw body with a hard limit (the token's body hash is checked on these exact bytes).
  app.use((req: Request, res: Response, next: NextFunction) => {
    readBody(req, res, deps.config.maxBodyBytes, { timeoutMs: deps.config.bodyTimeoutMs }).then((body) => {
      res.locals.body = body;
      next();
    }, next);
  });

  const route = (rpc: Rpc, handler: (body: unknown, log: Logger, claims: RpcClaims) => unknown) => {
    const path = RPC_PATHS[rpc];
    app.post(path, async (req: Request, res: Response) => {
      const raw = res.locals.body as Buffer;
      const claims = deps.verifier.verify(req.headers.authorization, { path, body: raw });
      const result = await handler(decodeCbor(raw), deps.logger.child({ rpc, jti: claims.jti }), claims);
      const out = encodeCbor(result);
      res.writeHead(200, { 'content-type': CBOR_CONTENT_TYPE, 'content-length': out.length }).end(out);
      if (rpc !== 'info') metrics[rpc].inc({ outcome: 'ok' });
      observe(res, 200);
    });
  };
  route('round1', (b) => handleRound1(deps, b));
  route('round2', (b, log, claims) => handleRound2(deps, b, log, { iss: claims.iss, jti: claims.jti }));
  route('info', (b) => handleInfo(deps, b));

  function observe(res: Response, status: number): void {
    const rpc = (res.locals.rpc as Rpc | undefined) ?? 'unknown';
    const start = res.locals.start as bigint | undefined;
    if (start !== undefined) metrics.rpcDuration.observe({ rpc, status: String(status) }, Number(process.hrtime.bigint() - start) / 1e9);
  }

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new SignerError('NOT_FOUND', 'no such RPC')));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const refusal = toWireRefusal(err);
    if (refusal.unexpected) deps.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unexpected error');
    const rpc = res.locals.rpc as Rpc | undefined;
    if (rpc === 'round1' || rpc === 'round2') metrics[rpc].inc({ outcome: refusal.code });
    const kind = SIGNER_ERROR_CODES[refusal.code];
    if (kind === 'auth') metrics.authFailures.inc({ code: refusal.code });
    // Malformed requests are counted by the duration histogram; a log line each would let anyone flood the log.
    if (kind !== 'request' && kind !== 'internal') deps.logger.info({ rpc, code: refusal.code, status: refusal.status }, 'rpc refused');
    observe(res, refusal.status);
    const body: SignerErrorBody = { error: { code: refusal.code, message: refusal.message } };
    res.status(refusal.status).type('application/json').send(JSON.stringify(body));
  });
  return app;
}
