import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { createCertificateAuthority, type CertificatePair } from '../../testkit/src/pki.js';
import { ClientAuthError } from '../src/errors.js';
import { assertClientIdentity, mtlsServerOptions } from '../src/tls.js';

/** A stand-in for a TLS socket: what assertClientIdentity reads, and how often it asked for the certificate. */
function fakeSocket(cert: Partial<PeerCertificate> | null, authorized: boolean) {
  const socket = {
    authorized,
    calls: 0,
    getPeerCertificate() {
      socket.calls++;
      return cert;
    },
  };
  return socket;
}
const asTls = (s: ReturnType<typeof fakeSocket>) => s as unknown as TLSSocket;

function clientAuthCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientAuthError);
    return (e as ClientAuthError).code;
  }
  throw new Error('expected a ClientAuthError, nothing was thrown');
}

const coordinatorCert = { subject: { CN: 'coordinator' }, subjectaltname: 'DNS:coordinator, URI:spiffe://frost/coordinator, IP Address:10.0.0.7' } as Partial<PeerCertificate>;

describe('assertClientIdentity (fake sockets)', () => {
  it('no certificate (Node returns an empty object, or nothing) → CLIENT_CERT_REQUIRED', () => {
    expect(clientAuthCode(() => assertClientIdentity(asTls(fakeSocket({}, false)), []))).toBe('CLIENT_CERT_REQUIRED');
    expect(clientAuthCode(() => assertClientIdentity(asTls(fakeSocket(null, false)), []))).toBe('CLIENT_CERT_REQUIRED');
  });

  it('a certificate that did not verify against the CA → CLIENT_CERT_UNTRUSTED, even with an allowed SAN', () => {
    expect(clientAuthCode(() => assertClientIdentity(asTls(fakeSocket(coordinatorCert, false)), ['coordinator']))).toBe('CLIENT_CERT_UNTRUSTED');
  });

  it('a trusted certificate without an allowed SAN → CLIENT_IDENTITY_NOT_ALLOWED', () => {
    const code = (allowed: string[], cert = coordinatorCert) => clientAuthCode(() => assertClientIdentity(asTls(fakeSocket(cert, true)), allowed));
    expect(code(['other'])).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    // Matching is exact: no prefixes, no suffixes, no case folding, and the CN is not a SAN.
    expect(code(['coord'])).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    expect(code(['coordinator.evil'])).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    expect(code(['COORDINATOR'])).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    expect(code(['coordinator'], { subject: { CN: 'coordinator' } } as Partial<PeerCertificate>)).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    // A bare name is a DNS name: it does not match a URI SAN with the same text.
    expect(code(['spiffe-only'], { subjectaltname: 'URI:spiffe-only' } as Partial<PeerCertificate>)).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    // A typed identity must match the type too.
    expect(code(['URI:coordinator'])).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
  });

  it('a SAN with a comma inside (Node escapes and quotes it) does not smuggle in another SAN', () => {
    // What Node reports for a URI SAN "spiffe://a, DNS:coordinator" (checked against a real certificate).
    const cert = { subjectaltname: 'URI:"spiffe://a\\u002c DNS:coordinator"' } as Partial<PeerCertificate>;
    expect(clientAuthCode(() => assertClientIdentity(asTls(fakeSocket(cert, true)), ['coordinator']))).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
  });

  it.each([['coordinator'], ['DNS:coordinator'], ['URI:spiffe://frost/coordinator'], ['IP Address:10.0.0.7']])('allowed identity %s passes and the SANs are returned', (id) => {
    expect(assertClientIdentity(asTls(fakeSocket(coordinatorCert, true)), ['somebody-else', id])).toEqual([
      'DNS:coordinator',
      'URI:spiffe://frost/coordinator',
      'IP Address:10.0.0.7',
    ]);
  });

  it('an empty allow list accepts any trusted certificate, even one without SANs', () => {
    expect(assertClientIdentity(asTls(fakeSocket(coordinatorCert, true)), [])).toHaveLength(3);
    expect(assertClientIdentity(asTls(fakeSocket({ subject: { CN: 'x' } } as Partial<PeerCertificate>, true)), [])).toEqual([]);
  });

  it('caches a successful check per socket: the certificate is read once per connection', () => {
    const s = fakeSocket(coordinatorCert, true);
    const first = assertClientIdentity(asTls(s), ['coordinator']);
    const second = assertClientIdentity(asTls(s), ['coordinator']);
    expect(second).toBe(first);
    expect(s.calls).toBe(1);
    // Another socket with the same certificate is checked on its own.
    const other = fakeSocket(coordinatorCert, true);
    assertClientIdentity(asTls(other), ['coordinator']);
    expect(other.calls).toBe(1);
  });

  it('a socket accepted under one allow list is checked again under another (the cache is per list)', () => {
    const s = fakeSocket(coordinatorCert, true);
    assertClientIdentity(asTls(s), ['coordinator']);
    expect(clientAuthCode(() => assertClientIdentity(asTls(s), ['someone-else']))).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
  });

  it('does not cache a refusal: a socket is checked again on the next request', () => {
    const s = fakeSocket({}, false);
    clientAuthCode(() => assertClientIdentity(asTls(s), []));
    clientAuthCode(() => assertClientIdentity(asTls(s), []));
    expect(s.calls).toBe(2);
  });
});

