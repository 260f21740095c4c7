import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';
import { BASE_ENV as base } from './helpers.js';

describe('signer config', () => {
  it('applies defaults and freezes', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(7443);
    expect(c.policy.mode).toBe('raw');
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ SIGNER_ID: '' }, /SIGNER_ID is required/],
    [{ SIGNER_PORT: 'http' }, /SIGNER_PORT must be an integer/],
    [{ SIGNER_PORT: '70000' }, /SIGNER_PORT must be between 0 and 65535/],
    [{ SIGNER_POLICY_MODE: 'yolo' }, /SIGNER_POLICY_MODE must be one of raw, jws/],
    [{ SIGNER_ALLOWED_CLIENT_SANS: '' }, /SIGNER_ALLOWED_CLIENT_SANS is required/],
    [{ SIGNER_TEST_FAULT: 'corrupt-shares' }, /SIGNER_ALLOW_TEST_FAULTS=true/],
    // A round-1 batch larger than the store would evict its own first commitments before answering.
    [{ SIGNER_MAX_NONCES: '2', SIGNER_MAX_COMMITMENT_BATCH: '3' }, /SIGNER_MAX_COMMITMENT_BATCH must not exceed SIGNER_MAX_NONCES/],
    [{ SIGNER_TLS_KEY_FILE: undefined }, /SIGNER_TLS_KEY_FILE is required/],
  ])('rejects %j with a precise message', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });

  it('defaults SIGNER_GROUP_BACKEND to auto and accepts each backend by name', () => {
    expect(loadConfig(base).groupBackend).toBe('auto');
    expect(loadConfig({ ...base, SIGNER_GROUP_BACKEND: '' }).groupBackend).toBe('auto');
    for (const backend of ['auto', 'native', 'sodium', 'noble'] as const) {
      expect(loadConfig({ ...base, SIGNER_GROUP_BACKEND: backend }).groupBackend).toBe(backend);
    }
    expect(loadConfig({ ...base, SIGNER_GROUP_BACKEND: ' noble ' }).groupBackend).toBe('noble');
  });

  it.each(['fast', 'NATIVE', 'libsodium', 'noble,sodium'])('refuses SIGNER_GROUP_BACKEND=%j with a precise message', (value) => {
    expect(() => loadConfig({ ...base, SIGNER_GROUP_BACKEND: value })).toThrow(
      `SIGNER_GROUP_BACKEND must be one of auto, native, sodium, noble, got "${value}"`,
    );
  });
});
