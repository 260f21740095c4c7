// The public HTTP API in-process (bearer-JWT callers over plain HTTP, so no TLS is needed here):
// every refusal is a stable code with its status, and a good request gets a verified signature.
import { afterEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { publicJwk } from '@hoarfrost/rpc';
import { AuditError, type AuditTrail } from '@hoarfrost/runtime';
import { Identifier } from '@hoarfrost/frost';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import { createCoordinatorApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ApiError } from '../src/errors.js';
import type { Orchestrator } from '../src/orchestrator.js';
import { addKey, fakeDeployment, sample, silentLog, type FakeDeployment } from './fake-signers.js';

const callerKey = generateKeyPairSync('ed25519').privateKey;
const otherCallerKey = generateKeyPairSync('ed25519').privateKey;
const env = {
  COORDINATOR_TLS_CERT_FILE: '/c',
  COORDINATOR_TLS_KEY_FILE: '/k',
  COORDINATOR_SIGNER_CLIENT_CERT_FILE: '/sc',
  COORDINATOR_SIGNER_CLIENT_KEY_FILE: '/sk',
  COORDINATOR_SIGNER_CA_FILE: '/sca',
  COORDINATOR_RPC_JWT_KEY_FILE: '/jwt',
  COORDINATOR_RPC_JWT_KID: 'k1',
  COORDINATOR_SIGNERS: 'signer-1=https://signer-1.test:7443,signer-2=https://signer-2.test:7443,signer-3=https://signer-3.test:7443',
  COORDINATOR_PUBLIC_KEY_PACKAGE_FILE: '/pkp',
  COORDINATOR_AUTH_MODE: 'jwt',
  COORDINATOR_AUTH_JWKS_FILE: '/jwks',
  COORDINATOR_AUTH_JWT_ISSUER: 'mint-issuer',
  COORDINATOR_MAX_IN_FLIGHT: '1',
  COORDINATOR_MAX_BODY_BYTES: '2048',
  COORDINATOR_MAX_MESSAGE_BYTES: '1000',
};

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** An audit trail double: keeps the events, or fails every append. */
function auditDouble(fail = false) {
  const events: Record<string, unknown>[] = [];
  const trail: AuditTrail = {
    append: async (event) => {
      if (fail) throw new AuditError('AUDIT_WRITE_FAILED', 'disk full');
      events.push(event);
    },
    close: async () => {},
    failure: undefined,
  };
  return { trail, events };
}

async function start(
  options: { draining?: boolean; orchestrator?: Pick<Orchestrator, 'sign'> & Partial<Pick<Orchestrator, 'signBatch'>>; env?: Record<string, string>; audit?: AuditTrail } = {},
): Promise<{ url: string; d: FakeDeployment }> {
  const d = await fakeDeployment(2, 3);
  const app = createCoordinatorApp({
    config: loadConfig({ ...env, ...options.env }),
    registry: d.registry,
    // A double that only signs one by one still signs batches with the real orchestrator.
    orchestrator: options.orchestrator ? { signBatch: (r) => d.orchestrator.signBatch(r), ...options.orchestrator } : d.orchestrator,
    metrics: d.metrics,
    logger: silentLog,
    inboundJwks: { keys: [publicJwk(callerKey, 'mint-1'), publicJwk(otherCallerKey, 'mint-2')] },
    ...(options.audit ? { audit: options.audit } : {}),
    isDraining: () => options.draining ?? false,
  });
  server = createServer(app);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, d };
}

interface TokenOptions {
  subject?: string;
  /** Sign with the second caller key (kid mint-2). */
  other?: boolean;
  issuedAt?: number;
  issuer?: string | undefined;
  jti?: string | undefined;
  lifetime?: string;
}