describe('mtlsServerOptions', () => {
  it('asks for a client certificate, does not auto-reject it, and allows TLS 1.3 only', () => {
    const o = mtlsServerOptions({ certPem: 'CERT', keyPem: 'KEY', caPem: 'CA' });
    expect(o).toEqual({ cert: 'CERT', key: 'KEY', ca: 'CA', requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  });
});

describe('mTLS server with real certificates', () => {
  let server: Server;
  let port: number;
  let caPem: string;
  let trustedClient: CertificatePair;
  let otherClient: CertificatePair;
  let untrustedClient: CertificatePair;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('runtime test CA');
    const foreignCa = await createCertificateAuthority('foreign CA');
    caPem = ca.certPem;
    const serverPair = await ca.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], ipAddresses: ['127.0.0.1'], usages: ['server'] });
    trustedClient = await ca.issue({ commonName: 'coordinator', dnsNames: ['coordinator'], usages: ['client'] });
    otherClient = await ca.issue({ commonName: 'intruder', dnsNames: ['intruder'], usages: ['client'] });
    untrustedClient = await foreignCa.issue({ commonName: 'coordinator', dnsNames: ['coordinator'], usages: ['client'] });
    // The handler answers 200 with the SANs, or 403 with the ClientAuthError code.
    server = createServer(mtlsServerOptions({ certPem: serverPair.certPem, keyPem: serverPair.keyPem, caPem }), (req, res) => {
      try {
        const sans = assertClientIdentity(req.socket as TLSSocket, ['coordinator']);
        res.writeHead(200).end(sans.join(','));
      } catch (e) {
        res.writeHead(403).end((e as ClientAuthError).code);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** GET / with the given client certificate (or none); resolves with status and body. */
  function get(pair?: CertificatePair, extra: Record<string, unknown> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', ca: caPem, cert: pair?.certPem, key: pair?.keyPem, agent: false, ...extra },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('an allowed client certificate passes', async () => {
    expect(await get(trustedClient)).toEqual({ status: 200, body: 'DNS:coordinator' });
  });

  it('no client certificate: the handshake completes and the request is refused with CLIENT_CERT_REQUIRED', async () => {
    expect(await get()).toEqual({ status: 403, body: 'CLIENT_CERT_REQUIRED' });
  });

  it('a certificate from another CA: the handshake completes and the request is refused with CLIENT_CERT_UNTRUSTED', async () => {
    expect(await get(untrustedClient)).toEqual({ status: 403, body: 'CLIENT_CERT_UNTRUSTED' });
  });

  it('a trusted certificate with another identity is refused with CLIENT_IDENTITY_NOT_ALLOWED', async () => {
    expect(await get(otherClient)).toEqual({ status: 403, body: 'CLIENT_IDENTITY_NOT_ALLOWED' });
  });

  it('a TLS 1.2 client cannot connect', async () => {
    await expect(get(trustedClient, { maxVersion: 'TLSv1.2' })).rejects.toThrow();
  });
});
