// Three real signer processes on 127.0.0.1 with real mutual TLS; a test client plays the coordinator.
// (Cross-process, so it lives in tests/ beside the other end-to-end suites, not in services/signer/tests.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPrivateKey, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import {
  Identifier,
  SignatureShare,
  SigningCommitments,
  SigningPackage,
  aggregate,
  publicKeyPackageFromJson,
  type PublicKeyPackage,
} from '@hoarfrost/frost';
import { RpcTokenSigner, SignerCallError, SignerClient, bodyHash, encodeCbor, RPC_PATHS, type Round1Response } from '@hoarfrost/rpc';
import {
  JWT_ISSUER,
  JWT_KID,
  signerMain,
  createCertificateAuthority,
  createDevEnvironment,
  loadCertificateAuthority,
  signerEnv,
  startService,
  type CertificatePair,
  type DevEnvironment,
  type ServiceProcess,
} from '@hoarfrost/testkit';
import { ed25519Verifies, readPem } from '@hoarfrost/testkit/support';

let env: DevEnvironment;
let procs: ServiceProcess[] = [];
let clients: SignerClient[] = [];
let jwtKey: KeyObject;
let tokens: RpcTokenSigner;
let pkp: PublicKeyPackage;
let coord: CertificatePair;
let ca: string;
let foreign: CertificatePair;
let wrongSan: CertificatePair;
const KEY_ID = 'default';
const MAX_NONCES_SIGNER3 = 40;

function jwsSigningInput(payload: Record<string, unknown>): Uint8Array {
  const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return new TextEncoder().encode(`${h}.${p}`);
}

beforeAll(async () => {
  env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-signer-e2e-')), { threshold: 2, signers: 3 });
  ca = readPem(env.caFile);
  coord = { certPem: readPem(env.coordinatorClientCertFile), keyPem: readPem(env.coordinatorClientKeyFile) };
  // A client certificate of the deployment CA that does not name the coordinator.
  const deploymentCa = await loadCertificateAuthority(ca, readPem(join(env.dir, 'ca-key.pem')));
  wrongSan = await deploymentCa.issue({ commonName: 'mint-api', dnsNames: ['mint-api'], usages: ['client'] });
  const other = await createCertificateAuthority('some other CA');
  foreign = await other.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['client'] });
  jwtKey = createPrivateKey(readPem(env.jwtKeyFile));
  pkp = publicKeyPackageFromJson(readPem(env.publicKeyPackageFile));
  procs = await Promise.all(
    env.signers.map((s) =>
      startService(s.id, signerMain(), signerEnv(env, s, { rpc: 0, ops: 0 }, {
        SIGNER_POLICY_MODE: 'jws',
        SIGNER_POLICY_JWS_REQUIRED_CLAIMS: 'sub',
        SIGNER_POLICY_MAX_MESSAGE_BYTES: '4096',
        SIGNER_LOG_LEVEL: 'info',
        ...(s.index === 3 ? { SIGNER_MAX_NONCES: String(MAX_NONCES_SIGNER3) } : {}),
        // Signer 2 sends every package through its worker-thread path; signer 1 stays inline.
        ...(s.index === 2 ? { SIGNER_WORKER_MIN_PARTICIPANTS: '2' } : { SIGNER_CRYPTO_WORKERS: '0' }),
      }), { readyMessage: 'signer ready' }),
    ),
  );
  tokens = new RpcTokenSigner({ privateKey: jwtKey, kid: JWT_KID, issuer: JWT_ISSUER });
  clients = env.signers.map((s, i) => new SignerClient({
    id: s.id,
    url: `https://127.0.0.1:${procs[i]!.ports.rpcPort}`,
    caPem: ca,
    ...coord,
    tokens,
  }));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(procs.map((p) => p.stop()));
});

async function commitmentOf(i: number): Promise<{ identifier: Uint8Array; hiding: Uint8Array; binding: Uint8Array }> {
  const r: Round1Response = await clients[i]!.round1({ key_id: KEY_ID, count: 1 });
  return { identifier: r.identifier, ...r.commitments[0]! };
}

