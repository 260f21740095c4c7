// The listener for signers that dial in: the signer's certificate first, pinned to a signer
// registered as dialling in; only the channel upgrade is taken.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CHANNEL_PATH, CHANNEL_PROTOCOL } from '@hoarfrost/rpc';
import { createCertificateAuthority, type CertificatePair } from '@hoarfrost/testkit';
import { createSignerListener } from '../src/signer-listener.js';
import { silentLog } from './fake-signers.js';

let server: Server;
let port: number;
let ca: { certPem: string };
let signer1: CertificatePair;
let signer9: CertificatePair;
let rogue: CertificatePair;
const adopted: string[] = [];

beforeAll(async () => {
  const authority = await createCertificateAuthority('listener test CA');
  ca = authority;
  const coordinator = await authority.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['server'] });
  signer1 = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['client'] });
  signer9 = await authority.issue({ commonName: 'signer-9', dnsNames: ['signer-9'], usages: ['client'] });
  rogue = await (await createCertificateAuthority('rogue')).issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['client'] });
  server = createSignerListener({
    certPem: coordinator.certPem,
    keyPem: coordinator.keyPem,
    signerCaPem: ca.certPem,
    adopt: new Map([['signer-1', (ws) => (adopted.push('signer-1'), ws.close())]]),
    maxAnswerBytes: 4096,
    logger: silentLog,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** An upgrade request: 101 when accepted, else the status and code of the refusal. */
function upgrade(cert: CertificatePair | null, path = CHANNEL_PATH, asUpgrade = true): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      servername: 'frost-coordinator',
      ca: ca.certPem,
      ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      agent: false,
      headers: asUpgrade ? { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': CHANNEL_PROTOCOL } : {},
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode! });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { code: string } }).error.code }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the signer listener', () => {
  it('takes the channel of a signer registered as dialling in, and hands it to that signer', async () => {
    expect(await upgrade(signer1)).toEqual({ status: 101 });
    for (let i = 0; i < 50 && adopted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(adopted).toEqual(['signer-1']);
  });

  it.each([
    ['no certificate', null, CHANNEL_PATH, true, 401, 'CLIENT_CERT_REQUIRED'],
    ['a certificate from another CA naming the signer', 'rogue', CHANNEL_PATH, true, 403, 'CLIENT_CERT_UNTRUSTED'],
    ['a certificate naming a signer that does not dial in', 'signer9', CHANNEL_PATH, true, 403, 'CLIENT_IDENTITY_NOT_ALLOWED'],
    ['an upgrade elsewhere', 'signer1', '/v1/round2', true, 404, 'NOT_FOUND'],
    ['a plain request', 'signer1', CHANNEL_PATH, false, 404, 'NOT_FOUND'],
  ] as const)('refuses %s (%i %s)', async (_name, who, path, asUpgrade, status, code) => {
    const cert = who === null ? null : { rogue, signer9, signer1 }[who];
    const before = adopted.length;
    expect(await upgrade(cert, path, asUpgrade)).toEqual({ status, code });
    expect(adopted).toHaveLength(before);
  });
});
