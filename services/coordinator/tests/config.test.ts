import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';

const base = {
  COORDINATOR_TLS_CERT_FILE: '/c',
  COORDINATOR_TLS_KEY_FILE: '/k',
  COORDINATOR_TLS_CLIENT_CA_FILE: '/ca',
  COORDINATOR_SIGNER_CLIENT_CERT_FILE: '/sc',
  COORDINATOR_SIGNER_CLIENT_KEY_FILE: '/sk',
  COORDINATOR_SIGNER_CA_FILE: '/sca',
  COORDINATOR_RPC_JWT_KEY_FILE: '/jwt',
  COORDINATOR_RPC_JWT_KID: 'k1',
  COORDINATOR_SIGNERS: 'signer-1=https://signer-1.frost.svc:7443,signer-2=https://10.0.0.2:7443',
  COORDINATOR_PUBLIC_KEY_PACKAGE_FILE: '/pkp',
  COORDINATOR_ALLOWED_CLIENT_SANS: 'DNS:mint-api',
};

describe('coordinator config', () => {
  it('the admin API: its own SAN list, disjoint from the /sign callers however the names are spelt; not with JWT-only callers', () => {
    expect(loadConfig(base).admin).toEqual({ allowedClientSans: [], keygenStepTimeoutMs: 30_000 });
    expect(loadConfig({ ...base, COORDINATOR_ADMIN_CLIENT_SANS: 'DNS:frost-operator' }).admin.allowedClientSans).toEqual(['DNS:frost-operator']);
    for (const overlap of ['DNS:mint-api', 'mint-api']) {
      expect(() => loadConfig({ ...base, COORDINATOR_ADMIN_CLIENT_SANS: `DNS:frost-operator,${overlap}` })).toThrow(/must be disjoint/);
    }
    expect(() => loadConfig({ ...base, COORDINATOR_ALLOWED_CLIENT_SANS: 'mint-api', COORDINATOR_ADMIN_CLIENT_SANS: 'DNS:mint-api' })).toThrow(/must be disjoint/);
    expect(() => loadConfig({ ...base, COORDINATOR_AUTH_MODE: 'jwt', COORDINATOR_AUTH_JWKS_FILE: '/j', COORDINATOR_AUTH_JWT_ISSUER: 'i', COORDINATOR_ADMIN_CLIENT_SANS: 'DNS:op' })).toThrow(/needs client certificates/);
  });

  it('parses the signer registry and applies defaults', () => {
    const c = loadConfig(base);
    expect(c.signers).toEqual([
      { id: 'signer-1', url: 'https://signer-1.frost.svc:7443' },
      { id: 'signer-2', url: 'https://10.0.0.2:7443' },
    ]);
    // The body limit follows the message limit: the largest message in base64, and room for the rest.
    expect(c.maxMessageBytes).toBe(64 * 1024);
    expect(c.maxBodyBytes).toBe(Math.ceil((64 * 1024) / 3) * 4 + 16 * 1024);
    expect(loadConfig({ ...base, COORDINATOR_MAX_MESSAGE_BYTES: '3000' }).maxBodyBytes).toBe(4000 + 16 * 1024);
    expect(c.bodyTimeoutMs).toBe(5000);
    expect(c.maxInFlightPerPrincipal).toBe(64);
    expect(c.auth.jwtMaxAgeSeconds).toBe(300);
    expect(c.shutdownDelayMs).toBe(2000);
    expect(c.auth.mode).toBe('mtls');
    expect(loadConfig({ ...base, COORDINATOR_SIGNER_PARTICIPANTS: 'signer-2=2' }).signers.map((s) => s.participant)).toEqual([undefined, '02'.padEnd(64, '0')]);
    expect(c.groupBackend).toBe('auto');
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ COORDINATOR_SIGNERS: '' }, /COORDINATOR_SIGNERS is required/],
    [{ COORDINATOR_SIGNERS: 'signer-1=http://x:1' }, /is not id=https/],
    [{ COORDINATOR_SIGNERS: 'a=https://x:1/path' }, /must be a bare origin/],
    [{ COORDINATOR_SIGNERS: 'a=https://x:1,a=https://y:1' }, /ids must be unique/],
    [{ COORDINATOR_AUTH_MODE: 'jwt' }, /COORDINATOR_AUTH_JWKS_FILE is required/],
    [{ COORDINATOR_AUTH_MODE: 'jwt', COORDINATOR_AUTH_JWKS_FILE: '/j' }, /COORDINATOR_AUTH_JWT_ISSUER is required for AUTH_MODE=jwt/],
    [{ COORDINATOR_AUTH_MODE: 'mtls-or-jwt', COORDINATOR_AUTH_JWKS_FILE: '/j' }, /COORDINATOR_AUTH_JWT_ISSUER is required for AUTH_MODE=mtls-or-jwt/],
    [{ COORDINATOR_ALLOWED_CLIENT_SANS: '' }, /COORDINATOR_ALLOWED_CLIENT_SANS is required for AUTH_MODE=mtls/],
    [{ COORDINATOR_MAX_IN_FLIGHT: '10', COORDINATOR_MAX_IN_FLIGHT_PER_PRINCIPAL: '11' }, /COORDINATOR_MAX_IN_FLIGHT_PER_PRINCIPAL/],
    [{ COORDINATOR_TLS_CLIENT_CA_FILE: '' }, /COORDINATOR_TLS_CLIENT_CA_FILE is required for AUTH_MODE=mtls/],
    [{ COORDINATOR_SIGNER_TIMEOUT_MS: '9000', COORDINATOR_SIGN_DEADLINE_MS: '5000' }, /must not exceed/],
    [{ COORDINATOR_KEY_ID: 'bad key' }, /COORDINATOR_KEY_ID must match/],
    [{ COORDINATOR_GROUP_BACKEND: 'gpu' }, /COORDINATOR_GROUP_BACKEND must be one of auto, native, sodium, noble/],
    [{ COORDINATOR_AUDIT_SYNC: 'true' }, /COORDINATOR_AUDIT_SYNC needs COORDINATOR_AUDIT_FILE/],
    [{ COORDINATOR_SIGNERS: 'signer-1=inbound,signer-2=https://x:1' }, /names signers that dial in \(id=inbound\): COORDINATOR_SIGNER_LISTEN_PORT is required/],
    [{ COORDINATOR_SIGNERS: 'signer-1=inbound-ish' }, /is not id=https:\/\/host:port or id=inbound/],
    [{ COORDINATOR_SIGNER_TRANSPORT: 'http2' }, /COORDINATOR_SIGNER_TRANSPORT must be one of auto, channel, http1/],
    [{ COORDINATOR_MAX_BATCH_ITEMS: '0' }, /COORDINATOR_MAX_BATCH_ITEMS/],
    [{ COORDINATOR_SIGNER_PARTICIPANTS: 'signer-9=1' }, /"signer-9" is not a signer of COORDINATOR_SIGNERS/],
    [{ COORDINATOR_SIGNER_PARTICIPANTS: 'signer-1=1,signer-2=1' }, /participant 1 is pinned to two signers/],
    [{ COORDINATOR_SIGNER_PARTICIPANTS: 'signer-1=70000' }, /"70000" is not a participant identifier/],
    [{ COORDINATOR_SIGNER_PARTICIPANTS: 'signer-1=x' }, /is not id=<participant/],
  ])('rejects %j with a precise message', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });

  it('signers that dial in are registered as inbound, with the listener they connect to; batch and channel settings have defaults', () => {
    const c = loadConfig({ ...base, COORDINATOR_SIGNERS: 'signer-1=inbound,signer-2=https://10.0.0.2:7443', COORDINATOR_SIGNER_LISTEN_PORT: '7444' });
    expect(c.signers).toEqual([
      { id: 'signer-1', url: 'inbound://signer-1', inbound: true },
      { id: 'signer-2', url: 'https://10.0.0.2:7443' },
    ]);
    expect(c.signerListen).toEqual({ host: '0.0.0.0', port: 7444 });
    const d = loadConfig(base);
    expect(d.signerListen).toBeUndefined();
    expect({ transport: d.signerTransport, inFlight: d.signerMaxInFlight, batch: d.signerMaxBatch, items: d.maxBatchItems, body: d.maxBatchBodyBytes }).toEqual({
      transport: 'auto',
      inFlight: 2,
      batch: 64,
      items: 64,
      body: 1024 * 1024,
    });
  });
});
