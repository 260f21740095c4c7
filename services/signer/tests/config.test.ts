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
    [{ SIGNER_COORDINATOR_URL: 'http://coordinator:7444' }, /SIGNER_COORDINATOR_URL must be a bare https origin/],
    [{ SIGNER_COORDINATOR_URL: 'https://coordinator:7444/v1/channel' }, /SIGNER_COORDINATOR_URL must be a bare https origin/],
    [{ SIGNER_MAX_ROUND2_BATCH: '0' }, /SIGNER_MAX_ROUND2_BATCH/],
    [{ SIGNER_TLS_KEY_FILE: undefined }, /SIGNER_TLS_KEY_FILE is required/],
    [{ SIGNER_AUDIT_SYNC: 'true' }, /SIGNER_AUDIT_SYNC needs SIGNER_AUDIT_FILE/],
    [{ SIGNER_STORE_DIR: '/var/lib/frost/keys' }, /SIGNER_KEK_FILE is required with SIGNER_STORE_DIR/],
    [{ SIGNER_DKG_PEERS: 'signer-1,signer 2' }, /SIGNER_DKG_PEERS must list signer ids .*got "signer 2"/],
    [{ SIGNER_DKG_SESSION_TTL_MS: '999' }, /SIGNER_DKG_SESSION_TTL_MS must be between 1000 and 3600000/],
    [{ SIGNER_DKG_SESSION_TTL_MS: '2m' }, /SIGNER_DKG_SESSION_TTL_MS must be an integer/],
    [{ SIGNER_DKG_MIN_THRESHOLD: '1' }, /SIGNER_DKG_MIN_THRESHOLD must be between 2 and 64/],
    // With a store the id is a certificate DNS name in key generation, which has no "_" or ":".
    [{ SIGNER_ID: 'signer_1', SIGNER_STORE_DIR: '/s', SIGNER_KEK_FILE: '/k' }, /SIGNER_ID "signer_1" cannot take part in key generation, which SIGNER_STORE_DIR enables/],
    [{ SIGNER_ID: 'zone:signer-1', SIGNER_STORE_DIR: '/s', SIGNER_KEK_FILE: '/k' }, /SIGNER_ID "zone:signer-1" cannot take part in key generation/],
    [{ SIGNER_DKG_PEERS: 'signer-1,signer_2', SIGNER_STORE_DIR: '/s', SIGNER_KEK_FILE: '/k' }, /SIGNER_DKG_PEERS must list signer ids as their certificates' DNS names .*got "signer_2"/],
  ])('rejects %j with a precise message', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });

  it('reads SIGNER_SHUTDOWN_DELAY_MS (default 2000) and SIGNER_BODY_TIMEOUT_MS (default 5000) in milliseconds', () => {
    expect(loadConfig(base)).toMatchObject({ shutdownDelayMs: 2000, bodyTimeoutMs: 5000 });
    expect(loadConfig({ ...base, SIGNER_SHUTDOWN_DELAY_MS: '15000', SIGNER_BODY_TIMEOUT_MS: '2500' })).toMatchObject({ shutdownDelayMs: 15_000, bodyTimeoutMs: 2500 });
    expect(loadConfig({ ...base, SIGNER_SHUTDOWN_DELAY_MS: '600000', SIGNER_BODY_TIMEOUT_MS: '100' })).toMatchObject({ shutdownDelayMs: 600_000, bodyTimeoutMs: 100 });
    expect(loadConfig({ ...base, SIGNER_BODY_TIMEOUT_MS: '60000' }).bodyTimeoutMs).toBe(60_000);
  });

  it('leaves the replay cache bound to the token verifier unless SIGNER_REPLAY_CACHE_MAX is set', () => {
    expect(loadConfig(base).jwt.maxReplayEntries).toBeUndefined();
    expect(loadConfig({ ...base, SIGNER_REPLAY_CACHE_MAX: '' }).jwt.maxReplayEntries).toBeUndefined();
    expect(loadConfig({ ...base, SIGNER_REPLAY_CACHE_MAX: '50000' }).jwt.maxReplayEntries).toBe(50_000);
  });

  it.each([
    [{ SIGNER_SHUTDOWN_DELAY_MS: '600001' }, /SIGNER_SHUTDOWN_DELAY_MS must be between 0 and 600000/],
    [{ SIGNER_SHUTDOWN_DELAY_MS: '-1' }, /SIGNER_SHUTDOWN_DELAY_MS must be between 0 and 600000/],
    [{ SIGNER_SHUTDOWN_DELAY_MS: '5s' }, /SIGNER_SHUTDOWN_DELAY_MS must be an integer/],
    [{ SIGNER_BODY_TIMEOUT_MS: '99' }, /SIGNER_BODY_TIMEOUT_MS must be between 100 and 60000/],
    [{ SIGNER_BODY_TIMEOUT_MS: '60001' }, /SIGNER_BODY_TIMEOUT_MS must be between 100 and 60000/],
    [{ SIGNER_BODY_TIMEOUT_MS: '1.5' }, /SIGNER_BODY_TIMEOUT_MS must be an integer/],
    [{ SIGNER_REPLAY_CACHE_MAX: '99' }, /SIGNER_REPLAY_CACHE_MAX must be between 100 and 10000000/],
    [{ SIGNER_REPLAY_CACHE_MAX: '10000001' }, /SIGNER_REPLAY_CACHE_MAX must be between 100 and 10000000/],
    [{ SIGNER_REPLAY_CACHE_MAX: 'lots' }, /SIGNER_REPLAY_CACHE_MAX must be an integer/],
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

  it('reads SIGNER_COORDINATOR_URL (signer-dials mode; unset by default) and SIGNER_MAX_ROUND2_BATCH (default 256)', () => {
    expect(loadConfig({ ...base }).coordinatorUrl).toBeUndefined();
    expect(loadConfig({ ...base, SIGNER_COORDINATOR_URL: 'https://frost-coordinator:7444' }).coordinatorUrl).toBe('https://frost-coordinator:7444');
    expect(loadConfig({ ...base }).maxRound2Batch).toBe(256);
    expect(loadConfig({ ...base, SIGNER_MAX_ROUND2_BATCH: '16' }).maxRound2Batch).toBe(16);
  });

  it('has no sealed store unless SIGNER_STORE_DIR is set, and then needs SIGNER_KEK_FILE', () => {
    expect(loadConfig(base).store).toBeUndefined();
    expect(loadConfig({ ...base, SIGNER_KEK_FILE: '/kek' }).store).toBeUndefined();
    expect(loadConfig({ ...base, SIGNER_STORE_DIR: '/var/lib/frost/keys', SIGNER_KEK_FILE: '/etc/frost/kek/kek' }).store).toEqual({ dir: '/var/lib/frost/keys', kekFile: '/etc/frost/kek/kek' });
    expect(loadConfig({ ...base, SIGNER_STORE_DIR: '/s', SIGNER_KEK_FILE: '/k' }).keyDir).toBe('/etc/frost/keys');
  });

  it('reads the key generation settings: peers (none by default), their CA (default: the client CA), the session ttl (default 120 s), the smallest threshold (default 2)', () => {
    expect(loadConfig(base).dkg).toEqual({ peers: [], peerCaFile: '/ca', sessionTtlMs: 120_000, minThreshold: 2 });
    expect(
      loadConfig({ ...base, SIGNER_DKG_PEERS: 'signer-1, signer-2,signer-3', SIGNER_DKG_PEER_CA_FILE: '/peers-ca', SIGNER_DKG_SESSION_TTL_MS: '30000', SIGNER_DKG_MIN_THRESHOLD: '3' }).dkg,
    ).toEqual({ peers: ['signer-1', 'signer-2', 'signer-3'], peerCaFile: '/peers-ca', sessionTtlMs: 30_000, minThreshold: 3 });
  });

  it('keeps accepting "_" and ":" in an id without a sealed store (dealer keys only, no key generation)', () => {
    expect(loadConfig({ ...base, SIGNER_ID: 'zone:signer_1' }).id).toBe('zone:signer_1');
    expect(loadConfig({ ...base, SIGNER_ID: 'signer-1.example', SIGNER_STORE_DIR: '/s', SIGNER_KEK_FILE: '/k' }).id).toBe('signer-1.example');
  });
});

describe('signer config: dialling the coordinator', () => {
  it('looks the coordinator name up every 10 s by default, or every SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS', () => {
    expect(loadConfig(base).coordinatorResolveIntervalMs).toBe(10_000);
    expect(loadConfig({ ...base, SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS: '2500' }).coordinatorResolveIntervalMs).toBe(2500);
  });

  it.each(['0', '99', '3600001', 'often'])('refuses SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS=%s', (value) => {
    expect(() => loadConfig({ ...base, SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS: value })).toThrow(/SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS/);
  });
});
