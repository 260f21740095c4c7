/**
 * The signer's RPC application (served only over mutual TLS). Order of checks on every RPC:
 * client certificate → bearer token present → raw body (size-limited) → token signature, claims and
 * body hash → CBOR decode → shape → handler. Nothing is parsed before the caller is authenticated.
 * @module
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { TLSSocket } from 'node:tls';
import {
  FrostError,
  Identifier,
  SigningCommitments,
  SigningPackage,
  round1,
  round2,
  serializeScalar,
  type PreparedSigning,
  toHex,
  ORDER,
} from '@frostd/frost';
import {
  AuthError,
  BadRequestError,
  CBOR_CONTENT_TYPE,
  RPC_PATHS,
  TransportError,
  assertClientIdentity,
  decodeCbor,
  encodeCbor,
  parseInfoRequest,
  parseRound1Request,
  parseRound2Request,
  readBody,
  type Logger,
  type RpcTokenVerifier,
} from '@frostd/transport';
import type { SignerConfig } from './config.js';
import type { LoadedKey } from './key-store.js';
import type { SignerMetrics } from './metrics.js';
import type { NonceStore } from './nonce-store.js';
import type { PolicyResult } from './policy.js';
import type { CryptoPool } from './crypto-pool.js';

export interface SignerAppDeps {
  config: Readonly<SignerConfig>;
  keys: ReadonlyMap<string, LoadedKey>;
  nonces: NonceStore;
  verifier: RpcTokenVerifier;
  policy: (message: Uint8Array) => PolicyResult;
  metrics: SignerMetrics;
  logger: Logger;
  isDraining: () => boolean;
  cryptoPool?: CryptoPool;
}

/** An error with a stable code and HTTP status, answered as `{"error":{"code","message"}}`. */
class RpcError extends TransportError {
  override name = 'RpcError';
}

type Rpc = 'round1' | 'round2' | 'info';

function keyFor(deps: SignerAppDeps, keyId: string): LoadedKey {
  const key = deps.keys.get(keyId);
  if (!key) throw new RpcError('UNKNOWN_KEY', 404, `no key "${keyId}" on this signer`);
  return key;
}

function handleRound1(deps: SignerAppDeps, body: unknown): unknown {
  const req = parseRound1Request(body, deps.config.nonces.maxBatch);
  const key = keyFor(deps, req.key_id);
  const commitments = [];
  for (let i = 0; i < req.count; i++) {
    const { nonces, commitments: c } = round1.commit(key.keyPackage.signingShare);
    deps.nonces.add(req.key_id, nonces);
    commitments.push({ hiding: c.hidingBytes, binding: c.bindingBytes });
  }
  deps.metrics.commitmentsIssued.inc(req.count);
  return { identifier: key.keyPackage.identifier.toBytes(), commitments, ttl_ms: deps.nonces.ttlMs };
}

async function handleRound2(deps: SignerAppDeps, body: unknown, log: Logger): Promise<unknown> {
  const req = parseRound2Request(body);
  const key = keyFor(deps, req.key_id);
  const me = key.keyPackage.identifier;
  const myBytes = toHex(me.toBytes());
  const mine = req.commitments.filter((c) => toHex(c.identifier) === myBytes);
  if (mine.length !== 1) throw new RpcError('NOT_A_PARTICIPANT', 400, 'signing package must list this signer exactly once');
  // Claim first, from raw bytes: the nonce is gone from the store before anything else is computed,
  // so concurrent or repeated requests for this commitment fail here.
  const claimed = deps.nonces.claim(toHex(mine[0]!.hiding) + toHex(mine[0]!.binding), req.key_id);
  if ('error' in claimed) throw new RpcError(claimed.error, 409, 'commitment is not one this signer issued and has not used');
  const nonces = claimed.nonces;
  try {
    const verdict = deps.policy(req.message);
    // Identifiers first (cheap), then the point checks, in a worker for large packages.
    const identifiers = req.commitments.map((c) => Identifier.fromBytes(c.identifier));
    for (const identifier of identifiers) {
      if (!key.publicKeyPackage.verifyingShares.has(identifier.toHex())) {
        throw new RpcError('UNKNOWN_PARTICIPANT', 400, `identifier ${identifier} is not in key set "${req.key_id}"`);
      }
    }
    const pool = deps.cryptoPool;
    let prepared: PreparedSigning | undefined;
    if (verdict.ok && pool && req.commitments.length >= pool.minParticipants) {
      const r = await pool.prepare({ ownHex: me.toHex(), verifyingKey: key.publicKeyPackage.verifyingKeyBytes, message: req.message, commitments: req.commitments });
      if (r.error) throw new RpcError(r.error.code, r.error.code === 'INTERNAL' ? 500 : 400, r.error.message);
      prepared = { bindingFactors: new Map(r.bindingFactors), othersTerm: r.othersTerm };
    }
    const entries = req.commitments.map((c, i) => {
      const identifier = identifiers[i]!;
      const commitments = identifier.equals(me)
        ? nonces.commitments
        : prepared
          ? SigningCommitments.fromTrustedBytes(c.hiding, c.binding) // validated by the worker
          : SigningCommitments.fromBytes(c.hiding, c.binding);
      return { identifier, commitments };
    });
    const pkg = new SigningPackage(entries, req.message);
    if (!verdict.ok) {
      deps.metrics.policyRefusals.inc({ reason: verdict.code });
      log.warn({ keyId: req.key_id, reason: verdict.code, messageBytes: req.message.length }, 'policy refused message');
      throw new RpcError(verdict.code, 403, verdict.reason);
    }
    const share = round2.sign(pkg, nonces, key.keyPackage, undefined, prepared);
    const out = deps.config.testFault === 'corrupt-shares' ? serializeScalar((share.share + 1n) % ORDER) : share.toBytes();
    return { identifier: me.toBytes(), share: out, group_commitment: share.groupCommitment! };
  } finally {
    nonces.discard(); // used or not, this nonce is never offered again
  }
}

