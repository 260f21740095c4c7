// The signer's RPC application served over mutual TLS in this process, called by the coordinator's real
// client (SignerClient) or by raw HTTPS requests for what that client never sends.
import { afterEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, request } from 'node:https';
import { Writable } from 'node:stream';
import { SigningCommitments, SigningPackage, aggregate, trustedDealerKeygen, type SignatureShare } from '@hoarfrost/frost';
import {
  CBOR_CONTENT_TYPE,
  CHANNEL_PATH,
  CHANNEL_PROTOCOL,
  RPC_PATHS,
  decodeCbor,
  decodeFrame,
  encodeRequestFrame,
  isRound2Refusal,
  parseRound2BatchResponse,
  type Round2Response,
  RpcTokenSigner,
  RpcTokenVerifier,
  SIGNER_ERROR_CODES,
  SignerCallError,
  SignerClient,
  decodeRound2Response,
  encodeCbor,
  encodeRound2Request,
  isSignerErrorCode,
  publicJwk,
  type SignerClientOptions,
  type SignerErrorCode,
} from '@hoarfrost/rpc';
import { createLogger, listen, mtlsServerOptions, type Logger } from '@hoarfrost/runtime';
import { createCertificateAuthority, type CertificatePair } from '@hoarfrost/testkit';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import WebSocket from 'ws';
import { createSignerApp, type SignerApp } from '../src/app.js';
import { STATUS } from '../src/errors.js';
import { createSignerMetrics, type SignerMetrics } from '../src/metrics.js';
import { NonceStore } from '../src/nonce-store.js';
import { createPolicy } from '../src/policy.js';
import { KEY_ID, commitOnce, loadedKey, rejectionOf, sampleValue, samplesOf, shareOf, signerConfig, silentLog, testSigner } from './helpers.js';

const SIGNER_ID = 'signer-1';
const ISSUER = 'frost-coordinator';
const KID = 'coordinator-1';

const ca = await createCertificateAuthority('signer app test CA');
const serverCert = await ca.issue({ commonName: SIGNER_ID, dnsNames: [SIGNER_ID], usages: ['server'] });
const coordinatorCert = await ca.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['client'] });
// Issued by the trusted CA, but to a name the signer does not allow.
const mintApiCert = await ca.issue({ commonName: 'mint-api', dnsNames: ['mint-api'], usages: ['client'] });
// The allowed name, but from a CA the signer does not trust.
const rogueCa = await createCertificateAuthority('rogue CA');
const rogueCert = await rogueCa.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['client'] });

const jwtKey = generateKeyPairSync('ed25519').privateKey;
const tokens = new RpcTokenSigner({ privateKey: jwtKey, kid: KID, issuer: ISSUER });
const jwks = { keys: [publicJwk(jwtKey, KID)] };

const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const message = new TextEncoder().encode('mint: 100 tokens to alice');

/** Tokens exactly like the coordinator's, except for the audience they name. */
class OtherAudienceTokens extends RpcTokenSigner {
  override sign(args: { audience: string; path: string; body: Uint8Array }): string {
    return super.sign({ ...args, audience: 'signer-2' });
  }
}

interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Send the body chunked (no content-length). */
  chunked?: boolean;
  /** Declare the whole body but send only its first half, then wait. */
  stall?: boolean;
  /** Client certificate; null presents none. */
  cert?: CertificatePair | null;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Harness {
  url: string;
  port: number;
  app: SignerApp;
  metrics: SignerMetrics;
  nonces: NonceStore;
  draining: boolean;
  client(options?: Partial<SignerClientOptions> & { cert?: CertificatePair }): SignerClient;
  raw(r: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** Signer 1 of `dealt` behind createSignerApp on 127.0.0.1:0, as signer.ts serves it (no crypto pool). */
async function startApp(options: { env?: Record<string, string>; logger?: Logger } = {}): Promise<Harness> {
  const { env = {}, logger = silentLog } = options;
  const config = signerConfig({ SIGNER_ID, SIGNER_MAX_BODY_BYTES: '1024', ...env });
  const nonces = new NonceStore({ max: config.nonces.max, ttlMs: config.nonces.ttlMs });
  const metrics = createSignerMetrics(() => nonces.size, () => true);
  const verifier = new RpcTokenVerifier({ jwks, issuer: ISSUER, audience: config.id });
  const harness: Harness = {
    url: '',
    port: 0,
    app: undefined as unknown as SignerApp, // set below
    metrics,
    nonces,
    draining: false,
    client: () => {
      throw new Error('not started');
    },
    raw: () => Promise.reject(new Error('not started')),
    close: async () => {},
  };
  const app = (harness.app = createSignerApp({
    config,
    keys: new Map([[KEY_ID, loadedKey(KEY_ID, dealt, 1)]]),
    instanceId: new Uint8Array(16).fill(7),
    nonces,
    verifier,
    policy: createPolicy(config.policy),
    metrics,
    logger,
    isDraining: () => harness.draining,
    cryptoPool: undefined,
  }));
  const server = createServer(mtlsServerOptions({ certPem: serverCert.certPem, keyPem: serverCert.keyPem, caPem: ca.certPem }));
  app.attach(server);
  const port = await listen(server, 0, '127.0.0.1');
  const clients: SignerClient[] = [];
  harness.url = `https://127.0.0.1:${port}`;
  harness.port = port;
  harness.client = ({ cert = coordinatorCert, ...options } = {}) => {
    const c = new SignerClient({ id: SIGNER_ID, url: harness.url, caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, tokens, ...options });
    clients.push(c);
    return c;
  };
  harness.raw = (r) => rawRequest(port, r);
  harness.close = async () => {
    await Promise.all(clients.map((c) => c.close()));
    await app.channels.close(0);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  open.push(harness);
  return harness;
}

/** One request on a fresh connection. An error after the answer (the server closed early on a 413) is not the test's concern. */
function rawRequest(port: number, r: RawRequest): Promise<RawResponse> {
  const cert = r.cert === undefined ? coordinatorCert : r.cert;
  const body = r.body ?? new Uint8Array(0);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method ?? 'POST',
        path: r.path,
        servername: SIGNER_ID,
        ca: ca.certPem,
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
        agent: false,
        headers: { ...(r.chunked || body.length === 0 ? {} : { 'content-length': String(body.length) }), ...r.headers },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (r.stall) req.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (r.stall) {
      req.write(body.subarray(0, body.length >> 1));
      return;
    }
    if (r.chunked) for (let i = 0; i < body.length; i += 256) req.write(body.subarray(i, i + 256));
    req.end(r.chunked ? undefined : body);
  });
}

/** Headers of an authenticated CBOR RPC for `path` and exactly `body`, as the coordinator sends them. */
function rpcHeaders(path: string, body: Uint8Array, signer: RpcTokenSigner = tokens): Record<string, string> {
  return { 'content-type': CBOR_CONTENT_TYPE, authorization: `Bearer ${signer.sign({ audience: SIGNER_ID, path, body })}` };
}

/** A POST of `body` to `path` with the coordinator's certificate and a token for exactly this request. */
function signedRaw(path: string, body: Uint8Array, signer: RpcTokenSigner = tokens): RawRequest {
  return { path, headers: rpcHeaders(path, body, signer), body };
}

/** Asserts the one error shape every refusal has: status from STATUS, JSON `{"error":{"code","message"}}`, a documented code. */
function expectRefusal(res: RawResponse, code: SignerErrorCode): void {
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status: STATUS[code], type: expect.stringMatching(/^application\/json/) });
  const body = JSON.parse(res.body.toString('utf8')) as { error: { code: unknown; message: unknown } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(isSignerErrorCode(body.error.code)).toBe(true);
  expect(typeof body.error.message).toBe('string');
  expect(res.headers['x-powered-by']).toBeUndefined();
}

/** Asserts that a client call failed with the signer's answer `code` (a documented code: the signer answered). */
async function expectCallError(p: Promise<unknown>, code: SignerErrorCode): Promise<void> {
  const e = await rejectionOf(p);
  expect(e).toBeInstanceOf(SignerCallError);
  expect((e as SignerCallError).code).toBe(code);
  expect(isSignerErrorCode((e as SignerCallError).code)).toBe(true);
}

const round1Body = encodeCbor({ key_id: KEY_ID, count: 1 });

