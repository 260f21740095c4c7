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
    expect(c.shutdownDelayMs).toBe(0);
    expect(c.auth.mode).toBe('mtls');
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
  ])('rejects %j with a precise message', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});
