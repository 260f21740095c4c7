import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../src/config.js';

const base = { RELAY_TLS_CERT_FILE: '/c', RELAY_TLS_KEY_FILE: '/k' };

describe('relay config', () => {
  it('defaults to frostd\'s port, lifetimes and limits, ZF\'s recommended rates, and the memory store', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(2744);
    expect(c.store).toEqual({ kind: 'memory' });
    expect(c.ttl).toEqual({ challengeMs: 10_000, tokenMs: 3_600_000, sessionIdleMs: 86_400_000, closedGraceMs: 30_000 });
    expect(c.limits.maxMessageBytes).toBe(65_535);
    expect(c.rate.challenge.perMinute).toBe(30);
    expect(c.rate.createSession.perMinute).toBe(10);
    expect(c.rate.other.perMinute).toBe(240);
    expect(c.rate.concurrentPerAddress).toBe(10);
    expect({ headers: c.headersTimeoutMs, body: c.bodyTimeoutMs }).toEqual({ headers: 5000, body: 5000 });
    // A body holds the largest message in hex to every member of the largest session.
    expect(c.limits.maxBodyBytes).toBeGreaterThanOrEqual(2 * 65_535 + 256 * 66);
  });

  it('selects the Redis-protocol store by configuration', () => {
    const c = loadConfig({ ...base, RELAY_STORE: 'redis', RELAY_REDIS_URL: 'redis://valkey.frost.svc:6379' });
    expect(c.store).toEqual({ kind: 'redis', url: 'redis://valkey.frost.svc:6379', keyPrefix: 'frost-relay:', connectTimeoutMs: 5000 });
    // Or from a file (a mounted Secret: the address may carry a password).
    expect(loadConfig({ ...base, RELAY_STORE: 'redis', RELAY_REDIS_URL_FILE: '/etc/frost/redis/url' }).store).toMatchObject({ kind: 'redis', urlFile: '/etc/frost/redis/url' });
  });

  it.each([
    [{ RELAY_STORE: 'redis' }, /RELAY_STORE=redis needs one of RELAY_REDIS_URL .* and RELAY_REDIS_URL_FILE/],
    [{ RELAY_STORE: 'redis', RELAY_REDIS_URL: 'redis://a:6379', RELAY_REDIS_URL_FILE: '/f' }, /needs one of/],
    [{ RELAY_STORE: 'redis', RELAY_REDIS_URL: 'http://x' }, /redis:\/\/ or rediss:\/\//],
    [{ RELAY_STORE: 'etcd' }, /RELAY_STORE must be one of memory, redis/],
    [{ RELAY_MAX_BODY_BYTES: '4096' }, /RELAY_MAX_BODY_BYTES \(4096\) must be at least/],
    [{ RELAY_MAX_SESSION_QUEUE_BYTES: '2048' }, /MAX_SESSION_QUEUE_BYTES must be at least RELAY_MAX_MESSAGE_BYTES/],
    [{ RELAY_TRUSTED_PROXIES: '10.0.0.1,ingress' }, /"ingress" is not an IP address/],
    [{ RELAY_REDIS_KEY_PREFIX: 'a b' }, /RELAY_REDIS_KEY_PREFIX/],
    [{ RELAY_TLS_KEY_FILE: '' }, /RELAY_TLS_KEY_FILE is required/],
  ])('refuses %j', (extra, message) => {
    expect(() => loadConfig({ ...base, ...extra })).toThrow(message);
  });
});
