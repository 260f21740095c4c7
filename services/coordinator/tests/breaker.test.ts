// The breaker as production uses it: admit() before sending, then success/failure, or abandon().
import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker } from '../src/breaker.js';

function breaker(threshold = 3, cooldownMs = 1000) {
  let now = 0;
  const states: string[] = [];
  const b = new CircuitBreaker({ failureThreshold: threshold, cooldownMs, now: () => now });
  b.onChange = (s) => states.push(s);
  return { b, states, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('admits everything while closed; opens after the threshold of consecutive failures', () => {
    const { b, states } = breaker();
    b.failure();
    b.failure();
    expect(b.admit()).toBe(true);
    b.success(); // resets the count
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.admit() && b.admit()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.admit()).toBe(false);
    expect(states).toEqual(['open']);
  });

  it('half-open after the cooldown admits exactly one trial until it settles', () => {
    const { b, states, advance } = breaker();
    b.failure(true);
    advance(999);
    expect(b.admit()).toBe(false);
    advance(1);
    expect(b.state).toBe('half-open');
    expect(b.admit()).toBe(true);
    expect(b.admit()).toBe(false); // not two at once
    expect(b.admit()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('an abandoned trial lets the next request try', () => {
    const { b, advance } = breaker(1, 10);
    b.failure();
    advance(10);
    expect(b.admit()).toBe(true);
    expect(b.admit()).toBe(false);
    b.abandon();
    expect(b.state).toBe('half-open');
    expect(b.admit()).toBe(true);
  });

  it('a failed trial reopens it for another cooldown, and a proven cheat opens it at once', () => {
    const { b, advance } = breaker(5, 100);
    b.failure(true);
    expect(b.state).toBe('open');
    advance(100);
    expect(b.admit()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    advance(50);
    expect(b.admit()).toBe(false);
    advance(50);
    expect(b.admit()).toBe(true);
  });

  it('stays open through the late success of a call admitted before a proven cheat opened it', () => {
    const { b, states, advance } = breaker(3, 100);
    expect(b.admit() && b.admit()).toBe(true); // e.g. a pool refill and a request, both in flight
    b.failure(true); // one of them proves a cheat
    b.success(); // the other answers well afterwards
    expect(b.state).toBe('open');
    expect(b.admit()).toBe(false);
    advance(100); // only the cooldown and a trial let the signer back in
    expect(b.admit()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('rejects bad options at construction', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, cooldownMs: 1 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ failureThreshold: 1, cooldownMs: -1 })).toThrow(RangeError);
  });
});
