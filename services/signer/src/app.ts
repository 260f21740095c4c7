/**
 * The signer's RPC application, served only over mutual TLS, in two forms that share one dispatcher:
 * plain HTTP/1.1 requests, and the persistent channel (a WebSocket upgrade at CHANNEL_PATH whose
 * frames carry the same RPCs, paths and tokens; @hoarfrost/rpc frames.ts).
 *
 * Order of checks on every RPC: client certificate → draining → bearer token present → raw body
 * (size- and time-limited; a channel frame arrives whole) → token signature, claims and body hash →
 * CBOR decode → shape → round handler (rounds.ts) or key-generation step (keygen.ts; DKG_UNAVAILABLE
 * on a signer without one). Nothing is parsed before the caller is
 * authenticated, and nothing (not even that the signer is shutting down) is told to a client whose
 * certificate is not allowed. A channel is authenticated by its client certificate once, at the
 * upgrade (TLS 1.3: a connection's peer cannot change); each of its frames then goes through the
 * rest of the order. Every refusal is one of the documented wire codes (errors.ts).
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  CBOR_CONTENT_TYPE,
  CHANNEL_PATH,
  ChannelServer,
  KEYGEN_PATHS,
  RPC_PATHS,
  SIGNER_ERROR_CODES,
  decodeCbor,
  encodeCbor,
  type ChannelAnswer,
  type RequestFrame,
  type RpcClaims,
  type RpcTokenVerifier,
  type SignerErrorBody,
} from '@hoarfrost/rpc';
import { assertClientIdentity, readBody, type Logger } from '@hoarfrost/runtime';
import type { SignerConfig } from './config.js';
import { SignerError, toWireRefusal, type WireRefusal } from './errors.js';
import type { SignerMetrics } from './metrics.js';
import type { KeygenParticipant } from './keygen.js';
import { handleInfo, handleRound1, handleRound2, handleRound2Batch, type RoundsDeps } from './rounds.js';

export interface SignerAppDeps extends RoundsDeps {
  config: Readonly<SignerConfig>;
  verifier: RpcTokenVerifier;
  metrics: SignerMetrics;
  logger: Logger;
  isDraining: () => boolean;
  /** Key generation (keygen.ts): absent without a sealed key store, and its RPCs answer DKG_UNAVAILABLE. */
  keygen?: KeygenParticipant;
}

/** Every RPC of the signer: signing, and key generation (KEYGEN_PATHS), all behind the same checks. */
const PATHS = { ...RPC_PATHS, ...KEYGEN_PATHS } as const;
type Rpc = keyof typeof PATHS;
type KeygenRpc = keyof typeof KEYGEN_PATHS;
const RPC_OF_PATH = new Map<string, Rpc>(Object.entries(PATHS).map(([rpc, path]) => [path, rpc as Rpc]));
/** The `rpc` label of each RPC in the duration histogram. */
const RPC_LABEL: Record<Rpc, string> = {
  round1: 'round1',
  round2: 'round2',
  round2Batch: 'round2_batch',
  info: 'info',
  keygenBegin: 'keygen_begin',
  keygenEcho: 'keygen_echo',
  keygenDeal: 'keygen_deal',
  keygenFinish: 'keygen_finish',
  keygenConfirm: 'keygen_confirm',
  keygenSign: 'keygen_sign',
  keygenActivate: 'keygen_activate',
  keygenAbort: 'keygen_abort',
  keyRetire: 'key_retire',
  keyRemove: 'key_remove',
};

export interface SignerApp {
  /** An HTTP/1.1 RPC. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** An upgrade request: the channel, after the same first checks as any RPC. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves both forms on `server`. */
  attach(server: Server): void;
  /** Channel connections: accepted ones, and the one to the coordinator in signer-dials mode (`dial`); closed at shutdown. */
  readonly channels: ChannelServer;
}

/** The answer to an RPC: a status and its body. */
interface Answer {
  status: number;
  body: Uint8Array;
  json: boolean;
}