describe('full signing against three signer processes', () => {
  it('2-of-3 round 1 + round 2 gives shares that aggregate to a valid Ed25519 signature', async () => {
    const message = jwsSigningInput({ sub: 'token-1', iat: 1 });
    const cs = [await commitmentOf(0), await commitmentOf(2)];
    const req = { key_id: KEY_ID, message, commitments: cs };
    const shares = await Promise.all([clients[0]!.round2(req), clients[2]!.round2(req)]);
    const pkg = new SigningPackage(cs.map((c) => ({ identifier: Identifier.fromBytes(c.identifier), commitments: SigningCommitments.fromBytes(c.hiding, c.binding) })), message);
    const map = new Map(shares.map((s) => [Identifier.fromBytes(s.identifier).toHex(), SignatureShare.fromBytes(s.share)]));
    const sig = aggregate(pkg, map, pkp).toBytes();
    expect(ed25519Verifies(pkp.verifyingKeyBytes, message, sig)).toBe(true);
  });

  it('info names the key, identifier and verifying share', async () => {
    const info = await clients[1]!.info();
    expect(Identifier.fromBytes(info.identifier!).toNumber()).toBe(2);
    expect(info.keys.map((k) => k.key_id)).toEqual([KEY_ID]);
    expect(Buffer.from(info.keys[0]!.verifying_key).equals(Buffer.from(pkp.verifyingKeyBytes))).toBe(true);
  });

  it('a token minted by RpcTokenSigner (synchronously, as the coordinator does) authorizes a raw round 2', async () => {
    const { body } = await round2Body();
    const t = tokens.sign({ audience: env.signers[0]!.id, path: RPC_PATHS.round2, body });
    expect(typeof t).toBe('string');
    expect((await raw(0, { token: t, body })).status).toBe(200);
  });
});

interface RawResult {
  status: number;
  code?: string;
  body: Buffer;
}

/** A raw HTTPS request to signer `i` with full control over TLS identity, headers and body. */
function raw(i: number, opts: { tls?: CertificatePair | null; path?: string; token?: string | null; body?: Uint8Array; contentType?: string }): Promise<RawResult> {
  const tls = opts.tls === undefined ? coord : opts.tls;
  return new Promise((resolve, reject) => {
    const body = Buffer.from(opts.body ?? new Uint8Array(0));
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/cbor', 'content-length': String(body.length) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const req = httpsRequest({
      host: '127.0.0.1',
      port: procs[i]!.ports.rpcPort,
      method: 'POST',
      path: opts.path ?? RPC_PATHS.round2,
      servername: env.signers[i]!.id,
      ca,
      ...(tls ? { cert: tls.certPem, key: tls.keyPem } : {}),
      agent: false,
      headers,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        let code: string | undefined;
        try {
          code = (JSON.parse(b.toString('utf8')) as { error: { code: string } }).error.code;
        } catch {
          /* success bodies are CBOR */
        }
        resolve({ status: res.statusCode!, code, body: b });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface TokenOverrides {
  alg?: string;
  typ?: string;
  kid?: string;
  iss?: string;
  aud?: string;
  iat?: number;
  exp?: number;
  jti?: string;
  bsh?: string;
  htu?: string;
  key?: KeyObject | Uint8Array;
}

async function token(i: number, body: Uint8Array, o: TokenOverrides = {}): Promise<string> {
  const path = o.htu ?? RPC_PATHS.round2;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ bsh: o.bsh ?? bodyHash(body), htu: path })
    .setProtectedHeader({ alg: o.alg ?? 'EdDSA', typ: o.typ ?? 'frost-rpc+jwt', kid: o.kid ?? JWT_KID })
    .setIssuer(o.iss ?? JWT_ISSUER)
    .setAudience(o.aud ?? env.signers[i]!.id)
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 30)
    .setJti(o.jti ?? randomBytes(16).toString('base64url'))
    .sign(o.key ?? jwtKey);
}

function unsignedToken(i: number, body: Uint8Array): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'frost-rpc+jwt', kid: JWT_KID })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iss: JWT_ISSUER, aud: env.signers[i]!.id, iat: now, exp: now + 30, jti: randomBytes(16).toString('base64url'), bsh: bodyHash(body), htu: RPC_PATHS.round2 })).toString('base64url');
  return `${h}.${p}.`;
}

