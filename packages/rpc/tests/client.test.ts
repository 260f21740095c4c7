import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCertificateAuthority, type CertificatePair } from '../../testkit/src/pki.js';
import { decodeCbor, encodeCbor } from '../src/cbor.js';
import { InvalidArgumentError, SignerCallError } from '../src/errors.js';
import { SignerClient } from '../src/client.js';
import { RPC_PATHS, type Round2Request } from '../src/protocol.js';
import { RpcTokenSigner, RpcTokenVerifier, publicJwk } from '../src/tokens.js';

// A throwaway PKI: the client trusts `ca`; `foreignCa` signs a server certificate it must not trust.
let ca: { certPem: string };
let signer1: CertificatePair; // server certificate naming signer-1
let signer2: CertificatePair; // same CA, names signer-2
let foreign: CertificatePair; // names signer-1, issued by another CA
let client: CertificatePair; // the coordinator's client certificate

const { privateKey } = generateKeyPairSync('ed25519');
const jwks = { keys: [publicJwk(privateKey, 'k1')] };
const tokens = new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coordinator' });

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  clientSans: string | undefined;
}
type Handler = (req: Received, res: ServerResponse) => void;

interface FakeSigner {
  port: number;
  received: Received[];
  answer: Handler;
  server: Server;
}

