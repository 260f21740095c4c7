/**
 * Per-address limits, the relay's own version of the nginx settings ZF recommends in front of frostd:
 * request rates per class (token buckets: `perMinute` sustained, `burst` at once) and requests in
 * progress per address (long polls and push connections included). IPv6 clients are counted per /64,
 * the block one subscriber usually holds. The tables are bounded: past `maxTracked` addresses the least
 * recently seen is forgotten. Limits are per replica.
 * @module
 */
import { isIPv6 } from 'node:net';
import type { RateClass } from './config.js';
import { systemClock, type Clock } from './store.js';

export type RateClassName = 'challenge' | 'createSession' | 'other';

/** The key an address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Least-recently-used bounded map: reading or writing an entry makes it the newest. */
class LruMap<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}

export class RateLimiter {
  readonly #classes: Readonly<Record<RateClassName, RateClass>>;
  readonly #buckets: LruMap<{ tokens: number; at: number }>;
  readonly #clock: Clock;

  constructor(classes: Readonly<Record<RateClassName, RateClass>>, maxTracked: number, clock: Clock = systemClock) {
    this.#classes = classes;
    this.#buckets = new LruMap(maxTracked);
    this.#clock = clock;
  }

  /** Takes one request of `cls` for `address`: undefined when allowed, else the seconds until it would be. */
  take(cls: RateClassName, address: string): number | undefined {
    const { perMinute, burst } = this.#classes[cls];
    const key = `${cls} ${addressKey(address)}`;
    const now = this.#clock.now();
    const perMs = perMinute / 60_000;
    const b = this.#buckets.get(key) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    return undefined;
  }
}

/** Requests (and push connections) in progress per address. */
export class ConcurrencyLimiter {
  readonly #max: number;
  readonly #counts = new Map<string, number>();

  constructor(maxPerAddress: number) {
    this.#max = maxPerAddress;
  }

  /** A release function when a slot was free, else undefined. Releasing twice is harmless. */
  acquire(address: string): (() => void) | undefined {
    const key = addressKey(address);
    const n = this.#counts.get(key) ?? 0;
    if (n >= this.#max) return undefined;
    this.#counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }
}
