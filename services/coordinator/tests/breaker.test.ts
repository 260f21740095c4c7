import { describe, expect, it } from '@jest/globals';
import { CircuitBreaker } from '../src/breaker.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, half-opens after the cooldown, closes on success', () => {
    let now = 0;
    const states: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    b.onChange = (s) => states.push(s);
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    b.success(); // resets the count
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 1000;
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(true); // one trial
    expect(b.allow()).toBe(false); // not two at once
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed trial reopens it, and a proven cheat opens it at once', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 100, now: () => now });
    b.failure(true);
    expect(b.state).toBe('open');
    now = 100;
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    now = 150;
    expect(b.allow()).toBe(false);
  });
});
