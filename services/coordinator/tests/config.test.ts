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
};

describe('coordinator config', () => {
  it('parses the signer registry and applies defaults', () => {
    const c = loadConfig(base);
    expect(c.signers).toEqual([
      { id: 'signer-1', url: 'https://signer-1.frost.svc:7443' },
      { id: 'signer-2', url: 'https://10.0.0.2:7443' },
    ]);
    expect(c.maxBodyBytes).toBe(1024 * 1024);
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
    [{ COORDINATOR_TLS_CLIENT_CA_FILE: '' }, /COORDINATOR_TLS_CLIENT_CA_FILE is required for AUTH_MODE=mtls/],
    [{ COORDINATOR_SIGNER_TIMEOUT_MS: '9000', COORDINATOR_SIGN_DEADLINE_MS: '5000' }, /must not exceed/],
    [{ COORDINATOR_KEY_ID: 'bad key' }, /COORDINATOR_KEY_ID must match/],
    [{ COORDINATOR_GROUP_BACKEND: 'gpu' }, /COORDINATOR_GROUP_BACKEND must be one of auto, native, sodium, noble/],
  ])('rejects %j with a precise message', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});