describe('signer app over mutual TLS', () => {
  it('answers round1, round2 and info for the coordinator, and the shares aggregate to a valid signature', async () => {
    const h = await startApp();
    const client = h.client();
    const r1 = await client.round1({ key_id: KEY_ID, count: 2 });
    expect(r1.commitments).toHaveLength(2);
    expect(h.nonces.size).toBe(2);
    // Signer 2 runs in-process: only signer 1's side goes over the wire here.
    const s2 = testSigner(2, { [KEY_ID]: dealt });
    const mine = { identifier: loadedKey(KEY_ID, dealt, 1).keyPackage.identifier, commitments: SigningCommitments.fromBytes(r1.commitments[0]!.hiding, r1.commitments[0]!.binding) };
    const pkg = new SigningPackage([mine, commitOnce(s2)], message);
    const req = encodeRound2Request(KEY_ID, pkg);
    const shares = new Map<string, SignatureShare>([
      [mine.identifier.toHex(), decodeRound2Response(await client.round2(req))],
      [s2.identifier.toHex(), await shareOf(s2, req)],
    ]);
    const signature = aggregate(pkg, shares, dealt.publicKeyPackage);
    expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, message, signature.toBytes())).toBe(true);
    expect(h.nonces.size).toBe(1);

    const info = await client.info(KEY_ID);
    expect(info.keys.map((k) => [k.key_id, k.min_signers])).toEqual([[KEY_ID, 2]]);
    expect(Buffer.from(info.keys[0]!.verifying_key)).toEqual(Buffer.from(dealt.publicKeyPackage.verifyingKeyBytes));
    expect((await client.info()).keys).toHaveLength(1);

    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total', { outcome: 'ok' })).toBe(1);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round2_total', { outcome: 'ok' })).toBe(1);
    for (const [rpc, n] of [['round1', 1], ['round2', 1], ['info', 2]] as const) {
      expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc, status: '200' })).toBe(n);
    }

    // The same package again: the nonce was claimed once, and the refusal is counted by its code.
    await expectCallError(client.round2(req), 'COMMITMENT_ALREADY_USED');
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round2_total', { outcome: 'COMMITMENT_ALREADY_USED' })).toBe(1);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'round2', status: '409' })).toBe(1);
  });

  it("announces in info the largest message its body limit and policy accept: that message signs, one byte more is too large", async () => {
    const h = await startApp(); // 1024-byte bodies, a 64 KiB policy: the body limit decides
    const client = h.client();
    const info = await client.info();
    expect(Buffer.from(info.instance_id!)).toEqual(Buffer.alloc(16, 7));
    const max = info.max_message_bytes!;
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(1024);
    // The largest request: every participant of the key set listed.
    const [s2, s3] = [testSigner(2, { [KEY_ID]: dealt }), testSigner(3, { [KEY_ID]: dealt })];
    const requestOf = async (length: number) => {
      const c = (await client.round1({ key_id: KEY_ID, count: 1 })).commitments[0]!;
      const mine = { identifier: loadedKey(KEY_ID, dealt, 1).keyPackage.identifier, commitments: SigningCommitments.fromBytes(c.hiding, c.binding) };
      return encodeRound2Request(KEY_ID, new SigningPackage([mine, commitOnce(s2), commitOnce(s3)], new Uint8Array(length).fill(0x61)));
    };
    expect((await client.round2(await requestOf(max))).share).toHaveLength(32);
    await expectCallError(client.round2(await requestOf(max + 1)), 'PAYLOAD_TOO_LARGE');
  });

  // Regression: the signer counted every info RPC (the coordinator's health check) as
  // frost_signer_round1_total{outcome="ok"}.
  it('does not count info RPCs as round 1, answered or refused; round 1 RPCs count', async () => {
    const h = await startApp();
    const client = h.client();
    for (let i = 0; i < 5; i++) await client.info(i % 2 ? KEY_ID : undefined);
    await expectCallError(client.info('mint-2099'), 'UNKNOWN_KEY');
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'info' })).toBe(6);
    expect(await samplesOf(h.metrics.registry, 'frost_signer_round1_total')).toEqual([]);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total')).toBe(0);
    expect(await samplesOf(h.metrics.registry, 'frost_signer_round2_total')).toEqual([]);

    for (let i = 0; i < 3; i++) await client.round1({ key_id: KEY_ID, count: 1 });
    await expectCallError(client.round1({ key_id: 'mint-2099', count: 1 }), 'UNKNOWN_KEY');
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total', { outcome: 'ok' })).toBe(3);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total', { outcome: 'UNKNOWN_KEY' })).toBe(1);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total')).toBe(4);
  });

  it.each([
    ['a token for another audience', () => new OtherAudienceTokens({ privateKey: jwtKey, kid: KID, issuer: ISSUER }), 'TOKEN_WRONG_AUDIENCE'],
    ['a token from another issuer', () => new RpcTokenSigner({ privateKey: jwtKey, kid: KID, issuer: 'mallory' }), 'TOKEN_WRONG_ISSUER'],
    ['a token signed by an unpinned key under the pinned kid', () => new RpcTokenSigner({ privateKey: newKey(), kid: KID, issuer: ISSUER }), 'TOKEN_BAD_SIGNATURE'],
    ['a token naming an unknown kid', () => new RpcTokenSigner({ privateKey: newKey(), kid: 'coordinator-2', issuer: ISSUER }), 'TOKEN_UNKNOWN_KEY'],
  ] as const)('refuses %s, counts it as an auth failure, and issues nothing', async (_name, makeTokens, code) => {
    const h = await startApp();
    const client = h.client({ tokens: makeTokens() });
    await expectCallError(client.round1({ key_id: KEY_ID, count: 1 }), code);
    await expectCallError(client.info(), code);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code })).toBe(2);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total')).toBe(2);
    expect(h.nonces.size).toBe(0);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_commitments_issued_total')).toBe(0);
  });

  it('answers SHUTTING_DOWN (503) to the coordinator while draining, before the token and body, and serves again after', async () => {
    const h = await startApp();
    const client = h.client();
    h.draining = true;
    await expectCallError(client.round1({ key_id: KEY_ID, count: 1 }), 'SHUTTING_DOWN');
    expectRefusal(await h.raw({ method: 'GET', path: '/nowhere' }), 'SHUTTING_DOWN');
    expect(h.nonces.size).toBe(0);
    h.draining = false;
    expect((await client.round1({ key_id: KEY_ID, count: 1 })).commitments).toHaveLength(1);
  });

  // Regression: a draining signer answered SHUTTING_DOWN to anyone, before looking at the certificate.
  it.each([
    ['no certificate', null, 'CLIENT_CERT_REQUIRED'],
    ['a certificate without an allowed SAN', mintApiCert, 'CLIENT_IDENTITY_NOT_ALLOWED'],
    ['a certificate from an untrusted CA', rogueCert, 'CLIENT_CERT_UNTRUSTED'],
  ] as const)('while draining, a client with %s gets its auth refusal, not SHUTTING_DOWN', async (_name, cert, code) => {
    const h = await startApp();
    h.draining = true;
    expectRefusal(await h.raw({ path: RPC_PATHS.round1, cert, headers: rpcHeaders(RPC_PATHS.round1, round1Body), body: round1Body }), code);
    expectRefusal(await h.raw({ method: 'GET', path: '/nowhere', cert }), code);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code })).toBe(2);
  });

  it.each([
    ['a certificate without an allowed SAN', mintApiCert, 'CLIENT_IDENTITY_NOT_ALLOWED'],
    ['a certificate from an untrusted CA', rogueCert, 'CLIENT_CERT_UNTRUSTED'],
  ] as const)('refuses a client with %s, before looking at its token', async (_name, cert, code) => {
    const h = await startApp();
    await expectCallError(h.client({ cert }).round1({ key_id: KEY_ID, count: 1 }), code);
    expectRefusal(await h.raw({ path: RPC_PATHS.info, cert }), code);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code })).toBe(2);
    expect(h.nonces.size).toBe(0);
  });

  it('every refusal of a round-1 request counts in its outcomes, those before the token check too', async () => {
    const h = await startApp();
    expectRefusal(await h.raw({ path: RPC_PATHS.round1, headers: { 'content-type': CBOR_CONTENT_TYPE }, body: round1Body }), 'TOKEN_MISSING');
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total', { outcome: 'TOKEN_MISSING' })).toBe(1);
  });

  it('refuses a client without a certificate with CLIENT_CERT_REQUIRED', async () => {
    const h = await startApp();
    expectRefusal(await h.raw({ path: RPC_PATHS.round1, cert: null, headers: rpcHeaders(RPC_PATHS.round1, round1Body), body: round1Body }), 'CLIENT_CERT_REQUIRED');
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code: 'CLIENT_CERT_REQUIRED' })).toBe(1);
  });
});

function newKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

const tooLarge = encodeCbor({ key_id: KEY_ID, message: new Uint8Array(2000), commitments: [] });

/** Requests the coordinator's client never sends, each with the refusal it must get. */
const RAW_CASES: [string, () => RawRequest, SignerErrorCode][] = [
  ['no Authorization header', () => ({ path: RPC_PATHS.round1, headers: { 'content-type': CBOR_CONTENT_TYPE }, body: round1Body }), 'TOKEN_MISSING'],
  ['a wrong content-type', () => ({ path: RPC_PATHS.round1, headers: { ...rpcHeaders(RPC_PATHS.round1, round1Body), 'content-type': 'application/json' }, body: round1Body }), 'UNSUPPORTED_MEDIA_TYPE'],
  ['GET with a valid token', () => ({ method: 'GET', path: RPC_PATHS.info, headers: rpcHeaders(RPC_PATHS.info, new Uint8Array(0)) }), 'METHOD_NOT_ALLOWED'],
  ['an unknown path', () => signedRaw('/v1/round3', round1Body), 'NOT_FOUND'],
  ['a body over maxBodyBytes (declared)', () => signedRaw(RPC_PATHS.round2, tooLarge), 'PAYLOAD_TOO_LARGE'],
  ['a body over maxBodyBytes (chunked)', () => ({ ...signedRaw(RPC_PATHS.round2, tooLarge), chunked: true }), 'PAYLOAD_TOO_LARGE'],
  ['a body that is not CBOR', () => signedRaw(RPC_PATHS.round1, Buffer.from([0x1c])), 'MALFORMED_CBOR'],
  // Regression (fixed in rpc): cbor-x read a lone break byte as {}, which an info request accepted.
  ['a lone CBOR break byte', () => signedRaw(RPC_PATHS.info, Buffer.from([0xff])), 'MALFORMED_CBOR'],
  ['a truncated CBOR item', () => signedRaw(RPC_PATHS.round1, Buffer.from([0x58, 0x20, 0x01])), 'MALFORMED_CBOR'],
  ['two CBOR items', () => signedRaw(RPC_PATHS.round1, Buffer.concat([round1Body, round1Body])), 'MALFORMED_CBOR'],
  ['an empty body', () => signedRaw(RPC_PATHS.info, new Uint8Array(0)), 'MALFORMED_CBOR'],
  ['CBOR of the wrong shape', () => signedRaw(RPC_PATHS.round1, encodeCbor({ key_id: KEY_ID })), 'INVALID_REQUEST'],
  ['a round-2 request without commitments', () => signedRaw(RPC_PATHS.round2, encodeCbor({ key_id: KEY_ID, message: new Uint8Array(1), commitments: [] })), 'INVALID_REQUEST'],
  ['a round-2 request for a key it does not hold', () => {
    const entry = { identifier: new Uint8Array(32).fill(1, 0, 1), hiding: new Uint8Array(32), binding: new Uint8Array(32) };
    return signedRaw(RPC_PATHS.round2, encodeCbor({ key_id: 'mint-2099', message: new Uint8Array(1), commitments: [entry] }));
  }, 'UNKNOWN_KEY'],
  ['a token for another RPC', () => ({ path: RPC_PATHS.round1, headers: rpcHeaders(RPC_PATHS.info, round1Body), body: round1Body }), 'TOKEN_PATH_MISMATCH'],
  ['a token for another body', () => ({ path: RPC_PATHS.round1, headers: rpcHeaders(RPC_PATHS.round1, encodeCbor({ key_id: KEY_ID, count: 32 })), body: round1Body }), 'TOKEN_BODY_MISMATCH'],
  ['a malformed Authorization header', () => ({ path: RPC_PATHS.round1, headers: { 'content-type': CBOR_CONTENT_TYPE, authorization: 'Basic Zm9vOmJhcg==' }, body: round1Body }), 'TOKEN_MALFORMED'],
  // Authentication first: a body that is not CBOR under a token for another audience is an auth failure.
  ['garbage under a token for another audience', () => signedRaw(RPC_PATHS.round1, Buffer.from([0x1c]), new OtherAudienceTokens({ privateKey: jwtKey, kid: KID, issuer: ISSUER })), 'TOKEN_WRONG_AUDIENCE'],
];

