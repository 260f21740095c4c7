// The public HTTP API in-process (bearer-JWT callers over plain HTTP, so no TLS is needed here):
// every refusal is a stable code with its status, and a good request gets a verified signature.
import { afterEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { publicJwk } from '@hoarfrost/rpc';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import { createCoordinatorApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Orchestrator } from '../src/orchestrator.js';
import { fakeDeployment, sample, silentLog, type FakeDeployment } from './fake-signers.js';

const callerKey = generateKeyPairSync('ed25519').privateKey;
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
  COORDINATOR_MAX_IN_FLIGHT: '1',
  COORDINATOR_MAX_BODY_BYTES: '2048',
};

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function start(options: { draining?: boolean; orchestrator?: Pick<Orchestrator, 'sign'> } = {}): Promise<{ url: string; d: FakeDeployment }> {
  const d = await fakeDeployment(2, 3);
  const app = createCoordinatorApp({
    config: loadConfig(env),
    pkp: d.pkp,
    registry: d.registry,
    orchestrator: options.orchestrator ?? d.orchestrator,
    metrics: d.metrics,
    logger: silentLog,
    inboundJwks: { keys: [publicJwk(callerKey, 'mint-1')] },
    openapi: { openapi: '3.1.0' },
    notReadyReason: () => undefined,
    isDraining: () => options.draining ?? false,
  });
  server = createServer(app);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, d };
}

const token = (audience = 'frost-coordinator') =>
  new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: 'mint-1' }).setSubject('mint-api').setAudience(audience).setExpirationTime('1m').sign(callerKey);

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/sign`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}`, ...headers } });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}

describe('coordinator API', () => {
  it('signs, and the signature verifies under the returned group key', async () => {
    const { url, d } = await start();
    const r = await post(url, JSON.stringify({ msg_b64: Buffer.from('hello').toString('base64') }));
    expect(r.status).toBe(200);
    expect(r.json.participants).toHaveLength(2);
    expect(ed25519Verifies(r.json.group_public_b64, Buffer.from('hello'), r.json.signature_b64)).toBe(true);
    expect(await sample(d.metrics, 'frost_coordinator_signs_total', { outcome: 'ok' })).toBe(1);
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
});