/** HS256 token whose HMAC secret is the signer-pinned public key (the classic key-confusion attack). */
function hs256WithPublicKey(i: number, body: Uint8Array): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'frost-rpc+jwt', kid: JWT_KID })).toString('base64url');
  const p = Buffer.from(JSON.stringify({ iss: JWT_ISSUER, aud: env.signers[i]!.id, iat: now, exp: now + 30, jti: randomBytes(16).toString('base64url'), bsh: bodyHash(body), htu: RPC_PATHS.round2 })).toString('base64url');
  const secret = readPem(env.jwksFile);
  const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${sig}`;
}

/** A valid round-2 body for signer 1 (index 0) with signer 2 as the other participant. */
async function round2Body(message = jwsSigningInput({ sub: 'x' })): Promise<{ body: Uint8Array; mine: Awaited<ReturnType<typeof commitmentOf>> }> {
  const mine = await commitmentOf(0);
  const other = await commitmentOf(1);
  return { body: encodeCbor({ key_id: KEY_ID, message, commitments: [mine, other] }), mine };
}

async function expectRejected(r: RawResult, status: number, code: string): Promise<void> {
  expect({ status: r.status, code: r.code }).toEqual({ status, code });
}

describe('rejections: right 4xx, stable code, nothing signed', () => {
  it('no client certificate', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { tls: null, token: await token(0, body), body }), 401, 'CLIENT_CERT_REQUIRED');
  });
  it('client certificate from another CA', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { tls: foreign, token: await token(0, body), body }), 403, 'CLIENT_CERT_UNTRUSTED');
  });
  it('client certificate with the wrong SAN', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { tls: wrongSan, token: await token(0, body), body }), 403, 'CLIENT_IDENTITY_NOT_ALLOWED');
  });
  it('no JWT', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { token: null, body }), 401, 'TOKEN_MISSING');
  });
  it('alg none', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { token: unsignedToken(0, body), body }), 401, 'TOKEN_ALG_NOT_ALLOWED');
  });
  it('HS256 signed with the public key as secret', async () => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { token: hs256WithPublicKey(0, body), body }), 401, 'TOKEN_ALG_NOT_ALLOWED');
  });
  it.each([
    ['aud', { aud: 'signer-2' }, 'TOKEN_WRONG_AUDIENCE'],
    ['iss', { iss: 'mallory' }, 'TOKEN_WRONG_ISSUER'],
    ['typ', { typ: 'JWT' }, 'TOKEN_WRONG_TYPE'],
    ['kid', { kid: 'unknown-kid' }, 'TOKEN_UNKNOWN_KEY'],
    ['path', { htu: RPC_PATHS.round1 }, 'TOKEN_PATH_MISMATCH'],
  ] as const)('wrong %s', async (_n, o, code) => {
    const { body } = await round2Body();
    await expectRejected(await raw(0, { token: await token(0, body, o), body }), 401, code);
  });
  it('expired token', async () => {
    const { body } = await round2Body();
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await raw(0, { token: await token(0, body, { iat: now - 120, exp: now - 60 }), body }), 401, 'TOKEN_EXPIRED');
  });
  it('token living longer than 60 s', async () => {
    const { body } = await round2Body();
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await raw(0, { token: await token(0, body, { exp: now + 3600 }), body }), 401, 'TOKEN_LIFETIME_TOO_LONG');
  });
  it('token signed by a key that is not pinned', async () => {
    const { body } = await round2Body();
    const { generateKeyPairSync } = await import('node:crypto');
    const rogue = generateKeyPairSync('ed25519').privateKey;
    await expectRejected(await raw(0, { token: await token(0, body, { key: rogue }), body }), 401, 'TOKEN_BAD_SIGNATURE');
  });
  it('replayed jti', async () => {
    const { body } = await round2Body();
    const t = await token(0, body);
    const first = await raw(0, { token: t, body });
    expect(first.status).toBe(200);
    await expectRejected(await raw(0, { token: t, body }), 401, 'TOKEN_REPLAYED');
  });
  it('body changed after the JWT was signed', async () => {
    const { body } = await round2Body();
    const t = await token(0, body);
    const changed = Uint8Array.from(body);
    changed[changed.length - 1]! ^= 1;
    await expectRejected(await raw(0, { token: t, body: changed }), 401, 'TOKEN_BODY_MISMATCH');
    // The untouched body still works: the refused request did not consume the nonce.
    expect((await raw(0, { token: await token(0, body), body })).status).toBe(200);
  });
  it('unknown commitment', async () => {
    const { mine } = await round2Body();
    const fake = { ...mine, hiding: (await commitmentOf(1)).hiding }; // a valid point this signer never issued
    const body = encodeCbor({ key_id: KEY_ID, message: jwsSigningInput({ sub: 'x' }), commitments: [fake, await commitmentOf(1)] });
    await expectRejected(await raw(0, { token: await token(0, body), body }), 409, 'UNKNOWN_COMMITMENT');
  });
  it('already used commitment', async () => {
    const { body } = await round2Body();
    expect((await raw(0, { token: await token(0, body), body })).status).toBe(200);
    await expectRejected(await raw(0, { token: await token(0, body), body }), 409, 'COMMITMENT_ALREADY_USED');
  });
  it('commitment issued by another signer, listed under this signer', async () => {
    const theirs = await commitmentOf(2);
    const body = encodeCbor({
      key_id: KEY_ID,
      message: jwsSigningInput({ sub: 'x' }),
      commitments: [{ ...theirs, identifier: Identifier.fromNumber(1).toBytes() }, await commitmentOf(1)],
    });
    await expectRejected(await raw(0, { token: await token(0, body), body }), 409, 'UNKNOWN_COMMITMENT');
  });
  it('malformed CBOR', async () => {
    const body = Uint8Array.from([0xbf, 0x61, 0x61]); // indefinite map, never closed
    await expectRejected(await raw(0, { token: await token(0, body), body }), 400, 'MALFORMED_CBOR');
  });
  it('well-formed CBOR of the wrong shape', async () => {
    const body = encodeCbor({ key_id: KEY_ID, message: 'not bytes', commitments: [] });
    await expectRejected(await raw(0, { token: await token(0, body), body }), 400, 'INVALID_REQUEST');
  });
  it('oversize body', async () => {
    const body = randomBytes(4096 + 64 * 1024 + 1);
    await expectRejected(await raw(0, { token: await token(0, body), body }), 413, 'PAYLOAD_TOO_LARGE');
  });
  it.each([
    ['not a JWS', new TextEncoder().encode('just some bytes'), 'POLICY_NOT_JWS'],
    ['JWS with alg HS256', new TextEncoder().encode(`${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}`), 'POLICY_JWS_ALG'],
    ['JWS without the required claim', jwsSigningInput({ iat: 1 }), 'POLICY_JWS_MISSING_CLAIM'],
  ])('message refused by policy: %s', async (_n, message, code) => {
    const { body, mine } = await round2Body(message);
    await expectRejected(await raw(0, { token: await token(0, body), body }), 403, code);
    // The nonce was claimed before the policy ran: it is gone for good.
    const again = encodeCbor({ key_id: KEY_ID, message: jwsSigningInput({ sub: 'x' }), commitments: [mine, await commitmentOf(1)] });
    await expectRejected(await raw(0, { token: await token(0, again), body: again }), 409, 'COMMITMENT_ALREADY_USED');
  });
});

describe('commitment validation, inline and in the worker pool', () => {
  it.each([
    ['inline (signer 1)', 0, 1],
    ['worker thread (signer 2)', 1, 0],
  ])('%s: a commitment with a torsion component, the identity or garbage is refused with 400 INVALID_POINT', async (_n, i, other) => {
    const { Point } = await import('@noble/curves/ed25519.js').then((m) => ({ Point: m.ed25519.Point }));
    const torsion = Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
    for (const bad of [
      (c: Uint8Array) => Point.fromBytes(c).add(torsion).toBytes(),
      () => Uint8Array.from([1, ...new Array(31).fill(0)]),
      () => new Uint8Array(32).fill(0xff),
    ]) {
      const mine = await commitmentOf(i);
      const theirs = await commitmentOf(other);
      const body = encodeCbor({ key_id: KEY_ID, message: jwsSigningInput({ sub: 'x' }), commitments: [mine, { ...theirs, binding: bad(theirs.binding) }] });
      const r = await raw(i, { token: await token(i, body), body });
      expect({ status: r.status, code: r.code }).toEqual({ status: 400, code: 'INVALID_POINT' });
    }
    // And a valid package still signs through the same path.
    const message = jwsSigningInput({ sub: 'ok' });
    const cs = [await commitmentOf(i), await commitmentOf(other)];
    const share = await clients[i]!.round2({ key_id: KEY_ID, message, commitments: cs });
    expect(share.share).toHaveLength(32);
  });
});

describe('nonce safety under load', () => {
  it('1,000 concurrent round-2 requests for the same commitment yield exactly one share', async () => {
    const mine = await commitmentOf(0);
    const other = await commitmentOf(1);
    const req = { key_id: KEY_ID, message: jwsSigningInput({ sub: 'race' }), commitments: [mine, other] };
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => clients[0]!.round2(req)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SignerCallError).code] : []));
    expect(ok).toHaveLength(1);
    expect(new Set(codes)).toEqual(new Set(['COMMITMENT_ALREADY_USED']));
    expect(codes).toHaveLength(999);
  }, 120_000);

  it('the nonce store stays bounded under a flood of round-1 requests', async () => {
    const first = await commitmentOf(2);
    const batch = 8;
    for (let k = 0; k < 20; k++) {
      await Promise.all(Array.from({ length: 10 }, () => clients[2]!.round1({ key_id: KEY_ID, count: batch })));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${procs[2]!.ports.opsPort}/metrics`)).text();
    const outstanding = Number(/^frost_signer_outstanding_nonces (\d+)/m.exec(metrics)![1]);
    const evicted = Number(/^frost_signer_nonces_dropped_total\{reason="evicted"\} (\d+)/m.exec(metrics)![1]);
    expect(outstanding).toBeLessThanOrEqual(MAX_NONCES_SIGNER3);
    expect(outstanding).toBeGreaterThan(0);
    expect(evicted).toBeGreaterThanOrEqual(20 * 10 * batch - MAX_NONCES_SIGNER3);
    // The evicted first commitment can no longer be used (its tombstone may itself have aged out of
    // the bounded used-list, hence either code).
    const req = { key_id: KEY_ID, message: jwsSigningInput({ sub: 'late' }), commitments: [await commitmentOf(0), first] };
    const err = (await clients[2]!.round2(req).then(() => undefined, (e: unknown) => e)) as SignerCallError;
    expect(err).toBeInstanceOf(SignerCallError);
    expect(err.signer).toBe(env.signers[2]!.id);
    expect(['COMMITMENT_EXPIRED', 'UNKNOWN_COMMITMENT']).toContain(err.code);
  });
});

