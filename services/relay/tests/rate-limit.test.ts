import { describe, expect, it } from '@jest/globals';
import { ConcurrencyLimiter, RateLimiter, addressKey } from '../src/rate-limit.js';

class Clock {
  t = 1_000_000;
  now() {
    return this.t;
  }
}

describe('per-address limits', () => {
  it('allows a burst, then the sustained rate, and says how long to wait', () => {
    const clock = new Clock();
    const r = new RateLimiter({ challenge: { perMinute: 30, burst: 3 }, createSession: { perMinute: 10, burst: 1 }, other: { perMinute: 240, burst: 60 } }, 100, clock);
    for (let i = 0; i < 3; i++) expect(r.take('challenge', '10.0.0.1')).toBeUndefined();
    expect(r.take('challenge', '10.0.0.1')).toBe(2);
    // Classes and addresses are counted apart.
    expect(r.take('other', '10.0.0.1')).toBeUndefined();
    expect(r.take('challenge', '10.0.0.2')).toBeUndefined();
    clock.t += 2000;
    expect(r.take('challenge', '10.0.0.1')).toBeUndefined();
    expect(r.take('challenge', '10.0.0.1')).toBeDefined();
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
  });

  it('forgets the least recently seen address beyond its bound (memory stays bounded)', () => {
    const clock = new Clock();
    const r = new RateLimiter({ challenge: { perMinute: 1, burst: 1 }, createSession: { perMinute: 1, burst: 1 }, other: { perMinute: 1, burst: 1 } }, 100, clock);
    expect(r.take('challenge', '10.0.0.1')).toBeUndefined();
    for (let i = 0; i < 100; i++) r.take('challenge', `10.1.0.${i}`);
    // 10.0.0.1 was forgotten: it starts with a full bucket again.
    expect(r.take('challenge', '10.0.0.1')).toBeUndefined();
  });

  it('bounds requests in progress per address; a release frees exactly one slot', () => {
    const c = new ConcurrencyLimiter(2);
    const a = c.acquire('10.0.0.1')!;
    const b = c.acquire('::ffff:10.0.0.1')!;
    expect(c.acquire('10.0.0.1')).toBeUndefined();
    expect(c.acquire('10.0.0.2')).toBeDefined();
    a();
    a();
    expect(c.acquire('10.0.0.1')).toBeDefined();
    expect(c.acquire('10.0.0.1')).toBeUndefined();
    b();
  });
});