export function createSignerApp(deps: SignerAppDeps): SignerApp {
  const { metrics, config } = deps;

  /** A key-generation RPC: its step on the participant, or DKG_UNAVAILABLE on a signer without a store. */
  const keygen = (rpc: KeygenRpc) => (body: unknown) => {
    if (!deps.keygen) throw new SignerError('DKG_UNAVAILABLE', 'this signer has no sealed key store: it takes no part in key generation');
    return deps.keygen.handle(rpc, body);
  };
  const handlers: Record<Rpc, (body: unknown, log: Logger, claims: RpcClaims) => unknown> = {
    round1: (b) => handleRound1(deps, b),
    round2: (b, log, claims) => handleRound2(deps, b, log, { iss: claims.iss, jti: claims.jti }),
    round2Batch: (b, log, claims) => handleRound2Batch(deps, b, log, { iss: claims.iss, jti: claims.jti }),
    info: (b) => handleInfo(deps, b),
    keygenBegin: keygen('keygenBegin'),
    keygenEcho: keygen('keygenEcho'),
    keygenDeal: keygen('keygenDeal'),
    keygenFinish: keygen('keygenFinish'),
    keygenConfirm: keygen('keygenConfirm'),
    keygenSign: keygen('keygenSign'),
    keygenActivate: keygen('keygenActivate'),
    keygenAbort: keygen('keygenAbort'),
    keyRetire: keygen('keyRetire'),
    keyRemove: keygen('keyRemove'),
  };

  /** Token, decode, handler: the part of every RPC after its body has arrived. */
  async function dispatch(rpc: Rpc | undefined, authorization: string, body: Uint8Array): Promise<Answer> {
    if (!rpc) throw new SignerError('NOT_FOUND', 'no such RPC');
    const claims = deps.verifier.verify(authorization, { path: PATHS[rpc], body });
    const log = deps.logger.child({ rpc, jti: claims.jti });
    const result = await handlers[rpc](decodeCbor(body), log, claims);
    // A batch counts each of its requests itself (rounds.ts); a refused batch counts once below.
    if (rpc === 'round1' || rpc === 'round2') metrics[rpc].inc({ outcome: 'ok' });
    return { status: 200, body: encodeCbor(result), json: false };
  }

  /** The refusal of an RPC: counted, logged when worth it, and its documented error body. */
  function refuse(err: unknown, rpc: Rpc | undefined): Answer {
    const refusal: WireRefusal = toWireRefusal(err);
    if (refusal.unexpected) deps.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unexpected error');
    if (rpc === 'round1') metrics.round1.inc({ outcome: refusal.code });
    else if (rpc === 'round2' || rpc === 'round2Batch') metrics.round2.inc({ outcome: refusal.code });
    const kind = SIGNER_ERROR_CODES[refusal.code];
    if (kind === 'auth') metrics.authFailures.inc({ code: refusal.code });
    // Malformed requests are counted by the duration histogram; a log line each would let anyone flood the log.
    if (kind !== 'request' && kind !== 'internal') deps.logger.info({ rpc, code: refusal.code, status: refusal.status }, 'rpc refused');
    const body: SignerErrorBody = { error: { code: refusal.code, message: refusal.message } };
    return { status: refusal.status, body: Buffer.from(JSON.stringify(body)), json: true };
  }

  function observe(rpc: Rpc | undefined, status: number, started: bigint): void {
    metrics.rpcDuration.observe({ rpc: rpc ? RPC_LABEL[rpc] : 'unknown', status: String(status) }, Number(process.hrtime.bigint() - started) / 1e9);
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    // Known from the path before any check, so that every refusal of an RPC counts in its outcomes.
    const path = pathOf(req.url);
    const rpc = RPC_OF_PATH.get(path);
    const send = (a: Answer) => {
      observe(rpc, a.status, started);
      res.writeHead(a.status, { 'content-type': a.json ? 'application/json; charset=utf-8' : CBOR_CONTENT_TYPE, 'content-length': a.body.length }).end(a.body);
    };
    try {
      assertClientIdentity(req.socket as TLSSocket, config.allowedClientSans);
      if (deps.isDraining()) throw new SignerError('SHUTTING_DOWN', 'signer is shutting down');
      const authorization = req.headers.authorization;
      if (!authorization) throw new SignerError('TOKEN_MISSING', 'Authorization: Bearer token required');
      if (req.method !== 'POST') throw new SignerError('METHOD_NOT_ALLOWED', path === CHANNEL_PATH ? 'the channel is a WebSocket: send an upgrade request' : 'RPCs use POST');
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== CBOR_CONTENT_TYPE) throw new SignerError('UNSUPPORTED_MEDIA_TYPE', `content-type must be ${CBOR_CONTENT_TYPE}`);
      // Raw body with a hard limit (the token's body hash is checked on these exact bytes).
      readBody(req, res, config.maxBodyBytes, { timeoutMs: config.bodyTimeoutMs })
        .then((body) => dispatch(rpc, authorization, body))
        .then(send, (e: unknown) => send(refuse(e, rpc)));
    } catch (e) {
      send(refuse(e, rpc));
    }
  }

  /** One request frame of a channel: the rest of the order, from draining on. */
  async function handleFrame(frame: RequestFrame): Promise<ChannelAnswer> {
    const started = process.hrtime.bigint();
    const rpc = RPC_OF_PATH.get(frame.path);
    let answer: Answer;
    try {
      if (deps.isDraining()) throw new SignerError('SHUTTING_DOWN', 'signer is shutting down');
      if (!frame.authorization) throw new SignerError('TOKEN_MISSING', 'Authorization: Bearer token required');
      if (frame.body.length > config.maxBodyBytes) throw new SignerError('PAYLOAD_TOO_LARGE', `body exceeds ${config.maxBodyBytes} bytes`);
      answer = await dispatch(rpc, frame.authorization, frame.body);
    } catch (e) {
      answer = refuse(e, rpc);
    }
    observe(rpc, answer.status, started);
    return answer;
  }

  const channels = new ChannelServer({
    maxRequestBytes: config.maxBodyBytes,
    handle: handleFrame,
    onProtocolError: (reason) => deps.logger.debug({ reason }, 'channel closed: protocol error'),
  });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = process.hrtime.bigint();
    socket.on('error', () => undefined);
    try {
      assertClientIdentity(socket as TLSSocket, config.allowedClientSans);
      if (deps.isDraining()) throw new SignerError('SHUTTING_DOWN', 'signer is shutting down');
      if (pathOf(req.url) !== CHANNEL_PATH || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw new SignerError('NOT_FOUND', 'no such upgrade');
    } catch (e) {
      const a = refuse(e, undefined);
      observe(undefined, a.status, started);
      return void socket.end(`HTTP/1.1 ${a.status} Refused\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${a.body.length}\r\nconnection: close\r\n\r\n${Buffer.from(a.body).toString('utf8')}`);
    }
    channels.upgrade(req, socket, head);
  }

  return {
    handleRequest,
    handleUpgrade,
    attach(server) {
      server.on('request', handleRequest);
      server.on('upgrade', handleUpgrade);
    },
    channels,
  };
}

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}