describe('operations port', () => {
  it('serves healthz, readyz and metrics without a client certificate, and no secrets', async () => {
    const base = `http://127.0.0.1:${procs[0]!.ports.opsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/frost_signer_round2_total\{outcome="ok"\} \d+/);
    expect(metrics).toMatch(/frost_signer_policy_refusals_total\{reason="POLICY_NOT_JWS"\} 1/);
    expect(metrics).toMatch(/frost_signer_rpc_duration_seconds_bucket/);
    expect(metrics).toMatch(/process_cpu_seconds_total/);
    expect(metrics).toMatch(/^frost_signer_ready 1$/m);
    const share = JSON.parse(readPem(join(env.signers[0]!.keyDir, KEY_ID, 'key-package.json'))).signing_share as string;
    expect(metrics).not.toContain(share);
    expect(procs[0]!.logs.join('\n')).not.toContain(share);
  });

  it('SIGTERM: stops cleanly with exit code 0', async () => {
    const s = env.signers[1]!;
    const extra = await startService('extra', signerMain(), signerEnv(env, s, { rpc: 0, ops: 0 }), { readyMessage: 'signer ready' });
    expect(await extra.stop('SIGTERM')).toBe(0);
    expect(extra.logs.some((l) => l.includes('signer stopped'))).toBe(true);
  });
});
