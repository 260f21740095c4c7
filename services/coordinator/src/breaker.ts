/**
 * Per-signer circuit breaker: after `failureThreshold` consecutive failures the signer is skipped for
 * `cooldownMs`; then it is half-open, and exactly one trial request at a time is admitted: its
 * outcome closes the breaker or opens it again. Nothing else closes an open breaker.
 * @module
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  onChange: (state: BreakerState) => void = () => {};

  constructor(options: { failureThreshold: number; cooldownMs: number; now?: () => number }) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) throw new RangeError('failureThreshold must be a positive integer');
    if (!(options.cooldownMs >= 0)) throw new RangeError('cooldownMs must not be negative');
    this.#threshold = options.failureThreshold;
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#cooldownMs) this.#set('half-open');
    return this.#state;
  }

  /**
   * May a request be sent now? Closed: yes. Open: no. Half-open: yes for one trial at a time; the
   * caller then owes an outcome ({@link success}, {@link failure}) or, if it sends nothing after all,
   * {@link abandon}.
   */
  admit(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'half-open' && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return true;
    }
    return false;
  }

  /** An admitted trial was not sent after all: the next request may try. */
  abandon(): void {
    this.#trialInFlight = false;
  }

  /**
   * A well-formed answer. It closes a half-open breaker (a trial's outcome) and clears the count of
   * failures; an open one stays open until its cooldown ends: a call admitted before the breaker
   * opened (a refill, a concurrent request, another item of a batch) may answer after a proven
   * cheat opened it, and must not let the cheat back in.
   */
  success(): void {
    if (this.state === 'open') return;
    this.#failures = 0;
    this.#trialInFlight = false;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /** A failure; `severe` (a proven cheat) opens the breaker at once, as does a failed trial. */
  failure(severe = false): void {
    this.#trialInFlight = false;
    this.#failures++;
    if (severe || this.#state === 'half-open' || this.#failures >= this.#threshold) {
      this.#openedAt = this.#now();
      if (this.#state !== 'open') this.#set('open');
    }
  }

  #set(s: BreakerState): void {
    this.#state = s;
    this.onChange(s);
  }
}
