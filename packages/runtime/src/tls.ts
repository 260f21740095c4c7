/**
 * TLS server helpers: mTLS server options and client identity checks by SAN.
 * @module
 */
import type { TLSSocket } from 'node:tls';
import { ClientAuthError } from './errors.js';

/**
 * https.createServer options for mutual TLS. The handshake asks for a client certificate and verifies
 * it against `caPem`; the HTTP layer then refuses any request whose certificate is missing or did not
 * verify ({@link assertClientIdentity}), so a refusal is a clear refusal with a code instead of a bare
 * TLS alert. TLS 1.3 only.
 */
export function mtlsServerOptions(files: { certPem: string; keyPem: string; caPem: string }) {
  return {
    cert: files.certPem,
    key: files.keyPem,
    ca: files.caPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3' as const,
  };
}

/** SAN entries of a certificate's subjectAltName text in `TYPE:value` form (`DNS:x`, `URI:x`, `IP Address:x`). */
export function subjectAltNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName.split(/,\s*/).map((s) => s.trim());
}

/** Does a SAN list contain `identity`? `identity` may be `DNS:name`, `URI:uri`, or a bare DNS name. */
export function sanMatches(sans: readonly string[], identity: string): boolean {
  const want = identity.includes(':') && /^(DNS|URI|IP Address):/.test(identity) ? identity : `DNS:${identity}`;
  return sans.includes(want);
}

/**
 * Throws ClientAuthError unless the TLS peer presented a certificate that chains to the configured CA and,
 * when `allowed` is non-empty, carries one of the allowed SANs.
 */
export function assertClientIdentity(socket: TLSSocket, allowed: readonly string[]): string[] {
  // getPeerCertificate() parses the certificate on every call; a connection's peer never changes.
  // The cache holds the list a socket was checked against: another list means another check.
  const cached = verified.get(socket);
  if (cached && sameList(cached.allowed, allowed)) return cached.sans;
  const sans = checkClientIdentity(socket, allowed);
  verified.set(socket, { allowed: [...allowed], sans });
  return sans;
}

const verified = new WeakMap<TLSSocket, { allowed: readonly string[]; sans: string[] }>();
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function checkClientIdentity(socket: TLSSocket, allowed: readonly string[]): string[] {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) throw new ClientAuthError('CLIENT_CERT_REQUIRED', 'a client certificate is required');
  if (!socket.authorized) throw new ClientAuthError('CLIENT_CERT_UNTRUSTED', 'client certificate is not issued by a trusted CA');
  const sans = subjectAltNames(cert.subjectaltname);
  if (allowed.length > 0 && !allowed.some((id) => sanMatches(sans, id))) {
    throw new ClientAuthError('CLIENT_IDENTITY_NOT_ALLOWED', 'client certificate identity is not allowed');
  }
  return sans;
}
