// The coordinator's bearer-JWT authentication for callers (COORDINATOR_AUTH_MODE=mtls-or-jwt).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { publicJwk } from '@hoarfrost/rpc';
import { createDevEnvironment, startCluster, type Cluster } from '@hoarfrost/testkit';

let cluster: Cluster;
let agent: Agent;
const mint = generateKeyPairSync('ed25519').privateKey;
const rogue = generateKeyPairSync('ed25519').privateKey;

beforeAll(async () => {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-jwt-')), { threshold: 2, signers: 3 });
  const jwks = join(env.dir, 'mint-jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [publicJwk(mint, 'mint-1')] }));
  cluster = await startCluster(env, {
    coordinatorExtraEnv: {
      COORDINATOR_AUTH_MODE: 'mtls-or-jwt',
      COORDINATOR_AUTH_JWKS_FILE: jwks,
      COORDINATOR_AUTH_JWT_ISSUER: 'https://mint.example',
      COORDINATOR_AUTH_JWT_AUDIENCE: 'frost-coordinator',
    },
  });
  agent = new Agent({ connect: { ca: readFileSync(env.caFile, 'utf8') } }); // no client certificate
  // Mid-term: tokens are single-use (jti), so every call below makes a fresh one.
}, 60_000);
afterAll(async () => {
  await agent.close();
  await cluster.stop();
});

async function token(key = mint, claims: { iss?: string; aud?: string; exp?: number; jti?: string } = {}, alg = 'EdDSA'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'mint-api' })
    .setProtectedHeader({ alg, kid: 'mint-1' })
    .setIssuer(claims.iss ?? 'https://mint.example')
    .setAudience(claims.aud ?? 'frost-coordinator')
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .setJti(claims.jti ?? randomUUID())
    .sign(key);
}

async function sign(authorization?: string): Promise<{ status: number; code?: string }> {
  const res = await request(`${cluster.url}/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ msg_b64: randomBytes(16).toString('base64') }),
    dispatcher: agent,
  });
  const json = (await res.body.json()) as { error?: { code: string } };
  return { status: res.statusCode, ...(json.error ? { code: json.error.code } : {}) };
}

describe('bearer JWT callers', () => {
  it('a valid EdDSA token from the pinned key signs without a client certificate', async () => {
    expect(await sign(`Bearer ${await token()}`)).toEqual({ status: 200 });
  });
  it('a token signs once: its replay is refused', async () => {
    const once = `Bearer ${await token()}`;
    expect(await sign(once)).toEqual({ status: 200 });
    expect(await sign(once)).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
  });
  it.each([
    ['no credentials at all', async () => undefined, 401, 'CLIENT_CERT_REQUIRED'],
    ['a token signed by another key', async () => `Bearer ${await token(rogue)}`, 401, 'TOKEN_INVALID'],
    ['a token for another audience', async () => `Bearer ${await token(mint, { aud: 'someone-else' })}`, 401, 'TOKEN_INVALID'],
    ['a token from another issuer', async () => `Bearer ${await token(mint, { iss: 'https://evil.example' })}`, 401, 'TOKEN_INVALID'],
    ['an expired token', async () => `Bearer ${await token(mint, { exp: Math.floor(Date.now() / 1000) - 120 })}`, 401, 'TOKEN_INVALID'],
    ['garbage', async () => 'Bearer not.a.jwt', 401, 'TOKEN_INVALID'],
  ])('%s is refused', async (_n, auth, status, code) => {
    expect(await sign(await auth())).toEqual({ status, code });
  });
});