const token = (o: TokenOptions = {}) => {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: o.other ? 'mint-2' : 'mint-1' })
    .setSubject(o.subject ?? 'mint-api')
    .setAudience('frost-coordinator')
    .setIssuedAt(o.issuedAt)
    .setExpirationTime(o.issuedAt !== undefined ? o.issuedAt + 60 : (o.lifetime ?? '1m'));
  if (!('issuer' in o) || o.issuer) jwt.setIssuer(o.issuer ?? 'mint-issuer');
  if (!('jti' in o) || o.jti) jwt.setJti(o.jti ?? randomUUID());
  return jwt.sign(o.other ? otherCallerKey : callerKey);
};

async function post(url: string, body: string, headers: Record<string, string> = {}, path = '/sign') {
  const res = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}`, ...headers } });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}

describe('coordinator API', () => {
  it('signs, and the signature verifies under the returned group key', async () => {
    const { url, d } = await start();
    const r = await post(url, JSON.stringify({ msg_b64: Buffer.from('hello').toString('base64') }));
    expect(r.status).toBe(200);
    expect(r.json.participants).toHaveLength(2);
    expect(r.json.key_id).toBe('default');
    expect(ed25519Verifies(r.json.group_public_b64, Buffer.from('hello'), r.json.signature_b64)).toBe(true);
    expect(await sample(d.metrics, 'frost_coordinator_signs_total', { outcome: 'ok', key_id: 'default' })).toBe(1);
  });

  it.each<[string, string, Record<string, string>, number, string]>([
    ['a body that is not JSON', 'not json', {}, 400, 'INVALID_JSON'],
    ['an unknown field', '{"msg_b64":"aGk","x":1}', {}, 400, 'UNKNOWN_FIELD'],
    ['another media type', '{"msg_b64":"aGk"}', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body over the limit', JSON.stringify({ msg_b64: 'A'.repeat(4000) }), {}, 413, 'PAYLOAD_TOO_LARGE'],
    ['no bearer token', '{"msg_b64":"aGk"}', { authorization: '' }, 401, 'UNAUTHENTICATED'],
    ['a bad bearer token', '{"msg_b64":"aGk"}', { authorization: 'Bearer x.y.z' }, 401, 'TOKEN_INVALID'],
  ])('refuses %s with %i %s', async (_label, body, headers, status, code) => {
    const { url, d } = await start();
    const r = await post(url, body, headers);
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
    expect(await sample(d.metrics, 'frost_coordinator_sign_failures_total', { reason: code })).toBe(1);
  });

  it('SHUTTING_DOWN while draining, with retry-after', async () => {
    const { url } = await start({ draining: true });
    const r = await post(url, '{"msg_b64":"aGk"}');
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('SHUTTING_DOWN');
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('THROTTLED past the in-flight limit, and the limit frees when the request ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { url, d } = await start({
      orchestrator: {
        sign: async (req) => {
          await gate;
          return d.orchestrator.sign(req);
        },
      },
    });
    const first = post(url, '{"msg_b64":"aGk"}');
    await new Promise((r) => setTimeout(r, 50));
    const second = await post(url, '{"msg_b64":"aGk"}');
    expect(second.status).toBe(429);
    expect(second.json.error.code).toBe('THROTTLED');
    release();
    expect((await first).status).toBe(200);
    expect((await post(url, '{"msg_b64":"aGk"}')).status).toBe(200);
  });

  it('POLICY_REFUSED from the signers is a 403 naming their codes', async () => {
    const { url, d } = await start();
    for (const s of d.signers) s.behaviour = 'refuse';
    const r = await post(url, '{"msg_b64":"aGk"}');
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('POLICY_REFUSED');
  });

  it('an unexpected failure is a bare INTERNAL 500 (no message or stack leaks)', async () => {
    const { url } = await start({ orchestrator: { sign: async () => Promise.reject(new Error('/etc/frost/keys/secret')) } });
    const r = await post(url, '{"msg_b64":"aGk"}');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('unknown paths are NOT_FOUND and wrong methods METHOD_NOT_ALLOWED', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const r = await fetch(`${url}/sign`);
    expect(r.status).toBe(405);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it("every answer carries helmet's security headers, and no X-Powered-By", async () => {
    const { url } = await start();
    for (const r of [await fetch(`${url}/nope`), (await post(url, '{"msg_b64":"aGk"}')).headers]) {
      const h = r instanceof Response ? r.headers : r;
      expect(h.get('content-security-policy')).toContain("default-src 'self'");
      expect(h.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(h.get('x-powered-by')).toBeNull();
    }
  });

  it('serves no readiness or OpenAPI document to unauthenticated callers (they are on the ops port)', async () => {
    const { url } = await start();
    for (const path of ['/readyz', '/openapi.json']) {
      const r = await fetch(`${url}${path}`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it.each<[string, TokenOptions, string]>([
    ['a token without an issuer', { issuer: undefined }, 'TOKEN_INVALID'],
    ['a token from another issuer', { issuer: 'someone-else' }, 'TOKEN_INVALID'],
    ['a token without a jti', { jti: undefined }, 'TOKEN_INVALID'],
    ['a token with a short jti', { jti: 'abc' }, 'TOKEN_INVALID'],
    ['a token living longer than the maximum age', { lifetime: '2h' }, 'TOKEN_INVALID'],
    ['a token issued in the future (valid for long after its lifetime)', { issuedAt: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400 }, 'TOKEN_INVALID'],
    ['a token issued longer ago than the maximum age', { issuedAt: Math.floor(Date.now() / 1000) - 3600 }, 'TOKEN_INVALID'],
  ])('refuses %s (401 %s)', async (_label, options, code) => {
    const { url, d } = await start();
    const r = await post(url, '{"msg_b64":"aGk"}', { authorization: `Bearer ${await token(options)}` });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe(code);
    expect(d.signers.every((s) => s.calls.round2 === 0)).toBe(true);
  });

  it('a caller token is single-use: the replay is refused with TOKEN_REPLAYED', async () => {
    const { url } = await start();
    const once = `Bearer ${await token()}`;
    expect((await post(url, '{"msg_b64":"aGk"}', { authorization: once })).status).toBe(200);
    const again = await post(url, '{"msg_b64":"aGk"}', { authorization: once });
    expect(again.status).toBe(401);
    expect(again.json.error.code).toBe('TOKEN_REPLAYED');
  });

  it('a message over what t signers accept is 413 MESSAGE_TOO_LARGE before any round, and no breaker opens', async () => {
    const { url, d } = await start();
    // Two of the three accept at most 600 bytes: no 2-of-3 quorum takes 601.
    d.signers[0]!.maxMessageBytes = 600;
    d.signers[1]!.maxMessageBytes = 600;
    await d.registry.checkAll();
    const at = (n: number) => JSON.stringify({ msg_b64: Buffer.alloc(n, 7).toString('base64') });
    for (let i = 0; i < 5; i++) {
      const r = await post(url, at(601));
      expect(r.status).toBe(413);
      expect(r.json.error.code).toBe('MESSAGE_TOO_LARGE');
    }
    const configured = await post(url, at(1001));
    expect(configured.json.error.code).toBe('MESSAGE_TOO_LARGE');
    expect(d.signers.every((s) => s.calls.round1 === 0 && s.calls.round2 === 0)).toBe(true);
    expect(d.registry.handles.every((h) => h.breaker.state === 'closed')).toBe(true);
    expect((await post(url, at(600))).status).toBe(200);
  });

  it('one caller cannot hold every slot, whatever subjects its tokens name: past its share it is THROTTLED, and another caller still signs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { url, d } = await start({
      env: { COORDINATOR_MAX_IN_FLIGHT: '4', COORDINATOR_MAX_IN_FLIGHT_PER_PRINCIPAL: '2' },
      orchestrator: {
        sign: async (req) => {
          if (req.message.length === 2) await gate; // the hog's requests wait
          return d.orchestrator.sign(req);
        },
      },
    });
    let n = 0;
    // One key, a new subject each time: the slots are the key's.
    const hog = async () => post(url, '{"msg_b64":"aGk"}', { authorization: `Bearer ${await token({ subject: `hog-${n++}` })}` });
    const held = [hog(), hog()];
    await new Promise((r) => setTimeout(r, 50));
    const third = await hog();
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe('THROTTLED');
    const other = await post(url, '{"msg_b64":"aGVsbG8"}', { authorization: `Bearer ${await token({ subject: 'other', other: true })}` });
    expect(other.status).toBe(200);
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('a body that does not arrive in time is 408 REQUEST_TIMEOUT and frees its slot', async () => {
    const { url } = await start({ env: { COORDINATOR_BODY_TIMEOUT_MS: '200' } });
    const { port } = new URL(url);
    const auth = `Bearer ${await token()}`;
    const started = Date.now();
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /sign HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: ${auth}\r\ncontent-length: 100\r\n\r\n{"msg`);
      });
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 408/);
    expect(head).toContain('REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    // The only slot (MAX_IN_FLIGHT 1) is free again.
    expect((await post(url, '{"msg_b64":"aGk"}')).status).toBe(200);
  });

  it('a signing that outlives the deadline is answered DEADLINE_EXCEEDED at the deadline, whatever it waits for', async () => {
    const { url } = await start({
      env: { COORDINATOR_SIGN_DEADLINE_MS: '200', COORDINATOR_SIGNER_TIMEOUT_MS: '100' },
      orchestrator: { sign: () => new Promise(() => {}) },
    });
    const started = Date.now();
    const r = await post(url, '{"msg_b64":"aGk"}');
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('each request leaves one audit record: who, which key, the message digest, participants and outcome', async () => {
    const { trail, events } = auditDouble();
    const { url } = await start({ audit: trail });
    expect((await post(url, JSON.stringify({ msg_b64: Buffer.from('hello').toString('base64') }))).status).toBe(200);
    expect((await post(url, 'not json')).status).toBe(400);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      event: 'sign',
      principal: 'jwt:mint-1:mint-api',
      keyId: 'default',
      messageSha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      messageBytes: 5,
      outcome: 'ok',
    });
    expect(events[0]!.participants).toHaveLength(2);
    expect(events[1]).toMatchObject({ event: 'sign', outcome: 'INVALID_JSON' });
    expect(JSON.stringify(events)).not.toContain(Buffer.from('hello').toString('base64'));
  });

  it('fail closed: a signature whose audit record cannot be written is withheld (503 AUDIT_UNAVAILABLE)', async () => {
    const closed = await start({ audit: auditDouble(true).trail, env: { COORDINATOR_AUDIT_FAIL_CLOSED: 'true' } });
    const r = await post(closed.url, '{"msg_b64":"aGk"}');
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ error: { code: 'AUDIT_UNAVAILABLE', message: expect.any(String) } });
    await new Promise<void>((done) => server!.close(() => done()));
    // Failing open (the default), the caller gets its signature and the failure is logged.
    const open = await start({ audit: auditDouble(true).trail });
    expect((await post(open.url, '{"msg_b64":"aGk"}')).status).toBe(200);
  });
});