describe('signer app refusals on the wire', () => {
  it.each(RAW_CASES)('refuses %s with the documented error body', async (_name, make, code) => {
    const h = await startApp();
    expectRefusal(await h.raw(make()), code);
    // Only authentication refusals count as auth failures, each under its code.
    const auth = SIGNER_ERROR_CODES[code] === 'auth';
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total')).toBe(auth ? 1 : 0);
    if (auth) expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code })).toBe(1);
    expect(h.nonces.size).toBe(0);
  });

  it('logs refusals of callers and packages, but not malformed requests (anyone could flood the log)', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const h = await startApp({ logger: createLogger('signer-test', 'info', sink) });
    const wrongAudience = new OtherAudienceTokens({ privateKey: jwtKey, kid: KID, issuer: ISSUER });
    const requests: RawRequest[] = [
      signedRaw('/v1/round3', round1Body), // NOT_FOUND
      { ...signedRaw(RPC_PATHS.round1, round1Body), headers: { ...rpcHeaders(RPC_PATHS.round1, round1Body), 'content-type': 'text/plain' } }, // UNSUPPORTED_MEDIA_TYPE
      signedRaw(RPC_PATHS.round1, Buffer.from([0x1c])), // MALFORMED_CBOR
      signedRaw(RPC_PATHS.round1, round1Body, wrongAudience),
      signedRaw(RPC_PATHS.round1, encodeCbor({ key_id: 'mint-2099', count: 1 })),
    ];
    for (const r of requests) expect((await h.raw(r)).status).toBeGreaterThanOrEqual(400);
    const records = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; code?: string });
    expect(records.filter((r) => r.msg === 'rpc refused').map((r) => r.code)).toEqual(['TOKEN_WRONG_AUDIENCE', 'UNKNOWN_KEY']);
    // No credential reaches the log.
    expect(lines.join('')).not.toMatch(/Bearer|eyJ/);
  });

  it('refuses a replayed token with TOKEN_REPLAYED, after serving it once', async () => {
    const h = await startApp();
    const headers = rpcHeaders(RPC_PATHS.round1, round1Body);
    const first = await h.raw({ path: RPC_PATHS.round1, headers, body: round1Body });
    expect({ status: first.status, type: first.headers['content-type'] }).toEqual({ status: 200, type: CBOR_CONTENT_TYPE });
    expectRefusal(await h.raw({ path: RPC_PATHS.round1, headers, body: round1Body }), 'TOKEN_REPLAYED');
    expect(h.nonces.size).toBe(1);
  });

  it('refuses a body that does not arrive within SIGNER_BODY_TIMEOUT_MS with REQUEST_TIMEOUT (408)', async () => {
    const h = await startApp({ env: { SIGNER_BODY_TIMEOUT_MS: '200' } });
    const started = Date.now();
    const res = await h.raw({ ...signedRaw(RPC_PATHS.round1, round1Body), stall: true });
    expectRefusal(res, 'REQUEST_TIMEOUT');
    // The default is 5 s: an answer well before that is the configured limit at work.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(h.nonces.size).toBe(0);
  });

  it('records the time of refusals made before the RPC is known under rpc="unknown"', async () => {
    const h = await startApp();
    await h.raw({ path: '/v1/round3', headers: rpcHeaders('/v1/round3', round1Body), body: round1Body });
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'unknown', status: '404' })).toBe(1);
  });
});