function handleInfo(deps: SignerAppDeps, body: unknown): unknown {
  const req = parseInfoRequest(body);
  const keys = [...deps.keys.values()].filter((k) => req.key_id === undefined || k.keyId === req.key_id);
  if (req.key_id !== undefined && keys.length === 0) throw new RpcError('UNKNOWN_KEY', 404, `no key "${req.key_id}" on this signer`);
  const first = keys[0] ?? [...deps.keys.values()][0]!;
  return {
    identifier: first.keyPackage.identifier.toBytes(),
    keys: keys.map((k) => ({
      key_id: k.keyId,
      verifying_share: k.keyPackage.verifyingShare.toBytes(),
      verifying_key: k.publicKeyPackage.verifyingKeyBytes,
      min_signers: k.keyPackage.minSigners,
    })),
  };
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error: { code, message } }));
}

export function createSignerApp(deps: SignerAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', false);
  app.use(helmet());

  // mTLS identity and token presence before any body is read.
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.locals.start = process.hrtime.bigint();
    try {
      if (deps.isDraining()) throw new RpcError('SHUTTING_DOWN', 503, 'signer is shutting down');
      assertClientIdentity(req.socket as TLSSocket, deps.config.allowedClientSans);
      if (!req.headers.authorization) throw new AuthError('TOKEN_MISSING', 401, 'Authorization: Bearer token required');
      if (req.method !== 'POST') throw new RpcError('METHOD_NOT_ALLOWED', 405, 'RPCs use POST');
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== CBOR_CONTENT_TYPE) throw new RpcError('UNSUPPORTED_MEDIA_TYPE', 415, `content-type must be ${CBOR_CONTENT_TYPE}`);
      next();
    } catch (e) {
      next(e);
    }
  });
  // Raw body with a hard limit (the token's body hash is checked on these exact bytes).
  app.use((req: Request, res: Response, next: NextFunction) => {
    readBody(req, res, deps.config.maxBodyBytes).then((body) => {
      res.locals.body = body;
      next();
    }, next);
  });

  const route = (rpc: Rpc, path: string, handler: (body: unknown, log: Logger) => unknown | Promise<unknown>) => {
    app.post(path, async (req: Request, res: Response) => {
      res.locals.rpc = rpc;
      const raw = res.locals.body as Buffer;
      const claims = await deps.verifier.verify(req.headers.authorization, { path, body: raw });
      const log = deps.logger.child({ rpc, jti: claims.jti });
      const result = await handler(decodeCbor(raw), log);
      const out = encodeCbor(result);
      res.writeHead(200, { 'content-type': CBOR_CONTENT_TYPE, 'content-length': out.length }).end(out);
      deps.metrics[rpc === 'info' ? 'round1' : rpc].inc({ outcome: 'ok' });
      observe(res, 200);
    });
  };
  route('round1', RPC_PATHS.round1, (b) => handleRound1(deps, b));
  route('round2', RPC_PATHS.round2, (b, log) => handleRound2(deps, b, log));
  route('info', RPC_PATHS.info, (b) => handleInfo(deps, b));

  function observe(res: Response, status: number): void {
    const rpc = (res.locals.rpc as string | undefined) ?? 'unknown';
    const start = res.locals.start as bigint | undefined;
    if (start !== undefined) deps.metrics.rpcDuration.observe({ rpc, status: String(status) }, Number(process.hrtime.bigint() - start) / 1e9);
  }

  app.use((req: Request, res: Response) => {
    sendError(res, 404, 'NOT_FOUND', 'no such RPC');
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'internal error';
    const e = err as { type?: string; status?: number; code?: string; message?: string };
    if (err instanceof TransportError) {
      status = err.status;
      code = err.code;
      message = err.message;
    } else if (err instanceof FrostError) {
      status = 400;
      code = err.code;
      message = err.message;
    } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      code = 'BAD_REQUEST';
      message = 'malformed request';
    } else {
      deps.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unexpected error');
    }
    if (err instanceof AuthError) deps.metrics.authFailures.inc({ code });
    const rpc = res.locals.rpc as Rpc | undefined;
    if (rpc === 'round1' || rpc === 'round2') deps.metrics[rpc].inc({ outcome: code });
    if (status >= 400 && status < 500 && !(err instanceof BadRequestError)) {
      deps.logger.info({ rpc, code, status }, 'rpc refused');
    }
    observe(res, status);
    sendError(res, status, code, message);
  });
  return app;
}