describe('POST /v1/sign/batch', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const batch = (url: string, body: unknown, headers: Record<string, string> = {}) => post(url, typeof body === 'string' ? body : JSON.stringify(body), headers, '/v1/sign/batch');

  it('signs every item, in order, each verifying under the returned group key', async () => {
    const { url, d } = await start();
    const texts = ['one', 'two', 'three', 'four'];
    const r = await batch(url, { items: texts.map((t, i) => (i % 2 ? { msg_b64: b64(t), key_id: 'default' } : { msg_b64: b64(t) })) });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['group_public_b64', 'results']); // one key: its group key once
    expect(r.json.results).toHaveLength(4);
    r.json.results.forEach((item: { signature_b64: string; participants: number[] }, i: number) => {
      expect(item.participants).toHaveLength(2);
      expect(ed25519Verifies(r.json.group_public_b64, Buffer.from(texts[i]!), item.signature_b64)).toBe(true);
    });
    expect(await sample(d.metrics, 'frost_coordinator_signs_total', { outcome: 'ok' })).toBe(4);
    // One round 2 per signer of the quorum for the whole batch.
    expect(d.signers.filter((s) => s.batches.length > 0).map((s) => s.batches)).toEqual([[4], [4]]);
  });

  it('an item that cannot be signed gets its own error; the others are signed', async () => {
    const { url } = await start();
    const r = await batch(url, {
      items: [{ msg_b64: b64('fine') }, { msg_b64: 'not base64!' }, { msg_b64: b64('x'), key_id: 'mint-2099' }, { msg_b64: b64('x'), extra: 1 }, { msg_b64: 'A'.repeat(1400) }, 'text', { msg_b64: b64('also fine') }],
    });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: { error?: { code: string } }) => x.error?.code ?? 'ok')).toEqual(['ok', 'INVALID_BASE64', 'UNKNOWN_KEY', 'UNKNOWN_FIELD', 'MESSAGE_TOO_LARGE', 'INVALID_REQUEST', 'ok']);
    for (const x of r.json.results.filter((y: { error?: unknown }) => y.error)) expect(Object.keys(x.error).sort()).toEqual(['code', 'message']);
  });

  it.each<[string, unknown, number, string]>([
    ['a body that is not an object', '[1]', 400, 'INVALID_REQUEST'],
    ['no items', {}, 400, 'INVALID_REQUEST'],
    ['empty items', { items: [] }, 400, 'INVALID_REQUEST'],
    ['items that are not an array', { items: 'x' }, 400, 'INVALID_REQUEST'],
    ['an unknown field', { items: [{ msg_b64: 'aGk' }], x: 1 }, 400, 'UNKNOWN_FIELD'],
    ['more items than allowed', { items: Array.from({ length: 5 }, () => ({ msg_b64: 'aGk' })) }, 413, 'BATCH_TOO_LARGE'],
  ])('refuses %s as a whole with %i %s', async (_label, body, status, code) => {
    const { url } = await start({ env: { COORDINATOR_MAX_BATCH_ITEMS: '4' } });
    const r = await batch(url, body);
    expect({ status: r.status, code: r.json.error?.code }).toEqual({ status, code });
  });

  it('is authenticated and throttled like /sign', async () => {
    const { url } = await start();
    expect((await batch(url, { items: [{ msg_b64: 'aGk' }] }, { authorization: '' })).json.error.code).toBe('UNAUTHENTICATED');
    const draining = await start({ draining: true });
    expect((await batch(draining.url, { items: [{ msg_b64: 'aGk' }] })).status).toBe(503);
  });

  it('leaves one audit record per item, with its index', async () => {
    const { trail, events } = auditDouble();
    const { url } = await start({ audit: trail });
    expect((await batch(url, { items: [{ msg_b64: b64('hello') }, { msg_b64: '!' }] })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ event: 'sign', batchIndex: 0, outcome: 'ok', messageSha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' });
    expect(events[1]).toMatchObject({ event: 'sign', batchIndex: 1, outcome: 'INVALID_BASE64' });
    expect(events[0]!.requestId).toBe(events[1]!.requestId);
  });

  it('fail closed: the signatures whose records cannot be written are withheld, item by item', async () => {
    const { url } = await start({ audit: auditDouble(true).trail, env: { COORDINATOR_AUDIT_FAIL_CLOSED: 'true' } });
    const r = await batch(url, { items: [{ msg_b64: b64('a') }, { msg_b64: b64('b') }] });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: { error?: { code: string } }) => x.error?.code)).toEqual(['AUDIT_UNAVAILABLE', 'AUDIT_UNAVAILABLE']);
    expect(JSON.stringify(r.json)).not.toContain('signature_b64');
  });

  it('a request refused for want of a slot leaves its token unused: the retry with it signs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { url, d } = await start({
      orchestrator: {
        sign: async (req) => {
          if (req.message.length === 2) await gate;
          return d.orchestrator.sign(req);
        },
      },
    });
    const first = post(url, '{"msg_b64":"aGk"}'); // holds the only slot (MAX_IN_FLIGHT 1)
    await new Promise((r) => setTimeout(r, 50));
    const auth = `Bearer ${await token()}`;
    expect((await post(url, '{"msg_b64":"aGVsbG8"}', { authorization: auth })).status).toBe(429);
    release();
    expect((await first).status).toBe(200);
    expect((await post(url, '{"msg_b64":"aGVsbG8"}', { authorization: auth })).status).toBe(200);
  });

  it('one caller key filling its replay cache does not lock another key out', async () => {
    const { url } = await start({ env: { COORDINATOR_AUTH_JWT_REPLAY_CACHE_MAX: '1000', COORDINATOR_MAX_IN_FLIGHT: '8' } });
    for (let i = 0; i < 1000; i++) expect((await post(url, '{"msg_b64":"aGk"}')).status).toBe(200);
    const full = await post(url, '{"msg_b64":"aGk"}');
    expect(full.status).toBe(429);
    expect((await post(url, '{"msg_b64":"aGk"}', { authorization: `Bearer ${await token({ other: true })}` })).status).toBe(200);
  }, 60_000);

  it('requests that fail authentication leave no audit record (anyone can send them)', async () => {
    const { trail, events } = auditDouble();
    const { url } = await start({ audit: trail });
    for (const authorization of ['', 'Bearer x.y.z']) expect((await post(url, '{"msg_b64":"aGk"}', { authorization })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]);
  });
});

