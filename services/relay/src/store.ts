/**
 * What the relay keeps, behind one interface with two implementations: in memory (one replica, the
 * default) and in a Redis-protocol store (several replicas; memory-store.ts, redis-store.ts). The store
 * also carries the relay's events between replicas: every key (user) has a channel, and the relay
 * publishes on it whatever that user's push connections and long polls wait for.
 *
 * Queues hold messages as the relay received them (hex, end-to-end encrypted by the clients): one FIFO
 * queue per (session, member) and one for the session's coordinator. A drain takes a whole queue at once,
 * atomically, so a message is delivered exactly once whichever way it leaves: /receive, a long poll, or
 * a push connection.
 * @module
 */

/** A public key as the relay stores it: 64 lowercase hex characters (32 bytes). */
export type PublicKeyHex = string;

/** The queue a message waits in: a member's (its key) or the session coordinator's. */
export type QueueOwner = PublicKeyHex | typeof COORDINATOR_QUEUE;
/** The owner name of a session's coordinator queue (not a key: keys are hex). */
export const COORDINATOR_QUEUE = 'coordinator';

export interface SessionRecord {
  id: string;
  coordinator: PublicKeyHex;
  /** Members as the coordinator listed them (duplicates removed). */
  pubkeys: PublicKeyHex[];
  messageCount: number;
  /** Closed by its coordinator and within the grace in which queued messages can still be fetched. */
  closed: boolean;
}

export interface QueuedMessage {
  sender: PublicKeyHex;
  /** The message in lowercase hex. */
  msg: string;
}

/** Bytes a queued message counts for in the bounds: its decoded length. */
export const messageBytes = (m: QueuedMessage): number => m.msg.length / 2;

/** Events on a user's channel. */
export type RelayEvent =
  /** A message for this user waits in a queue of the session (the coordinator's when `as_coordinator`). */
  | { type: 'queued'; session_id: string; as_coordinator: boolean }
  /** A session naming this user (as member or coordinator) was created. */
  | { type: 'created'; session_id: string; coordinator: PublicKeyHex }
  /** A member used a session of this user for the first time. */
  | { type: 'joined'; session_id: string; pubkey: PublicKeyHex }
  /** The session was closed by its coordinator. */
  | { type: 'closed'; session_id: string };

export type EventListener = (event: RelayEvent) => void;

export interface StoreStats {
  sessions: number;
  queuedMessages: number;
  queuedBytes: number;
}

/** Bounds the store enforces (the rest of config.limits is enforced before the store is asked). */
export interface StoreLimits {
  maxSessionsPerUser: number;
  maxSessions: number;
  maxSessionQueueBytes: number;
  maxQueueBytes: number;
  maxTokensPerUser: number;
  maxChallenges: number;
}

export interface StoreTtl {
  challengeMs: number;
  tokenMs: number;
  sessionIdleMs: number;
  closedGraceMs: number;
}

/**
 * The relay's state. Methods throw RelayError with SESSION_NOT_FOUND (a session gone meanwhile),
 * TOO_MANY_SESSIONS, RELAY_FULL, SESSION_QUEUE_FULL, RELAY_QUEUE_FULL or STORE_UNAVAILABLE.
 */
export interface RelayStore {
  readonly kind: 'memory' | 'redis';
  start(): Promise<void>;
  close(): Promise<void>;
  /** Why the store cannot serve now (e.g. Redis unreachable); undefined when it can. */
  notReadyReason(): string | undefined;

  /** Records a challenge for ttl.challengeMs; false when maxChallenges are outstanding. */
  addChallenge(challenge: string): Promise<boolean>;
  /** Consumes a challenge: true once for a challenge that was handed out and has not expired. */
  takeChallenge(challenge: string): Promise<boolean>;

  /** Records an access token of `pubkey` for ttl.tokenMs; retires the user's oldest beyond maxTokensPerUser. */
  addToken(token: string, pubkey: PublicKeyHex): Promise<void>;
  tokenOwner(token: string): Promise<PublicKeyHex | undefined>;
  removeToken(token: string): Promise<void>;

  createSession(session: Omit<SessionRecord, 'closed'>): Promise<void>;
  /** A session, open or closed within its grace; undefined when unknown or expired. */
  session(id: string): Promise<SessionRecord | undefined>;
  /** Open sessions in which `pubkey` is a member or the coordinator. */
  sessionsOf(pubkey: PublicKeyHex): Promise<string[]>;
  /** Closes a session: no longer listed; its queues stay readable (and writable) for ttl.closedGraceMs. */
  closeSession(id: string): Promise<void>;
  /** Notes that `pubkey` used the session; true the first time. */
  markJoined(id: string, pubkey: PublicKeyHex): Promise<boolean>;
  /** Appends `message` to each owner's queue and renews the session's idle expiry. */
  enqueue(id: string, owners: readonly QueueOwner[], message: QueuedMessage): Promise<void>;
  /** Takes the whole queue (oldest first); a non-empty drain renews the session's idle expiry. */
  drain(id: string, owner: QueueOwner): Promise<QueuedMessage[]>;
  /** Puts messages back at the head of a queue (a push that could not be written); dropped if the session is gone. */
  requeue(id: string, owner: QueueOwner, messages: readonly QueuedMessage[]): Promise<void>;
  stats(): Promise<StoreStats>;

  publish(pubkey: PublicKeyHex, event: RelayEvent): Promise<void>;
  /** Listens on a user's channel; resolves once events published from now on will arrive. */
  subscribe(pubkey: PublicKeyHex, listener: EventListener): Promise<() => Promise<void>>;
}

/** Time as the relay reads it: injectable so that tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
