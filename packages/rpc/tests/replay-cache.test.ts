import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { DEFAULT_MAX_REPLAY_ENTRIES, ReplayCache } from '../src/replay-cache.js';

const T = 1_900_000_000; // seconds

describe('ReplayCache', () => {
  it('claims an id once and refuses its replay while it lives', () => {
    const c = new ReplayCache();
    expect(c.claim('a', T + 30, T)).toBe('claimed');
    expect(c.claim('a', T + 30, T + 1)).toBe('replayed');
    // A replay with another expiry is still a replay, and does not extend the entry.
    expect(c.claim('a', T + 3000, T + 30)).toBe('replayed');
    expect(c.claim('b', T + 30, T)).toBe('claimed');
    expect(c.size).toBe(2);
  });

  it('an id stays claimed up to its expiry and is forgotten after it', () => {
    const c = new ReplayCache();
    c.claim('a', T + 30, T);
    expect(c.claim('a', T + 30, T + 30)).toBe('replayed');
    expect(c.claim('a', T + 60, T + 31)).toBe('claimed');
  });

  it('expiry frees entries: a full cache refuses new ids (storing nothing) until some expire', () => {
    const c = new ReplayCache({ maxEntries: 2 });
    expect(c.claim('a', T + 10, T)).toBe('claimed');
    expect(c.claim('b', T + 20, T)).toBe('claimed');
    expect(c.claim('c', T + 20, T)).toBe('full');
    expect(c.size).toBe(2);
    // A refused id was not stored: once there is room it is claimable, not a replay.
    expect(c.claim('a', T + 10, T + 5)).toBe('replayed');
    expect(c.claim('c', T + 30, T + 11)).toBe('claimed');
    expect(c.claim('d', T + 30, T + 11)).toBe('full');
    c.sweep(T + 21);
    expect(c.size).toBe(1);
  });

  it('entries leave in expiry order whatever order they came in', () => {
    const c = new ReplayCache({ maxEntries: 3 });
    c.claim('long', T + 1000, T);
    c.claim('short', T + 5, T);
    c.claim('mid', T + 50, T);
    c.sweep(T + 6);
    expect(c.size).toBe(2);
    expect(c.claim('short', T + 100, T + 6)).toBe('claimed');
    expect(c.claim('mid', T + 100, T + 6)).toBe('replayed');
    expect(c.claim('long', T + 100, T + 6)).toBe('replayed');
  });

  it('property: an id is refused exactly while an earlier claim on it lives, and the size never exceeds the cap', () => {
    const op = fc.record({ id: fc.integer({ min: 0, max: 9 }), lifetime: fc.integer({ min: 0, max: 20 }), advance: fc.integer({ min: 0, max: 5 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const c = new ReplayCache({ maxEntries: max });
        const model = new Map<number, number>(); // id → expiry
        let now = T;
        for (const { id, lifetime, advance } of ops) {
          now += advance;
          for (const [k, exp] of model) if (exp < now) model.delete(k);
          const expected = model.has(id) ? 'replayed' : model.size >= max ? 'full' : 'claimed';
          if (expected === 'claimed') model.set(id, now + lifetime);
          expect(c.claim(String(id), now + lifetime, now)).toBe(expected);
          expect(c.size).toBe(model.size);
          expect(c.size).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the default cap is 200,000 live ids', () => {
    expect(DEFAULT_MAX_REPLAY_ENTRIES).toBe(200_000);
    expect(new ReplayCache().maxEntries).toBe(DEFAULT_MAX_REPLAY_ENTRIES);
    expect(new ReplayCache({ maxEntries: 7 }).maxEntries).toBe(7);
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])('refuses maxEntries %p with InvalidArgumentError', (maxEntries) => {
    expect(() => new ReplayCache({ maxEntries })).toThrow(InvalidArgumentError);
  });

  it('refuses an expiry that is not a finite number (it could never be swept)', () => {
    const c = new ReplayCache();
    expect(() => c.claim('a', Number.NaN, T)).toThrow(InvalidArgumentError);
    expect(() => c.claim('a', Infinity, T)).toThrow(InvalidArgumentError);
    expect(c.size).toBe(0);
  });

  it('uses the current time (seconds) when none is given', () => {
    const c = new ReplayCache();
    const now = Date.now() / 1000;
    expect(c.claim('past', now - 10)).toBe('claimed');
    expect(c.claim('future', now + 60)).toBe('claimed');
    c.sweep();
    expect(c.size).toBe(1);
  });
});