/** A raw channel connection (what the coordinator's client never sends is sent here). */
interface RawChannel {
  ws: WebSocket;
  /** Sends a request frame; resolves with its answer (status and decoded body). */
  call(path: string, body: Uint8Array, authorization?: string): Promise<{ status: number; body: Buffer }>;
  /** Resolves with the close code once the connection ends. */
  closed: Promise<number>;
}

async function rawChannel(port: number, cert: CertificatePair | null = coordinatorCert): Promise<RawChannel> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${CHANNEL_PATH}`, CHANNEL_PROTOCOL, {
    ca: ca.certPem,
    ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
    servername: SIGNER_ID,
  } as WebSocket.ClientOptions);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade answered ${res.statusCode}`), { status: res.statusCode })));
  });
  const waiting = new Map<number, (a: { status: number; body: Buffer }) => void>();
  ws.on('message', (data: Buffer) => {
    const f = decodeFrame(data);
    if (f.type === 'answer') waiting.get(f.id)?.({ status: f.status, body: Buffer.from(f.body) });
  });
  let seq = 0;
  return {
    ws,
    closed,
    call: (path, body, authorization = `Bearer ${tokens.sign({ audience: SIGNER_ID, path, body })}`) =>
      new Promise((resolve) => {
        const id = ++seq;
        waiting.set(id, resolve);
        ws.send(encodeRequestFrame(id, path, authorization, body));
      }),
  };
}