/** An in-process mTLS server on 127.0.0.1:0 that answers with whatever `answer` currently does. */
async function startSigner(pair: CertificatePair, caPem: string): Promise<FakeSigner> {
  const fake = { received: [] as Received[], answer: ((_r, res) => res.end()) as Handler } as FakeSigner;
  fake.server = createServer({ cert: pair.certPem, key: pair.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
        clientSans: (req.socket as TLSSocket).getPeerCertificate().subjectaltname,
      };
      fake.received.push(r);
      fake.answer(r, res);
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  return fake;
}

async function stop(fake: FakeSigner): Promise<void> {
  fake.server.closeAllConnections();
  await new Promise<void>((resolve) => fake.server.close(() => resolve()));
}

const cbor = (res: ServerResponse, value: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/cbor' }).end(encodeCbor(value));
};
const json = (res: ServerResponse, value: unknown, status: number) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

const b32 = (fill: number) => new Uint8Array(32).fill(fill);
const round1Answer = { identifier: b32(1), commitments: [{ hiding: b32(2), binding: b32(3) }], ttl_ms: 60_000 };

let main: FakeSigner;
const clients: SignerClient[] = [];

function newClient(options: { id?: string; port?: number; timeoutMs?: number } = {}): SignerClient {
  const c = new SignerClient({
    id: options.id ?? 'signer-1',
    url: `https://127.0.0.1:${options.port ?? main.port}`,
    caPem: ca.certPem,
    certPem: client.certPem,
    keyPem: client.keyPem,
    tokens,
    timeoutMs: options.timeoutMs ?? 5000,
    connections: 2,
  });
  clients.push(c);
  return c;
}

/** The SignerCallError a call rejects with. */
async function callError(p: Promise<unknown>): Promise<SignerCallError> {
  const e = await p.then(
    () => {
      throw new Error('expected the call to fail, it succeeded');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SignerCallError);
  return e as SignerCallError;
}

beforeAll(async () => {
  const authority = await createCertificateAuthority('test signers CA');
  const other = await createCertificateAuthority('someone else');
  ca = authority;
  signer1 = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server'] });
  signer2 = await authority.issue({ commonName: 'signer-2', dnsNames: ['signer-2'], usages: ['server'] });
  foreign = await other.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server'] });
  client = await authority.issue({ commonName: 'coordinator', dnsNames: ['coordinator'], usages: ['client'] });
  main = await startSigner(signer1, ca.certPem);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  main.received.length = 0;
  main.answer = (_r, res) => res.end();
});

afterAll(async () => {
  await stop(main);
});

describe('SignerClient: requests', () => {
  it('parses a 200 CBOR answer into the response shape', async () => {
    main.answer = (_r, res) => cbor(res, round1Answer);
    const r = await newClient().round1({ key_id: 'default', count: 1 });
    expect(r).toEqual(round1Answer);
  });

  it('POSTs the CBOR request to the RPC path over mutual TLS, presenting the client certificate', async () => {
    main.answer = (_r, res) => cbor(res, round1Answer);
    await newClient().round1({ key_id: 'default', count: 3 });
    const [req] = main.received;
    expect(req).toBeDefined();
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe(RPC_PATHS.round1);
    expect(req!.headers['content-type']).toBe('application/cbor');
    expect(req!.headers.accept).toBe('application/cbor');
    expect(decodeCbor(req!.body)).toEqual({ key_id: 'default', count: 3 });
    expect(req!.clientSans).toBe('DNS:coordinator');
  });

  it('sends a Bearer token that RpcTokenVerifier accepts for that path and exact body, with aud = the client id', async () => {
    main.answer = (_r, res) => cbor(res, { identifier: b32(1), share: b32(4) });
    const round2: Round2Request = { key_id: 'default', message: new Uint8Array([1, 2, 3]), commitments: [{ identifier: b32(1), hiding: b32(2), binding: b32(3) }] };
    await newClient().round2(round2);
    const [req] = main.received;
    const verifier = new RpcTokenVerifier({ jwks, issuer: 'coordinator', audience: 'signer-1' });
    const claims = verifier.verify(req!.headers.authorization, { path: RPC_PATHS.round2, body: req!.body });
    expect(claims.aud).toBe('signer-1');
    // The token is bound to this request only: another body, another path or another audience fail.
    const fresh = () => new RpcTokenVerifier({ jwks, issuer: 'coordinator', audience: 'signer-1' });
    expect(() => fresh().verify(req!.headers.authorization, { path: RPC_PATHS.round2, body: Buffer.concat([req!.body, Buffer.from([0])]) })).toThrow(
      expect.objectContaining({ code: 'TOKEN_BODY_MISMATCH' }),
    );
    expect(() => fresh().verify(req!.headers.authorization, { path: RPC_PATHS.round1, body: req!.body })).toThrow(expect.objectContaining({ code: 'TOKEN_PATH_MISMATCH' }));
    expect(() => new RpcTokenVerifier({ jwks, issuer: 'coordinator', audience: 'signer-2' }).verify(req!.headers.authorization, { path: RPC_PATHS.round2, body: req!.body })).toThrow(
      expect.objectContaining({ code: 'TOKEN_WRONG_AUDIENCE' }),
    );
  });

  it('mints a fresh token per call', async () => {
    main.answer = (_r, res) => cbor(res, round1Answer);
    const c = newClient();
    await c.round1({ key_id: 'default', count: 1 });
    await c.round1({ key_id: 'default', count: 1 });
    const [a, b] = main.received;
    expect(a!.headers.authorization).not.toBe(b!.headers.authorization);
  });

  it('info sends {} or {key_id} and parses the info response', async () => {
    const info = { identifier: b32(1), keys: [{ key_id: 'default', verifying_share: b32(2), verifying_key: b32(3), min_signers: 2 }] };
    main.answer = (_r, res) => cbor(res, info);
    const c = newClient();
    expect(await c.info()).toEqual(info);
    expect(await c.info('default')).toEqual(info);
    expect(main.received.map((r) => [r.path, decodeCbor(r.body)])).toEqual([
      [RPC_PATHS.info, {}],
      [RPC_PATHS.info, { key_id: 'default' }],
    ]);
  });

  it('round2 parses the share and the group commitment hint', async () => {
    main.answer = (_r, res) => cbor(res, { identifier: b32(1), share: b32(4), group_commitment: b32(5) });
    const r = await newClient().round2({ key_id: 'k', message: new Uint8Array(0), commitments: [{ identifier: b32(1), hiding: b32(2), binding: b32(3) }] });
    expect(r).toEqual({ identifier: b32(1), share: b32(4), group_commitment: b32(5) });
  });
});

describe('SignerClient: error answers', () => {
  it('a JSON error with a documented code becomes SignerCallError with that code', async () => {
    main.answer = (_r, res) => json(res, { error: { code: 'COMMITMENT_ALREADY_USED', message: 'nonce spent' } }, 409);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('COMMITMENT_ALREADY_USED');
    expect(e.signer).toBe('signer-1');
    expect(e.message).toContain('nonce spent');
  });

  it.each([
    ['an undocumented code', { error: { code: 'EVIL_CODE', message: 'x' } }],
    ['a code inherited from Object.prototype', { error: { code: 'toString', message: 'x' } }],
    ['a client-side failure code', { error: { code: 'SIGNER_TIMEOUT', message: 'x' } }],
    ['a non-string code', { error: { code: ['INTERNAL'], message: 'x' } }],
    ['no error member', { oops: true }],
    ['JSON null', null],
  ])('%s becomes SIGNER_ERROR', async (_what, payload) => {
    main.answer = (_r, res) => json(res, payload, 500);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_ERROR');
    // Nothing the signer wrote as a code reaches the error's code or message.
    expect(e.message).not.toContain('EVIL_CODE');
  });

  it('a non-JSON error body becomes SIGNER_ERROR with the status in the message', async () => {
    main.answer = (_r, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway INTERNAL</html>');
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_ERROR');
    expect(e.message).toContain('status 502');
    expect(e.message).not.toContain('<html>');
  });

  it('truncates a long signer message to 200 characters', async () => {
    main.answer = (_r, res) => json(res, { error: { code: 'INTERNAL', message: 'm'.repeat(5000) } }, 500);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toContain('m'.repeat(200));
    expect(e.message).not.toContain('m'.repeat(201));
  });

  it.each([
    ['JSON instead of CBOR', (res: ServerResponse) => json(res, round1Answer, 200)],
    ['an empty body', (res: ServerResponse) => res.writeHead(200).end()],
    ['two CBOR items', (res: ServerResponse) => res.writeHead(200).end(Buffer.concat([encodeCbor(round1Answer), encodeCbor(1)]))],
    ['CBOR of another shape', (res: ServerResponse) => cbor(res, { identifier: b32(1), share: b32(2) })],
    ['CBOR with an extra field', (res: ServerResponse) => cbor(res, { ...round1Answer, extra: 1 })],
    ['CBOR with a short identifier', (res: ServerResponse) => cbor(res, { ...round1Answer, identifier: new Uint8Array(31) })],
  ])('a 200 with %s → SIGNER_BAD_RESPONSE', async (_what, answer) => {
    main.answer = (_r, res) => answer(res);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
  });
});

describe('SignerClient: transport failures', () => {
  it("pins the signer's identity: a certificate from the same CA naming another signer → SIGNER_UNREACHABLE", async () => {
    const impostor = await startSigner(signer2, ca.certPem);
    try {
      impostor.answer = (_r, res) => cbor(res, round1Answer);
      const e = await callError(newClient({ id: 'signer-1', port: impostor.port }).round1({ key_id: 'default', count: 1 }));
      expect(e.code).toBe('SIGNER_UNREACHABLE');
      expect(impostor.received).toHaveLength(0);
      // Control: the same server is fine for a client that expects signer-2.
      expect(await newClient({ id: 'signer-2', port: impostor.port }).round1({ key_id: 'default', count: 1 })).toEqual(round1Answer);
    } finally {
      await stop(impostor);
    }
  });

  it('a server certificate from an untrusted CA → SIGNER_UNREACHABLE', async () => {
    const untrusted = await startSigner(foreign, ca.certPem);
    try {
      untrusted.answer = (_r, res) => cbor(res, round1Answer);
      const e = await callError(newClient({ port: untrusted.port }).round1({ key_id: 'default', count: 1 }));
      expect(e.code).toBe('SIGNER_UNREACHABLE');
      expect(untrusted.received).toHaveLength(0);
    } finally {
      await stop(untrusted);
    }
  });

  it('nobody listening → SIGNER_UNREACHABLE', async () => {
    // A port that was just free: bind, note it, close.
    const probe = await startSigner(signer1, ca.certPem);
    const port = probe.port;
    await stop(probe);
    const e = await callError(newClient({ port }).round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_UNREACHABLE');
  });

  it("a server that never answers → SIGNER_TIMEOUT within the caller's short AbortSignal", async () => {
    main.answer = () => {
      /* never answers */
    };
    const started = Date.now();
    const e = await callError(newClient({ timeoutMs: 10_000 }).round1({ key_id: 'default', count: 1 }, AbortSignal.timeout(150)));
    expect(e.code).toBe('SIGNER_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
    main.server.closeAllConnections();
  });

  it("undici's own headers timeout (the client's timeoutMs, shorter than the caller's signal) → SIGNER_TIMEOUT, not SIGNER_UNREACHABLE", async () => {
    main.answer = () => {
      /* never answers */
    };
    const e = await callError(newClient({ timeoutMs: 150 }).round1({ key_id: 'default', count: 1 }, AbortSignal.timeout(10_000)));
    expect(e.code).toBe('SIGNER_TIMEOUT');
    main.server.closeAllConnections();
  });

  it('a caller that aborts the call → SIGNER_TIMEOUT (the call was given up, not refused)', async () => {
    main.answer = () => {
      /* never answers */
    };
    const controller = new AbortController();
    const call = newClient().round1({ key_id: 'default', count: 1 }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect((await callError(call)).code).toBe('SIGNER_TIMEOUT');
    main.server.closeAllConnections();
  });

  it('a closed client refuses further calls with a SignerCallError', async () => {
    const c = newClient();
    clients.pop(); // closed here, not by afterEach
    await c.close();
    const e = await callError(c.round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_UNREACHABLE');
  });
});

describe('SignerClient: construction', () => {
  const base = () => ({ id: 'signer-1', url: 'https://signer-1:7443', caPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem, tokens });

  it.each([
    ['an http URL', { url: 'http://signer-1:7443' }],
    ['a URL of another scheme', { url: 'ftp://signer-1' }],
    ['something that is not a URL', { url: 'not a url' }],
    ['an empty string', { url: '' }],
    ['an empty id', { id: '' }],
  ])('refuses %s with InvalidArgumentError', (_what, override) => {
    expect(() => new SignerClient({ ...base(), ...override })).toThrow(InvalidArgumentError);
  });

  it('keeps the id and the origin of the URL', async () => {
    const c = new SignerClient({ ...base(), url: 'https://signer-1.frost-signers:7443/' });
    clients.push(c);
    expect(c.id).toBe('signer-1');
    expect(c.url).toBe('https://signer-1.frost-signers:7443');
  });
});
