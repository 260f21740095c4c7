import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCertificateAuthority, type CertificateAuthority, type CertificatePair } from '../../testkit/src/pki.js';
import { decodeCbor, encodeCbor } from '../src/cbor.js';
import { InvalidArgumentError, SignerCallError } from '../src/errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, SignerClient, checkSignerIdentity, subjectAltNames } from '../src/client.js';
import { RPC_PATHS, type Round2Request } from '../src/protocol.js';
import { RpcTokenSigner, RpcTokenVerifier, publicJwk } from '../src/tokens.js';

// A throwaway PKI: the client trusts `ca`; `foreignCa` signs a server certificate it must not trust.
let ca: { certPem: string };
let signer1: CertificatePair; // server certificate naming signer-1
let signer2: CertificatePair; // same CA, names signer-2
let foreign: CertificatePair; // names signer-1, issued by another CA
let client: CertificatePair; // the coordinator's client certificate
let authority: CertificateAuthority; // issues the identity tests' server certificates

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

/** A client of the HTTP/1.1 transport (what these tests exercise; the channel has channel.test.ts). */
function newClient(options: { id?: string; port?: number; timeoutMs?: number; connections?: number; maxResponseBytes?: number } = {}): SignerClient {
  const c = new SignerClient({
    transport: 'http1',
    id: options.id ?? 'signer-1',
    url: `https://127.0.0.1:${options.port ?? main.port}`,
    caPem: ca.certPem,
    certPem: client.certPem,
    keyPem: client.keyPem,
    tokens,
    timeoutMs: options.timeoutMs ?? 5000,
    connections: options.connections ?? 2,
    ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
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
  authority = await createCertificateAuthority('test signers CA');
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

  it("strips control and other non-printable characters from a signer's message", async () => {
    const hostile = '\u001b[31mred\nline\r\u202eevil\u200b\u0000\u0085end\u2028' + '\u0007'.repeat(5000) + 'x';
    main.answer = (_r, res) => json(res, { error: { code: 'INTERNAL', message: hostile } }, 500);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toContain('red line evil end');
    expect(e.message).not.toMatch(/[\p{C}\p{Zl}\p{Zp}]/u);
    const text = e.message.slice(e.message.indexOf(': ') + 2);
    expect(text.length).toBeLessThanOrEqual(200);
  });

  it('keeps at most 200 characters of a message and never half of a surrogate pair', async () => {
    main.answer = (_r, res) => json(res, { error: { code: 'INTERNAL', message: 'a' + '❄️🧊'.repeat(300) } }, 500);
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    const text = e.message.slice(e.message.indexOf(': ') + 2);
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(text.startsWith('a❄')).toBe(true);
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

  it('a field name the signer chose reaches the message sanitized and bounded', async () => {
    main.answer = (_r, res) => cbor(res, { ...round1Answer, ['\u001b[2J\nevil\u202e' + 'k'.repeat(300)]: 1 });
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
    expect(e.message).toMatch(/unknown field/);
    expect(e.message).not.toMatch(/[\p{C}\p{Zl}\p{Zp}]/u);
  });

  it('a round-1 answer with more commitments than asked → SIGNER_BAD_RESPONSE (the asked count bounds the list)', async () => {
    const commitments = Array.from({ length: 5 }, () => ({ hiding: b32(2), binding: b32(3) }));
    main.answer = (_r, res) => cbor(res, { ...round1Answer, commitments });
    const e = await callError(newClient().round1({ key_id: 'default', count: 2 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
    expect(e.message).toMatch(/commitments must be an array of 1\.\.2 entries/);
    // Control: exactly the count asked is an answer.
    expect((await newClient().round1({ key_id: 'default', count: 5 })).commitments).toHaveLength(5);
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
    const signal = AbortSignal.timeout(150);
    const e = await callError(newClient({ timeoutMs: 10_000 }).round1({ key_id: 'default', count: 1 }, signal));
    expect(e.code).toBe('SIGNER_TIMEOUT');
    expect(e.cause).toBe(signal.reason);
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
    ['a zero timeout', { timeoutMs: 0 }],
    ['a fractional timeout', { timeoutMs: 1.5 }],
    ['zero connections', { connections: 0 }],
    ['a response cap below 1 KiB', { maxResponseBytes: 100 }],
    ['a response cap above 64 MiB', { maxResponseBytes: 65 * 1024 * 1024 }],
    ['a fractional response cap', { maxResponseBytes: 4096.5 }],
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

/** A round-1 answer with `n` commitments. */
const round1Of = (n: number) => ({ ...round1Answer, commitments: Array.from({ length: n }, () => ({ hiding: b32(2), binding: b32(3) })) });

/**
 * Streams `head` then filler bytes up to `size` bytes in all (declared in content-length), respecting
 * back-pressure. Resolves true when the whole body was flushed, false when the client cut it short.
 */
function streamAnswer(res: ServerResponse, status: number, contentType: string, size: number, head: Buffer, tail: Buffer, fill = 0x6d): Promise<boolean> {
  const flushed = new Promise<boolean>((resolve) => {
    res.on('finish', () => resolve(true));
    res.on('close', () => resolve(res.writableFinished));
  });
  res.on('error', () => undefined);
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(size) });
  const chunk = Buffer.alloc(64 * 1024, fill);
  let left = size - head.length - tail.length;
  res.write(head);
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end(tail);
  };
  pump();
  return flushed;
}

describe('SignerClient: response size cap', () => {
  const TEN_MB = 10 * 1024 * 1024;

  it('a 10 MB 200 answer → SIGNER_BAD_RESPONSE, and the client stops reading it', async () => {
    let flushed: Promise<boolean> | undefined;
    main.answer = (_r, res) => {
      flushed = streamAnswer(res, 200, 'application/cbor', TEN_MB, Buffer.alloc(0), Buffer.alloc(0));
    };
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
    expect(e.message).toMatch(/exceeds the response size limit/);
    expect(await flushed).toBe(false);
  });

  it('a 10 MB error answer (a documented code and a huge message) is capped too → SIGNER_BAD_RESPONSE', async () => {
    let flushed: Promise<boolean> | undefined;
    main.answer = (_r, res) => {
      flushed = streamAnswer(res, 500, 'application/json', TEN_MB, Buffer.from('{"error":{"code":"INTERNAL","message":"'), Buffer.from('"}}'));
    };
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
    expect(await flushed).toBe(false);
  });

  it(`the default cap (${DEFAULT_MAX_RESPONSE_BYTES} bytes) holds a round-1 answer for the largest batch, 1,000 commitments`, async () => {
    const largest = round1Of(1000);
    expect(encodeCbor(largest).length).toBeGreaterThan(64 * 1024);
    expect(encodeCbor(largest).length).toBeLessThan(DEFAULT_MAX_RESPONSE_BYTES);
    main.answer = (_r, res) => cbor(res, largest);
    expect((await newClient().round1({ key_id: 'default', count: 1000 })).commitments).toHaveLength(1000);
  });

  it('maxResponseBytes sets the cap: an answer one byte over it is refused, one at it accepted', async () => {
    const answer = encodeCbor(round1Of(30));
    main.answer = (_r, res) => res.writeHead(200, { 'content-type': 'application/cbor' }).end(answer);
    expect((await newClient({ maxResponseBytes: answer.length }).round1({ key_id: 'default', count: 30 })).commitments).toHaveLength(30);
    const e = await callError(newClient({ maxResponseBytes: answer.length - 1 }).round1({ key_id: 'default', count: 30 }));
    expect(e.code).toBe('SIGNER_BAD_RESPONSE');
  });
});

describe('SignerClient: the signal bounds every call', () => {
  /** A TCP server that accepts connections and never sends a byte (no TLS handshake): a stalled signer. */
  async function startStalled(): Promise<{ port: number; sockets: Set<Socket>; stop(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      sockets,
      async stop() {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('a peer that accepts TCP and never completes TLS → SIGNER_TIMEOUT at the signal, its reason as the cause', async () => {
    const stalled = await startStalled();
    try {
      // undici's own timeouts (10 s) are far beyond the signal's 200 ms.
      const c = newClient({ port: stalled.port, timeoutMs: 10_000 });
      const signal = AbortSignal.timeout(200);
      const started = Date.now();
      const e = await callError(c.round1({ key_id: 'default', count: 1 }, signal));
      expect(Date.now() - started).toBeLessThan(1000);
      expect(e.code).toBe('SIGNER_TIMEOUT');
      expect(e.cause).toBe(signal.reason);
      expect(stalled.sockets.size).toBeGreaterThan(0); // it did connect: the stall is the handshake
    } finally {
      // The abandoned request now fails in undici (connection reset): handled, and close() is not held.
      await stalled.stop();
    }
  });

  it("the caller's own abort reason travels as the cause (how a coordinator tells its deadline from a per-call timeout)", async () => {
    const stalled = await startStalled();
    try {
      const controller = new AbortController();
      const reason = new Error('deadline reached');
      setTimeout(() => controller.abort(reason), 100);
      const e = await callError(newClient({ port: stalled.port, timeoutMs: 10_000 }).info('default', controller.signal));
      expect(e.code).toBe('SIGNER_TIMEOUT');
      expect(e.cause).toBe(reason);
      expect(e.message).toContain('deadline reached');
    } finally {
      await stalled.stop();
    }
  });

  it('a call queued behind a stalled one (every connection busy) → SIGNER_TIMEOUT at its own signal', async () => {
    main.answer = () => {
      /* never answers: the one connection stays busy */
    };
    const c = newClient({ connections: 1, timeoutMs: 10_000 });
    const first = callError(c.round1({ key_id: 'default', count: 1 }, AbortSignal.timeout(5000)));
    await new Promise((r) => setTimeout(r, 50));
    const signal = AbortSignal.timeout(200);
    const started = Date.now();
    const e = await callError(c.round1({ key_id: 'default', count: 1 }, signal));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e.code).toBe('SIGNER_TIMEOUT');
    expect(e.cause).toBe(signal.reason);
    main.server.closeAllConnections();
    await first;
  });

  it('a signal aborted before the call → SIGNER_TIMEOUT without sending anything', async () => {
    main.answer = (_r, res) => cbor(res, round1Answer);
    const controller = new AbortController();
    controller.abort(new Error('already over'));
    const e = await callError(newClient().round1({ key_id: 'default', count: 1 }, controller.signal));
    expect(e.code).toBe('SIGNER_TIMEOUT');
    expect(e.cause).toBe(controller.signal.reason);
    expect(main.received).toHaveLength(0);
  });

  it('connecting is bounded by the client timeout even when the caller allows longer → SIGNER_TIMEOUT', async () => {
    const stalled = await startStalled();
    try {
      const started = Date.now();
      const e = await callError(newClient({ port: stalled.port, timeoutMs: 300 }).round1({ key_id: 'default', count: 1 }, AbortSignal.timeout(30_000)));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(e.code).toBe('SIGNER_TIMEOUT');
    } finally {
      await stalled.stop();
    }
  });
});

describe('SignerClient: server identity pinned to DNS:<signer id> exactly', () => {
  /** Starts a signer with a certificate from the trusted CA with these names; runs `fn`; stops it. */
  async function withSigner(names: { commonName: string; dnsNames?: string[]; ipAddresses?: string[] }, fn: (s: FakeSigner) => Promise<void>): Promise<void> {
    const pair = await authority.issue({ ...names, usages: ['server'] });
    const s = await startSigner(pair, ca.certPem);
    s.answer = (_r, res) => cbor(res, round1Answer);
    try {
      await fn(s);
    } finally {
      await stop(s);
    }
  }

  it('a wildcard SAN does not stand for the signer → SIGNER_UNREACHABLE, nothing sent', async () => {
    await withSigner({ commonName: 'signer-1.frost-signers', dnsNames: ['*.frost-signers'] }, async (s) => {
      const e = await callError(newClient({ id: 'signer-1.frost-signers', port: s.port }).round1({ key_id: 'default', count: 1 }));
      expect(e.code).toBe('SIGNER_UNREACHABLE');
      expect(e.message).toMatch(/does not name signer "signer-1.frost-signers"/);
      expect(s.received).toHaveLength(0);
    });
  });

  it('the subject CN is never consulted: a certificate naming the signer only in its CN → SIGNER_UNREACHABLE', async () => {
    await withSigner({ commonName: 'signer-1', dnsNames: [] }, async (s) => {
      const e = await callError(newClient({ id: 'signer-1', port: s.port }).round1({ key_id: 'default', count: 1 }));
      expect(e.code).toBe('SIGNER_UNREACHABLE');
      expect(s.received).toHaveLength(0);
    });
  });

  it('IP SANs play no part: a signer id that is an address needs DNS:<id>, an IP SAN does not do', async () => {
    await withSigner({ commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'] }, async (s) => {
      const e = await callError(newClient({ id: '127.0.0.1', port: s.port }).round1({ key_id: 'default', count: 1 }));
      expect(e.code).toBe('SIGNER_UNREACHABLE');
      expect(s.received).toHaveLength(0);
    });
  });

  it('the exact DNS SAN is accepted, ASCII case-insensitively, among other names', async () => {
    await withSigner({ commonName: 'whatever', dnsNames: ['other.example', 'SIGNER-1'], ipAddresses: ['127.0.0.1'] }, async (s) => {
      expect(await newClient({ id: 'signer-1', port: s.port }).round1({ key_id: 'default', count: 1 })).toEqual(round1Answer);
      expect(s.received).toHaveLength(1);
    });
  });

  it("reads Node's subjectaltname format, quoted entries included", () => {
    expect(subjectAltNames('DNS:a, IP Address:127.0.0.1, URI:spiffe://x/y, DNS:b')).toEqual([
      { type: 'DNS', value: 'a' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'URI', value: 'spiffe://x/y' },
      { type: 'DNS', value: 'b' },
    ]);
    expect(subjectAltNames('DNS:"evil, DNS:signer-1", DNS:"q\\"uote"')).toEqual([
      { type: 'DNS', value: 'evil, DNS:signer-1' },
      { type: 'DNS', value: 'q"uote' },
    ]);
    expect(subjectAltNames(undefined)).toEqual([]);
    expect(subjectAltNames('')).toEqual([]);
  });

  it.each([
    ['no subjectAltName', undefined],
    ['a wildcard', 'DNS:*.frost-signers'],
    ['a name with more labels', 'DNS:signer-1.frost-signers'],
    ['a prefix of the id', 'DNS:signer-'],
    ['the id inside a quoted entry', 'DNS:"x, DNS:signer-1"'],
    ['the id as a URI', 'URI:signer-1'],
    ['the id as an email', 'email:signer-1'],
    ['a Kelvin sign that Unicode lowercasing would turn into k', 'DNS:signer-\u212a'],
  ])('checkSignerIdentity refuses %s', (_what, san) => {
    const e = checkSignerIdentity(san === 'DNS:signer-\u212a' ? 'signer-k' : 'signer-1', { subjectaltname: san as string });
    expect(e).toBeInstanceOf(Error);
    expect((e as Error & { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it.each([
    ['DNS:signer-1', 'signer-1'],
    ['DNS:Signer-1', 'signer-1'],
    ['DNS:signer-k', 'SIGNER-K'],
    ['IP Address:10.0.0.1, DNS:x, DNS:signer-1', 'signer-1'],
  ])('checkSignerIdentity accepts %s for %s', (san, id) => {
    expect(checkSignerIdentity(id, { subjectaltname: san })).toBeUndefined();
  });
});

describe('SignerClient: close', () => {
  it('close() twice resolves both times, concurrently or one after the other', async () => {
    main.answer = (_r, res) => cbor(res, round1Answer);
    const c = newClient();
    clients.pop(); // closed here
    await c.round1({ key_id: 'default', count: 1 });
    await expect(Promise.all([c.close(), c.close()])).resolves.toEqual([undefined, undefined]);
    await expect(c.close()).resolves.toBeUndefined();
  });
});