/** An upgrade request on a fresh connection: the status and error code of its refusal. */
function rawUpgrade(port: number, cert: CertificatePair | null, path = CHANNEL_PATH): Promise<{ status: number; code: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      servername: SIGNER_ID,
      ca: ca.certPem,
      ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': CHANNEL_PROTOCOL },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { code: unknown } }).error.code }));
    });
    req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
    req.on('error', reject);
    req.end();
  });
}

describe('the channel', () => {
  it.each([
    ['no certificate', null, 'CLIENT_CERT_REQUIRED'],
    ['a certificate without an allowed SAN', mintApiCert, 'CLIENT_IDENTITY_NOT_ALLOWED'],
    ['a certificate from an untrusted CA', rogueCert, 'CLIENT_CERT_UNTRUSTED'],
  ] as const)('refuses an upgrade from a client with %s, with its code, even while draining', async (_name, cert, code) => {
    const h = await startApp();
    expect(await rawUpgrade(h.port, cert)).toEqual({ status: STATUS[code], code });
    h.draining = true;
    expect(await rawUpgrade(h.port, cert)).toEqual({ status: STATUS[code], code });
    expect(await sampleValue(h.metrics.registry, 'frost_signer_auth_failures_total', { code })).toBe(2);
  });

  it('refuses an upgrade while draining (SHUTTING_DOWN), and an upgrade elsewhere (NOT_FOUND)', async () => {
    const h = await startApp();
    expect(await rawUpgrade(h.port, coordinatorCert, '/v1/round2')).toEqual({ status: 404, code: 'NOT_FOUND' });
    h.draining = true;
    expect(await rawUpgrade(h.port, coordinatorCert)).toEqual({ status: 503, code: 'SHUTTING_DOWN' });
  });

  it('answers each frame as the HTTP RPC would: the same codes, statuses and error bodies', async () => {
    const h = await startApp();
    const ch = await rawChannel(h.port);
    const ok = await ch.call(RPC_PATHS.round1, round1Body);
    expect(ok.status).toBe(200);
    expect((decodeCbor(ok.body) as { commitments: unknown[] }).commitments).toHaveLength(1);
    const token = `Bearer ${tokens.sign({ audience: SIGNER_ID, path: RPC_PATHS.round1, body: round1Body })}`;
    const cases: [string, Promise<{ status: number; body: Buffer }>, SignerErrorCode][] = [
      ['no token', ch.call(RPC_PATHS.round1, round1Body, ''), 'TOKEN_MISSING'],
      ['a token for another body', ch.call(RPC_PATHS.round1, encodeCbor({ key_id: KEY_ID, count: 2 }), token), 'TOKEN_BODY_MISMATCH'],
      ['a token for another RPC', ch.call(RPC_PATHS.info, round1Body, token), 'TOKEN_PATH_MISMATCH'],
      ['garbage under a token for another audience', ch.call(RPC_PATHS.round1, Buffer.from([0x1c]), `Bearer ${new OtherAudienceTokens({ privateKey: jwtKey, kid: KID, issuer: ISSUER }).sign({ audience: SIGNER_ID, path: RPC_PATHS.round1, body: Buffer.from([0x1c]) })}`), 'TOKEN_WRONG_AUDIENCE'],
      ['a body that is not CBOR', ch.call(RPC_PATHS.round1, Buffer.from([0x1c])), 'MALFORMED_CBOR'],
      ['a body over maxBodyBytes', ch.call(RPC_PATHS.round2, tooLarge), 'PAYLOAD_TOO_LARGE'],
      ['an unknown path', ch.call('/v1/round3', round1Body), 'NOT_FOUND'],
    ];
    for (const [name, p, code] of cases) {
      const res = await p;
      expect({ name, status: res.status, code: (JSON.parse(res.body.toString('utf8')) as { error: { code: string } }).error.code }).toEqual({ name, status: STATUS[code], code });
    }
    // A replayed token, after its first use.
    const body = encodeCbor({ key_id: KEY_ID, count: 1 });
    const once = `Bearer ${tokens.sign({ audience: SIGNER_ID, path: RPC_PATHS.round1, body })}`;
    expect((await ch.call(RPC_PATHS.round1, body, once)).status).toBe(200);
    expect((await ch.call(RPC_PATHS.round1, body, once)).status).toBe(STATUS.TOKEN_REPLAYED);
    expect(h.nonces.size).toBe(2);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round1_total', { outcome: 'ok' })).toBe(2);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'round1', status: '200' })).toBe(2);
  });

  it('answers SHUTTING_DOWN to frames once draining, on a channel opened before', async () => {
    const h = await startApp();
    const ch = await rawChannel(h.port);
    h.draining = true;
    expect((await ch.call(RPC_PATHS.round1, round1Body)).status).toBe(503);
    expect(h.nonces.size).toBe(0);
  });

  it.each([
    ['a frame that is not of the layout', (ws: WebSocket) => ws.send(Buffer.from([9, 9, 9])), 1002],
    ['an answer frame from the client', (ws: WebSocket) => ws.send(Buffer.from([2, 0, 0, 0, 1, 0, 200])), 1002],
    ['a text frame', (ws: WebSocket) => ws.send('hello'), 1003],
  ] as const)('closes the connection on %s', async (_name, send, code) => {
    const h = await startApp();
    const ch = await rawChannel(h.port);
    send(ch.ws);
    expect(await ch.closed).toBe(code);
  });

  it('closes its connections on shutdown once their requests are answered', async () => {
    const h = await startApp();
    const ch = await rawChannel(h.port);
    expect((await ch.call(RPC_PATHS.info, encodeCbor({}))).status).toBe(200);
    await h.app.channels.close(1000);
    expect(await ch.closed).toBe(1001);
  });
});

