// The coordinator's public contract under bad input: the right 4xx and a stable code, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createDevEnvironment, startCluster, type Cluster } from '@hoarfrost/testkit';
import { MintClient, metricValue } from '@hoarfrost/testkit/support';

let cluster: Cluster;
let client: MintClient;

beforeAll(async () => {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-api-')), { threshold: 2, signers: 3 });
  cluster = await startCluster(env, { coordinatorExtraEnv: { COORDINATOR_MAX_BODY_BYTES: String(64 * 1024) } });
  client = new MintClient(env, cluster.url);
}, 60_000);
afterAll(async () => {
  await client.close();
  await cluster.stop();
});

describe('POST /sign contract', () => {
  it('accepts base64url and unpadded input; /v1/sign is an alias', async () => {
    const msg = Buffer.from([0xfb, 0xff, 0xbf]); // "+/+/" in base64, "-_-_" in base64url
    expect((await client.post('/sign', { msg_b64: msg.toString('base64url') })).status).toBe(200);
    expect((await client.post('/v1/sign', { msg_b64: Buffer.from('hi').toString('base64').replace(/=+$/, '') })).status).toBe(200);
  });

  it.each([
    ['invalid base64', { msg_b64: 'not base64!' }, 400, 'INVALID_BASE64'],
    ['mixed alphabets', { msg_b64: 'ab+_' }, 400, 'INVALID_BASE64'],
    ['impossible length', { msg_b64: 'abcde' }, 400, 'INVALID_BASE64'],
    ['non-canonical trailing bits', { msg_b64: 'aGk=' .replace('k', 'l') }, 400, 'INVALID_BASE64'],
    ['msg_b64 a number', { msg_b64: 42 }, 400, 'INVALID_REQUEST'],
    ['missing msg_b64', {}, 400, 'INVALID_REQUEST'],
    ['unknown field', { msg_b64: 'aGk', sign_anyway: true }, 400, 'UNKNOWN_FIELD'],
    ['participants not an array', { msg_b64: 'aGk', participants: '1,2' }, 400, 'INVALID_PARTICIPANTS'],
    ['participants with a string', { msg_b64: 'aGk', participants: [1, '2'] }, 400, 'INVALID_PARTICIPANTS'],
    ['duplicate participants', { msg_b64: 'aGk', participants: [1, 1] }, 400, 'INVALID_PARTICIPANTS'],
    ['unknown participant', { msg_b64: 'aGk', participants: [1, 9] }, 400, 'UNKNOWN_PARTICIPANT'],
    ['too few participants', { msg_b64: 'aGk', participants: [2] }, 400, 'TOO_FEW_PARTICIPANTS'],
    ['foreign signer_urls', { msg_b64: 'aGk', signer_urls: ['https://169.254.169.254:443', 'https://127.0.0.1:1'] }, 403, 'SIGNER_URL_NOT_ALLOWED'],
    ['signer_urls not strings', { msg_b64: 'aGk', signer_urls: [1] }, 400, 'INVALID_REQUEST'],
    ['array body', [1, 2], 400, 'INVALID_REQUEST'],
    ['null body', null, 400, 'INVALID_REQUEST'],
  ])('%s (body %j) → %i %s', async (_name, body, status, code) => {
    const r = await client.post('/sign', JSON.stringify(body));
    expect({ status: r.status, code: r.json.error?.code }).toEqual({ status, code });
  });

  it('registered signer_urls are accepted', async () => {
    const urls = Object.values(cluster.signerUrls).slice(1);
    const r = await client.sign(randomBytes(8), { signer_urls: urls });
    expect(r.status).toBe(200);
    expect(r.json.participants).toEqual([2, 3]);
  });

  it('malformed JSON, wrong content type, oversize body, wrong method, unknown path', async () => {
    expect((await client.post('/sign', '{"msg_b64":')).json.error!.code).toBe('INVALID_JSON');
    const ct = await client.post('/sign', '{"msg_b64":"aGk"}', { 'content-type': 'text/plain' });
    expect({ s: ct.status, c: ct.json.error!.code }).toEqual({ s: 415, c: 'UNSUPPORTED_MEDIA_TYPE' });
    const big = await client.post('/sign', { msg_b64: randomBytes(64 * 1024).toString('base64') });
    expect({ s: big.status, c: big.json.error!.code }).toEqual({ s: 413, c: 'PAYLOAD_TOO_LARGE' });
    const nf = await client.post('/nope', {});
    expect(nf.status).toBe(404);
  });

  it('no client certificate → 401 CLIENT_CERT_REQUIRED', async () => {
    const anon = new MintClient(cluster.env, cluster.url, { withCert: false });
    const r = await anon.sign(randomBytes(8));
    await anon.close();
    expect({ s: r.status, c: r.json.error?.code }).toEqual({ s: 401, c: 'CLIENT_CERT_REQUIRED' });
  });

  it('arbitrary JSON bodies never produce a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
        const r = await client.post('/sign', JSON.stringify(value));
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(typeof r.json.error?.code).toBe('string');
      }),
      { numRuns: 60 },
    );
    const metrics = await (await fetch(`${cluster.opsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'frost_coordinator_signs_total', { outcome: 'INTERNAL' })).toBe(0);
    expect(metricValue(metrics, 'frost_coordinator_ready')).toBe(1);
  });

  it('serves the OpenAPI document, health and readiness on the ops port, and neither to unauthenticated API callers', async () => {
    const doc = (await (await fetch(`${cluster.opsUrl}/healthz`)).json()) as { status: string };
    expect(doc.status).toBe('ok');
    expect((await fetch(`${cluster.opsUrl}/readyz`)).status).toBe(200);
    const spec = (await (await fetch(`${cluster.opsUrl}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/sign', '/v1/sign']));
    const { Agent, request } = await import('undici');
    const { readFileSync } = await import('node:fs');
    const agent = new Agent({ connect: { ca: readFileSync(cluster.env.caFile, 'utf8') } }); // no client certificate
    try {
      for (const path of ['/readyz', '/openapi.json']) {
        const res = await request(`${cluster.url}${path}`, { dispatcher: agent });
        await res.body.dump();
        expect(res.statusCode).toBe(404);
      }
    } finally {
      await agent.close();
    }
  });

  it('audit records hold the message hash and never the message', async () => {
    const secretish = Buffer.from('audit-probe-' + randomBytes(8).toString('hex'));
    expect((await client.sign(secretish)).status).toBe(200);
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(secretish).digest('hex');
    // The audit line is written as the response goes out; give the pipe a moment.
    for (let i = 0; i < 50 && !cluster.coordinator.logs.some((l) => l.includes(digest)); i++) await new Promise((r) => setTimeout(r, 20));
    const logs = cluster.coordinator.logs.join('\n');
    expect(logs).toContain(digest);
    expect(logs).not.toContain(secretish.toString('base64'));
    expect(logs).not.toContain(secretish.toString());
  });
});
