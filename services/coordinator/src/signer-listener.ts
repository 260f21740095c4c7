/**
 * The listener for signers that dial the coordinator (signer-dials mode: a signer behind NAT). It
 * speaks only the channel upgrade: the signer's client certificate is checked first — it must chain
 * to the signer CA and name, as its DNS SAN exactly, a signer registered as `id=inbound` — and the
 * connection then becomes that signer's channel, on which the coordinator sends RPCs as on one it
 * dialled. Everything else is refused with a JSON error of the signers' documented codes.
 * @module
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { CHANNEL_PATH, InboundChannels, checkSignerIdentity, type SignerClient, type SignerErrorCode } from '@hoarfrost/rpc';
import { mtlsServerOptions, type Logger } from '@hoarfrost/runtime';

/** A signer's accepted channel connection, as its client adopts it. */
type Connection = Parameters<SignerClient['adopt']>[0];

export interface SignerListenerOptions {
  /** The coordinator's server certificate and key (the API's), and the CA of the signers' certificates. */
  certPem: string;
  keyPem: string;
  signerCaPem: string;
  /** The ids of the signers that dial in, and where each connection goes. */
  adopt: ReadonlyMap<string, (ws: Connection) => void>;
  maxAnswerBytes: number;
  logger: Logger;
}

const REFUSAL_STATUS: Partial<Record<SignerErrorCode, number>> = { CLIENT_CERT_REQUIRED: 401, CLIENT_CERT_UNTRUSTED: 403, CLIENT_IDENTITY_NOT_ALLOWED: 403, NOT_FOUND: 404 };

export function createSignerListener(o: SignerListenerOptions): Server {
  const inbound = new InboundChannels({ maxAnswerBytes: o.maxAnswerBytes });
  const refusal = (code: SignerErrorCode, message: string) => ({ status: REFUSAL_STATUS[code] ?? 400, body: JSON.stringify({ error: { code, message } }) });

  /** The registered inbound signer the peer's certificate names, or the refusal. */
  function identify(socket: TLSSocket): { id: string } | { code: SignerErrorCode; message: string } {
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return { code: 'CLIENT_CERT_REQUIRED', message: 'a client certificate is required' };
    if (!socket.authorized) return { code: 'CLIENT_CERT_UNTRUSTED', message: 'client certificate is not issued by a trusted CA' };
    for (const id of o.adopt.keys()) if (checkSignerIdentity(id, cert) === undefined) return { id };
    return { code: 'CLIENT_IDENTITY_NOT_ALLOWED', message: 'the certificate names no signer that dials in' };
  }

  const server = createServer({ ...mtlsServerOptions({ certPem: o.certPem, keyPem: o.keyPem, caPem: o.signerCaPem }) }, (req: IncomingMessage, res: ServerResponse) => {
    const who = identify(req.socket as TLSSocket);
    const r = 'id' in who ? refusal('NOT_FOUND', 'this listener takes channel upgrades only') : refusal(who.code, who.message);
    res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(r.body);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const who = identify(socket as TLSSocket);
    if (!('id' in who) || (req.url ?? '').split('?')[0] !== CHANNEL_PATH) {
      const r = 'id' in who ? refusal('NOT_FOUND', 'no such upgrade') : refusal(who.code, who.message);
      if (!('id' in who)) o.logger.warn({ code: who.code }, 'signer connection refused');
      return void socket.end(`HTTP/1.1 ${r.status} Refused\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`);
    }
    const adopt = o.adopt.get(who.id)!;
    inbound.upgrade(req, socket, head, (ws) => {
      o.logger.info({ signer: who.id }, 'signer connected');
      adopt(ws);
    });
  });
  server.on('tlsClientError', (err) => o.logger.debug({ err: err.message }, 'signer tls handshake failed'));
  return server;
}