describe('round-2 batches', () => {
  it('signs a batch over HTTP and over the channel; each request gets its outcome and is counted once', async () => {
    const h = await startApp({ env: { SIGNER_MAX_BODY_BYTES: '65536' } });
    const client = h.client();
    const s2 = testSigner(2, { [KEY_ID]: dealt });
    const round2Of = async () => {
      const c = (await client.round1({ key_id: KEY_ID, count: 1 })).commitments[0]!;
      const mine = { identifier: loadedKey(KEY_ID, dealt, 1).keyPackage.identifier, commitments: SigningCommitments.fromBytes(c.hiding, c.binding) };
      const pkg = new SigningPackage([mine, commitOnce(s2)], message);
      return { pkg, req: encodeRound2Request(KEY_ID, pkg) };
    };
    const items = [await round2Of(), await round2Of(), await round2Of()];
    const reqs = items.map((x) => x.req);
    reqs.push({ ...reqs[0]! }); // its commitment is claimed by the first request of the same batch
    const body = encodeCbor({ requests: reqs });
    const res = await h.raw(signedRaw(RPC_PATHS.round2Batch, body));
    expect(res.status).toBe(200);
    const out = parseRound2BatchResponse(decodeCbor(res.body), 4).results;
    expect(out.map((o) => (isRound2Refusal(o) ? o.error.code : 'share'))).toEqual(['share', 'share', 'share', 'COMMITMENT_ALREADY_USED']);
    for (const [i, x] of items.entries()) {
      const shares = new Map<string, SignatureShare>([
        [loadedKey(KEY_ID, dealt, 1).keyPackage.identifier.toHex(), decodeRound2Response(out[i] as Round2Response)],
        [s2.identifier.toHex(), await shareOf(s2, x.req)],
      ]);
      expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, message, aggregate(x.pkg, shares, dealt.publicKeyPackage).toBytes())).toBe(true);
    }
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round2_total', { outcome: 'ok' })).toBe(3);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_round2_total', { outcome: 'COMMITMENT_ALREADY_USED' })).toBe(1);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'round2_batch', status: '200' })).toBe(1);
    // Over the channel, through the coordinator's client.
    await client.info(); // learns that batches are taken
    const more = [await round2Of(), await round2Of()];
    const answers = await client.round2Batch(more.map((x) => x.req));
    for (const a of answers) expect(a).not.toBeInstanceOf(Error);
    expect(await sampleValue(h.metrics.registry, 'frost_signer_rpc_duration_seconds_count', { rpc: 'round2_batch', status: '200' })).toBe(2);
  });

  it('a batch under a token for another body is refused whole, before anything is decoded or claimed', async () => {
    const h = await startApp({ env: { SIGNER_MAX_BODY_BYTES: '65536' } });
    const body = encodeCbor({ requests: [] });
    const res = await h.raw({ path: RPC_PATHS.round2Batch, headers: rpcHeaders(RPC_PATHS.round2Batch, encodeCbor({ requests: [1] })), body });
    expectRefusal(res, 'TOKEN_BODY_MISMATCH');
  });
});
