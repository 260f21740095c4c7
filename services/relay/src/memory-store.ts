/**
 * The relay's state in this process (one replica). Every entry carries its expiry time on the injected
 * clock: reads treat an expired entry as gone, and a sweep (every second, and whenever a bound is
 * reached) removes them, so memory follows the bounds of config.limits.
 * @module
 */
import { RelayError } from './errors.js';
import {
  messageBytes,
  systemClock,
  type Clock,
  type EventListener,
  type PublicKeyHex,
  type QueueOwner,
  type QueuedMessage,
  type RelayEvent,
  type RelayStore,
  type SessionRecord,
  type StoreLimits,
  type StoreStats,
  type StoreTtl,
} from './store.js';

interface MemorySession {
  record: SessionRecord;
  expiresAt: number;
  queues: Map<QueueOwner, QueuedMessage[]>;
  queuedMessages: number;
  queuedBytes: number;
  joined: Set<PublicKeyHex>;
}

/** Adds `id` to the set of `key` in `index`. */
function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}
function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}

export class MemoryStore implements RelayStore {
  readonly kind = 'memory' as const;
  readonly #ttl: StoreTtl;
  readonly #limits: StoreLimits;
  readonly #clock: Clock;
  readonly #challenges = new Map<string, number>();
  readonly #tokens = new Map<string, { pubkey: PublicKeyHex; expiresAt: number }>();
  /** Tokens of each user, oldest first. */
  readonly #userTokens = new Map<PublicKeyHex, string[]>();
  readonly #sessions = new Map<string, MemorySession>();
  /** Open sessions of each user (member or coordinator). */
  readonly #userSessions = new Map<PublicKeyHex, Set<string>>();
  /** Open sessions each user coordinates. */
  readonly #coordinated = new Map<PublicKeyHex, Set<string>>();
  readonly #listeners = new Map<PublicKeyHex, Set<EventListener>>();
  #openSessions = 0;
  #queuedMessages = 0;
  #queuedBytes = 0;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: { ttl: StoreTtl; limits: StoreLimits; clock?: Clock }) {
    this.#ttl = options.ttl;
    this.#limits = options.limits;
    this.#clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.#sweeper = setInterval(() => this.sweep(), 1000);
    this.#sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#listeners.clear();
  }

  notReadyReason(): string | undefined {
    return undefined;
  }

  /** Removes every expired entry. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [c, at] of this.#challenges) if (at <= now) this.#challenges.delete(c);
    for (const [t, e] of this.#tokens) if (e.expiresAt <= now) this.#dropToken(t);
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#dropSession(id, s);
  }

  async addChallenge(challenge: string): Promise<boolean> {
    if (this.#challenges.size >= this.#limits.maxChallenges) this.sweep();
    if (this.#challenges.size >= this.#limits.maxChallenges) return false;
    this.#challenges.set(challenge, this.#clock.now() + this.#ttl.challengeMs);
    return true;
  }

  async takeChallenge(challenge: string): Promise<boolean> {
    const at = this.#challenges.get(challenge);
    if (at === undefined) return false;
    this.#challenges.delete(challenge);
    return at > this.#clock.now();
  }

  async addToken(token: string, pubkey: PublicKeyHex): Promise<void> {
    const now = this.#clock.now();
    this.#tokens.set(token, { pubkey, expiresAt: now + this.#ttl.tokenMs });
    const list = (this.#userTokens.get(pubkey) ?? []).filter((t) => (this.#tokens.get(t)?.expiresAt ?? 0) > now);
    list.push(token);
    while (list.length > this.#limits.maxTokensPerUser) this.#tokens.delete(list.shift()!);
    this.#userTokens.set(pubkey, list);
  }

  async tokenOwner(token: string): Promise<PublicKeyHex | undefined> {
    const e = this.#tokens.get(token);
    if (!e) return undefined;
    if (e.expiresAt <= this.#clock.now()) {
      this.#dropToken(token);
      return undefined;
    }
    return e.pubkey;
  }

  async removeToken(token: string): Promise<void> {
    this.#dropToken(token);
  }

  #dropToken(token: string): void {
    const e = this.#tokens.get(token);
    if (!e) return;
    this.#tokens.delete(token);
    const list = this.#userTokens.get(e.pubkey)?.filter((t) => t !== token);
    if (list && list.length > 0) this.#userTokens.set(e.pubkey, list);
    else this.#userTokens.delete(e.pubkey);
  }

  async createSession(session: Omit<SessionRecord, 'closed'>): Promise<void> {
    const now = this.#clock.now();
    if (this.#openSessions >= this.#limits.maxSessions) this.sweep();
    if (this.#openSessions >= this.#limits.maxSessions) throw new RelayError('RELAY_FULL', 'the relay holds as many sessions as it may; try later');
    const mine = this.#coordinated.get(session.coordinator);
    if (mine) for (const id of [...mine]) this.#live(id, now);
    if ((this.#coordinated.get(session.coordinator)?.size ?? 0) >= this.#limits.maxSessionsPerUser) {
      throw new RelayError('TOO_MANY_SESSIONS', `this key already coordinates ${this.#limits.maxSessionsPerUser} open sessions; close some first`);
    }
    const record: SessionRecord = { ...session, pubkeys: [...session.pubkeys], closed: false };
    this.#sessions.set(session.id, { record, expiresAt: now + this.#ttl.sessionIdleMs, queues: new Map(), queuedMessages: 0, queuedBytes: 0, joined: new Set() });
    this.#openSessions++;
    for (const pk of new Set([...record.pubkeys, record.coordinator])) addTo(this.#userSessions, pk, session.id);
    addTo(this.#coordinated, record.coordinator, session.id);
  }

  /** The session if it has not expired (an expired one is dropped on the way). */
  #live(id: string, now = this.#clock.now()): MemorySession | undefined {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= now) {
      this.#dropSession(id, s);
      return undefined;
    }
    return s;
  }

  #unindex(id: string, s: MemorySession): void {
    for (const pk of new Set([...s.record.pubkeys, s.record.coordinator])) removeFrom(this.#userSessions, pk, id);
    removeFrom(this.#coordinated, s.record.coordinator, id);
    this.#openSessions--;
  }

  #dropSession(id: string, s: MemorySession): void {
    this.#sessions.delete(id);
    if (!s.record.closed) this.#unindex(id, s);
    this.#queuedMessages -= s.queuedMessages;
    this.#queuedBytes -= s.queuedBytes;
  }

  #touch(s: MemorySession): void {
    if (!s.record.closed) s.expiresAt = this.#clock.now() + this.#ttl.sessionIdleMs;
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    const s = this.#live(id);
    return s ? { ...s.record, pubkeys: [...s.record.pubkeys] } : undefined;
  }

  async sessionsOf(pubkey: PublicKeyHex): Promise<string[]> {
    const ids = this.#userSessions.get(pubkey);
    if (!ids) return [];
    const now = this.#clock.now();
    return [...ids].filter((id) => this.#live(id, now) !== undefined);
  }

  async closeSession(id: string): Promise<void> {
    const s = this.#live(id);
    if (!s || s.record.closed) return;
    this.#unindex(id, s);
    s.record.closed = true;
    if (this.#ttl.closedGraceMs === 0) this.#dropSession(id, s);
    else s.expiresAt = this.#clock.now() + this.#ttl.closedGraceMs;
  }

  async markJoined(id: string, pubkey: PublicKeyHex): Promise<boolean> {
    const s = this.#live(id);
    if (!s || s.joined.has(pubkey)) return false;
    s.joined.add(pubkey);
    return true;
  }

  async enqueue(id: string, owners: readonly QueueOwner[], message: QueuedMessage): Promise<void> {
    const s = this.#live(id);
    if (!s) throw new RelayError('SESSION_NOT_FOUND');
    const bytes = messageBytes(message) * owners.length;
    if (s.queuedBytes + bytes > this.#limits.maxSessionQueueBytes) {
      throw new RelayError('SESSION_QUEUE_FULL', `the session's queues hold ${this.#limits.maxSessionQueueBytes} bytes; recipients must receive first`);
    }
    if (this.#queuedBytes + bytes > this.#limits.maxQueueBytes) throw new RelayError('RELAY_QUEUE_FULL', 'the relay holds as many queued bytes as it may; try later');
    for (const owner of owners) {
      let q = s.queues.get(owner);
      if (!q) s.queues.set(owner, (q = []));
      q.push({ sender: message.sender, msg: message.msg });
    }
    s.queuedMessages += owners.length;
    s.queuedBytes += bytes;
    this.#queuedMessages += owners.length;
    this.#queuedBytes += bytes;
    this.#touch(s);
  }

  async drain(id: string, owner: QueueOwner): Promise<QueuedMessage[]> {
    const s = this.#live(id);
    if (!s) throw new RelayError('SESSION_NOT_FOUND');
    const q = s.queues.get(owner);
    if (!q || q.length === 0) return [];
    s.queues.delete(owner);
    this.#account(s, -q.length, -q.reduce((n, m) => n + messageBytes(m), 0));
    this.#touch(s);
    return q;
  }

  async requeue(id: string, owner: QueueOwner, messages: readonly QueuedMessage[]): Promise<void> {
    const s = this.#live(id);
    if (!s || messages.length === 0) return;
    s.queues.set(owner, [...messages, ...(s.queues.get(owner) ?? [])]);
    this.#account(s, messages.length, messages.reduce((n, m) => n + messageBytes(m), 0));
  }

  #account(s: MemorySession, messages: number, bytes: number): void {
    s.queuedMessages += messages;
    s.queuedBytes += bytes;
    this.#queuedMessages += messages;
    this.#queuedBytes += bytes;
  }

  async stats(): Promise<StoreStats> {
    return { sessions: this.#openSessions, queuedMessages: this.#queuedMessages, queuedBytes: this.#queuedBytes };
  }

  async publish(pubkey: PublicKeyHex, event: RelayEvent): Promise<void> {
    const listeners = this.#listeners.get(pubkey);
    if (!listeners) return;
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own (push.ts and the long poll catch theirs).
      }
    }
  }

  async subscribe(pubkey: PublicKeyHex, listener: EventListener): Promise<() => Promise<void>> {
    let set = this.#listeners.get(pubkey);
    if (!set) this.#listeners.set(pubkey, (set = new Set()));
    set.add(listener);
    return async () => {
      const s = this.#listeners.get(pubkey);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.#listeners.delete(pubkey);
    };
  }
}