describe('several keys', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const get = async (url: string, path: string) => {
    const res = await fetch(`${url}${path}`); // no credentials: public
    return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
  };

  /** The default key on signers 1..3 and `mint` (2-of-2) on signers 2 and 3, where they are participants 7 and 9. */
  async function twoKeys(options: Parameters<typeof start>[0] = {}) {
    const started = await start(options);
    const mint = await addKey(started.d, 'mint', { t: 2, on: [1, 2], identifiers: [7, 9].map((n) => Identifier.fromNumber(n)), createdAt: Date.UTC(2026, 0, 2) });
    return { ...started, mint };
  }

  it('each key signs under its own group key, with its own signers and identifiers', async () => {
    const { url, d, mint } = await twoKeys();
    const a = await post(url, JSON.stringify({ msg_b64: b64('one') }));
    const b = await post(url, JSON.stringify({ msg_b64: b64('two'), key_id: 'mint' }));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.key_id).toBe('default');
    expect(b.json).toMatchObject({ key_id: 'mint', participants: [7, 9] });
    expect(Buffer.from(b.json.group_public_b64, 'base64')).toEqual(Buffer.from(mint.publicKeyPackage.verifyingKeyBytes));
    expect(Buffer.from(a.json.group_public_b64, 'base64')).toEqual(Buffer.from(d.pkp.verifyingKeyBytes));
    expect(ed25519Verifies(b.json.group_public_b64, Buffer.from('two'), b.json.signature_b64)).toBe(true);
    expect(ed25519Verifies(a.json.group_public_b64, Buffer.from('one'), a.json.signature_b64)).toBe(true);
    expect(await sample(d.metrics, 'frost_coordinator_signs_total', { outcome: 'ok', key_id: 'mint' })).toBe(1);
  });

  it('an unknown key is 404 UNKNOWN_KEY, a retired one 409 KEY_RETIRED, a pending one 409 KEY_NOT_ACTIVE, before any round', async () => {
    const { url, d } = await twoKeys();
    await addKey(d, 'old', { t: 2, state: 'retired' });
    await addKey(d, 'new', { t: 2, state: 'pending' });
    const rounds = () => d.signers.reduce((n, s) => n + s.calls.round1 + s.calls.round2, 0);
    const before = rounds();
    for (const [keyId, status, code] of [['nope', 404, 'UNKNOWN_KEY'], ['old', 409, 'KEY_RETIRED'], ['new', 409, 'KEY_NOT_ACTIVE'], ['Not a key id!', 400, 'INVALID_REQUEST']] as const) {
      const r = await post(url, JSON.stringify({ msg_b64: b64('x'), key_id: keyId }));
      expect({ status: r.status, code: r.json.error.code }).toEqual({ status, code });
    }
    expect(rounds()).toBe(before);
  });

  it('a batch may mix keys: one round 2 per signer per key, each item answered with its key', async () => {
    const { url, d } = await twoKeys();
    await addKey(d, 'old', { t: 2, state: 'retired' });
    const items = [{ msg_b64: b64('a') }, { msg_b64: b64('b'), key_id: 'mint' }, { msg_b64: b64('c'), key_id: 'old' }, { msg_b64: b64('d'), key_id: 'mint' }, { msg_b64: b64('e') }];
    const r = await post(url, JSON.stringify({ items }), {}, '/v1/sign/batch');
    expect(r.status).toBe(200);
    expect(r.json.group_public_b64).toBeUndefined(); // several keys: each item carries its own
    expect(r.json.results.map((x: { key_id?: string; error?: { code: string } }) => x.key_id ?? x.error!.code)).toEqual(['default', 'mint', 'KEY_RETIRED', 'mint', 'default']);
    r.json.results.forEach((x: { signature_b64?: string; group_public_b64?: string }, i: number) => {
      if (x.signature_b64) expect(ed25519Verifies(x.group_public_b64!, Buffer.from(items[i]!.msg_b64, 'base64'), x.signature_b64)).toBe(true);
    });
    // Signers 2 and 3 hold mint: each got one round 2 for mint's two items.
    expect(d.signers[1]!.batches.filter((n) => n === 2).length + d.signers[2]!.batches.filter((n) => n === 2).length).toBeGreaterThanOrEqual(2);
    expect(d.signers.flatMap((s) => s.batches).reduce((a, b) => a + b, 0)).toBe(8); // 4 signed items × 2 signers
  });

  it('a key whose batch fails as a whole fails its items alone: the other key\'s items are signed', async () => {
    let d!: FakeDeployment;
    const started = await twoKeys({
      orchestrator: {
        sign: (r) => d.orchestrator.sign(r),
        signBatch: async (r) => {
          if (r[0]!.keyId === 'mint') throw new ApiError('KEY_RETIRED', 'retired meanwhile');
          return d.orchestrator.signBatch(r);
        },
      },
    });
    d = started.d;
    const r = await post(started.url, JSON.stringify({ items: [{ msg_b64: b64('a'), key_id: 'mint' }, { msg_b64: b64('b') }] }), {}, '/v1/sign/batch');
    expect(r.json.results.map((x: { key_id?: string; error?: { code: string } }) => x.key_id ?? x.error!.code)).toEqual(['KEY_RETIRED', 'default']);
  });

  it('GET /v1/keys describes every key, without credentials, with a short cache lifetime', async () => {
    const { url, d, mint } = await twoKeys();
    await addKey(d, 'new', { t: 2, state: 'pending' });
    const r = await get(url, '/v1/keys');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    expect(r.json.keys.map((k: { key_id: string }) => k.key_id)).toEqual(['default', 'mint', 'new']);
    expect(r.json.keys[1]).toEqual({
      key_id: 'mint',
      group_public_key: Buffer.from(mint.publicKeyPackage.verifyingKeyBytes).toString('base64url'),
      threshold: 2,
      participants: { count: 2, signers: ['signer-2', 'signer-3'] },
      version: 1,
      created: '2026-01-02T00:00:00.000Z',
      state: 'active',
    });
    expect(r.json.keys[2].state).toBe('pending');
  });

  it('the JWKS lists the active and retired keys (not pending ones) as Ed25519 JWKs, without credentials', async () => {
    const { url, d, mint } = await twoKeys();
    await addKey(d, 'old', { t: 2, state: 'retired' });
    await addKey(d, 'new', { t: 2, state: 'pending' });
    const r = await get(url, '/.well-known/jwks.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    expect(r.json.keys.map((k: { kid: string }) => k.kid)).toEqual(['default', 'mint', 'old']);
    expect(r.json.keys[1]).toEqual({ kty: 'OKP', crv: 'Ed25519', x: Buffer.from(mint.publicKeyPackage.verifyingKeyBytes).toString('base64url'), kid: 'mint', use: 'sig', alg: 'EdDSA' });
    expect((await fetch(`${url}/.well-known/jwks.json`, { method: 'POST' })).status).toBe(405);
  });

  it('POST /v1/jws returns a compact JWS that jose verifies against the JWKS, with the key as kid', async () => {
    const { url, d } = await twoKeys();
    const jwks = createLocalJWKSet((await get(url, '/.well-known/jwks.json')).json as Parameters<typeof createLocalJWKSet>[0]);
    for (const keyId of ['mint', undefined]) {
      const payload = { sub: 'token-1', amount: 5 };
      const r = await post(url, JSON.stringify({ payload, header: { typ: 'JWT' }, ...(keyId ? { key_id: keyId } : {}) }), {}, '/v1/jws');
      expect(r.status).toBe(200);
      expect(r.json.key_id).toBe(keyId ?? 'default');
      expect(decodeProtectedHeader(r.json.jws)).toEqual({ alg: 'EdDSA', kid: keyId ?? 'default', typ: 'JWT' });
      const verified = await compactVerify(r.json.jws, jwks, { algorithms: ['EdDSA'] });
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(payload);
    }
    expect(await sample(d.metrics, 'frost_coordinator_signs_total', { outcome: 'ok', key_id: 'mint' })).toBe(1);
  });

  it('/v1/jws passes a signer\'s jws policy', async () => {
    const { createPolicy } = await import('../../signer/src/policy.js');
    const policy = createPolicy({ mode: 'jws', maxMessageBytes: 1000, jwsRequiredClaims: ['sub'] });
    const { url, d } = await twoKeys();
    for (const s of d.signers) s.refuseIf = (m) => !policy(m).ok;
    const r = await post(url, JSON.stringify({ payload: { sub: 'x' }, header: { typ: 'JWT', cty: 'a' } }), {}, '/v1/jws');
    expect(r.status).toBe(200);
  });

  it.each<[string, unknown, number, string]>([
    ['a header setting alg', { payload: {}, header: { alg: 'none' } }, 400, 'JWS_HEADER_NOT_ALLOWED'],
    ['a header setting kid', { payload: {}, header: { kid: 'other' } }, 400, 'JWS_HEADER_NOT_ALLOWED'],
    ['a header setting crit', { payload: {}, header: { crit: ['exp'] } }, 400, 'JWS_HEADER_NOT_ALLOWED'],
    ['a header setting b64', { payload: {}, header: { b64: false } }, 400, 'JWS_HEADER_NOT_ALLOWED'],
    ['a payload that is not an object', { payload: 'text' }, 400, 'INVALID_REQUEST'],
    ['no payload', { header: {} }, 400, 'INVALID_REQUEST'],
    ['a header that is not an object', { payload: {}, header: [1] }, 400, 'INVALID_REQUEST'],
    ['an unknown field', { payload: {}, x: 1 }, 400, 'UNKNOWN_FIELD'],
    ['an unknown key', { payload: {}, key_id: 'nope' }, 404, 'UNKNOWN_KEY'],
    ['a payload over the message limit', { payload: { x: 'y'.repeat(1000) } }, 413, 'MESSAGE_TOO_LARGE'],
  ])('/v1/jws refuses %s with %i %s', async (_label, body, status, code) => {
    const { url } = await twoKeys();
    const r = await post(url, JSON.stringify(body), {}, '/v1/jws');
    expect({ status: r.status, code: r.json.error?.code }).toEqual({ status, code });
  });

  it('/v1/jws is authenticated like /sign, and audited', async () => {
    const { trail, events } = auditDouble();
    const { url } = await twoKeys({ audit: trail });
    expect((await post(url, JSON.stringify({ payload: {} }), { authorization: '' }, '/v1/jws')).json.error.code).toBe('UNAUTHENTICATED');
    expect((await post(url, JSON.stringify({ payload: { a: 1 }, key_id: 'mint' }), {}, '/v1/jws')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'jws', keyId: 'mint', outcome: 'ok' });
  });
});
