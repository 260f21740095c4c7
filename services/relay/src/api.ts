/**
 * What each endpoint does, after the HTTP layer (http.ts) has authenticated the caller and parsed its
 * arguments: frostd's semantics, step by step, plus the relay's events (created, joined, queued, closed)
 * for push connections and long polls.
 *
 * Access rules, as frostd has them: a session is visible (get_session_info, close_session) only to its
 * coordinator and members, and otherwise does not exist (SessionNotFound); /send and /receive tell a
 * non-member NotInSession; recipients must be members; only the coordinator closes. `sender` is always
 * the authenticated key, never a value the caller chose.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@hoarfrost/runtime';
import type { RelayConfig } from './config.js';
import { RelayError } from './errors.js';
import type { DeliveryChannel, RelayMetrics } from './metrics.js';
import { COORDINATOR_QUEUE, type PublicKeyHex, type QueueOwner, type QueuedMessage, type RelayEvent, type RelayStore, type SessionRecord } from './store.js';
import { assertKey, normalizeUuid, type CreateSessionArgs, type LoginArgs, type ReceiveArgs, type SendArgs, type SessionArgs } from './wire.js';
import { xeddsaVerify } from './xeddsa.js';

/** An authenticated caller. */
export interface User {
  pubkey: PublicKeyHex;
  token: string;
}

/** A message as the API returns it. */
export interface WireMessage {
  sender: PublicKeyHex;
  msg: string;
}

export interface RelayApiDeps {
  config: Readonly<RelayConfig>;
  store: RelayStore;
  metrics: RelayMetrics;
  logger: Logger;
  /** Called after a token is logged out (push connections using it close). */
  onLogout?: (token: string) => void;
}

/** Remembered (session, member) pairs already reported as joined, so that most requests skip the store. */
const JOINED_CACHE_MAX = 50_000;

const short = (pubkey: string) => pubkey.slice(0, 16);
const isMember = (s: SessionRecord, pubkey: string) => s.coordinator === pubkey || s.pubkeys.includes(pubkey);

export class RelayApi {
  readonly #d: RelayApiDeps;
  readonly #joinedSeen = new Set<string>();
  /** Long polls in progress: ended early (with what is queued) when the relay shuts down. */
  readonly #waiting = new Set<() => void>();

  constructor(deps: RelayApiDeps) {
    this.#d = deps;
  }

  /** Resolves every long poll now (shutdown). */
  wakeAll(): void {
    for (const wake of [...this.#waiting]) wake();
  }

  async challenge(): Promise<{ challenge: string }> {
    const challenge = randomUUID();
    if (!(await this.#d.store.addChallenge(challenge))) throw new RelayError('CHALLENGES_EXHAUSTED', 'too many logins in progress; try again shortly');
    return { challenge };
  }

  /** frostd's order: argument shapes, then the signature, then the challenge (single use). */
  async login(args: LoginArgs): Promise<{ access_token: string }> {
    const outcome = (o: string) => this.#d.metrics.logins.inc({ outcome: o });
    try {
      if (args.signature.length === 0 || args.pubkey.length === 0) throw new RelayError('INVALID_ARGUMENT', 'signature or pubkey');
      if (args.pubkey.length !== 64) throw new RelayError('INVALID_ARGUMENT', 'pubkey');
      if (args.signature.length !== 128) throw new RelayError('INVALID_ARGUMENT', 'signature');
      const challengeBytes = Buffer.from(args.challenge.replace(/-/g, ''), 'hex');
      if (!xeddsaVerify(Buffer.from(args.pubkey, 'hex'), challengeBytes, Buffer.from(args.signature, 'hex'))) throw new RelayError('UNAUTHORIZED', 'bad signature');
      if (!(await this.#d.store.takeChallenge(args.challenge))) throw new RelayError('UNAUTHORIZED', 'unknown, used or expired challenge');
      const token = randomUUID();
      await this.#d.store.addToken(token, args.pubkey);
      outcome('ok');
      this.#d.logger.info({ pubkey: short(args.pubkey) }, 'login');
      return { access_token: token };
    } catch (e) {
      if (e instanceof RelayError) outcome(e.code);
      throw e;
    }
  }

  /** The caller behind an Authorization header, or UNAUTHORIZED. */
  async authenticate(authorization: string | undefined): Promise<User> {
    const m = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const token = m ? normalizeUuid(m[1]!) : undefined;
    if (!token) throw new RelayError('UNAUTHORIZED', 'missing or malformed bearer token');
    const pubkey = await this.#d.store.tokenOwner(token);
    if (!pubkey) throw new RelayError('UNAUTHORIZED', 'unknown or expired token');
    return { pubkey, token };
  }

  async logout(user: User): Promise<null> {
    await this.#d.store.removeToken(user.token);
    this.#d.onLogout?.(user.token);
    return null;
  }

  async createNewSession(user: User, args: CreateSessionArgs): Promise<{ session_id: string }> {
    if (args.message_count === 0) throw new RelayError('INVALID_ARGUMENT', 'message_count');
    const pubkeys = [...new Set(args.pubkeys.map((k, i) => assertKey(k, `pubkeys[${i}]`)))];
    if (pubkeys.length > this.#d.config.limits.maxSessionMembers) throw new RelayError('TOO_MANY_MEMBERS', `a session has at most ${this.#d.config.limits.maxSessionMembers} members`);
    const id = randomUUID();
    await this.#d.store.createSession({ id, coordinator: user.pubkey, pubkeys, messageCount: args.message_count });
    this.#d.metrics.sessionsCreated.inc();
    this.#d.logger.info({ session: id, coordinator: short(user.pubkey), members: pubkeys.length }, 'session created');
    await this.#publishAll({ pubkeys, coordinator: user.pubkey }, { type: 'created', session_id: id, coordinator: user.pubkey });
    return { session_id: id };
  }

  async listSessions(user: User): Promise<{ session_ids: string[] }> {
    return { session_ids: await this.#d.store.sessionsOf(user.pubkey) };
  }

  /** Open sessions only, and only to their coordinator and members: otherwise SessionNotFound. */
  async #visibleSession(user: User, id: string): Promise<SessionRecord> {
    const s = await this.#d.store.session(id);
    if (!s || s.closed || !isMember(s, user.pubkey)) throw new RelayError('SESSION_NOT_FOUND');
    return s;
  }

  async getSessionInfo(user: User, args: SessionArgs): Promise<{ message_count: number; pubkeys: string[]; coordinator_pubkey: string }> {
    const s = await this.#visibleSession(user, args.session_id);
    await this.#noteJoined(user, s);
    return { message_count: s.messageCount, pubkeys: s.pubkeys, coordinator_pubkey: s.coordinator };
  }

  /**
   * Queues `msg` for each recipient (none: for the coordinator). A session closed within its grace still
   * takes messages, so that an exchange the coordinator closed under way can finish.
   */
  async send(user: User, args: SendArgs): Promise<void> {
    if (args.msg.length / 2 > this.#d.config.limits.maxMessageBytes) throw new RelayError('MESSAGE_TOO_LARGE', 'msg is too big');
    const s = await this.#d.store.session(args.session_id);
    if (!s) throw new RelayError('SESSION_NOT_FOUND');
    const recipients = [...new Set(args.recipients)];
    if (!isMember(s, user.pubkey) || recipients.some((r) => !s.pubkeys.includes(r))) throw new RelayError('NOT_IN_SESSION');
    const owners: QueueOwner[] = recipients.length === 0 ? [COORDINATOR_QUEUE] : recipients;
    await this.#d.store.enqueue(s.id, owners, { sender: user.pubkey, msg: args.msg });
    this.#d.metrics.messagesSent.inc(owners.length);
    await this.#noteJoined(user, s);
    for (const owner of owners) {
      const toCoordinator = owner === COORDINATOR_QUEUE;
      await this.#publish(toCoordinator ? s.coordinator : owner, { type: 'queued', session_id: s.id, as_coordinator: toCoordinator });
    }
  }

  /**
   * Drains the caller's queue of the session: the coordinator's when the caller is the coordinator and
   * asks `as_coordinator`, else its own. With `wait_ms` and nothing queued, waits (up to the configured
   * bound) for a message or the session's close, then drains; `aborted` ends the wait early.
   */
  async receive(user: User, args: ReceiveArgs, aborted?: AbortSignal): Promise<{ msgs: WireMessage[] }> {
    const s = await this.#d.store.session(args.session_id);
    if (!s) throw new RelayError('SESSION_NOT_FOUND');
    if (!isMember(s, user.pubkey)) throw new RelayError('NOT_IN_SESSION');
    const asCoordinator = args.as_coordinator && s.coordinator === user.pubkey;
    const owner: QueueOwner = asCoordinator ? COORDINATOR_QUEUE : user.pubkey;
    await this.#noteJoined(user, s);
    const waitMs = Math.min(args.wait_ms ?? 0, this.#d.config.limits.maxWaitMs);
    let msgs = await this.#d.store.drain(s.id, owner);
    if (msgs.length > 0 || waitMs === 0 || s.closed) return this.#delivered(msgs, 'poll');
    msgs = await this.#waitAndDrain(user.pubkey, s.id, owner, asCoordinator, waitMs, aborted);
    return this.#delivered(msgs, 'long_poll');
  }

  async #waitAndDrain(pubkey: PublicKeyHex, id: string, owner: QueueOwner, asCoordinator: boolean, waitMs: number, aborted?: AbortSignal): Promise<QueuedMessage[]> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = await this.#d.store.subscribe(pubkey, (e) => {
      if (e.session_id !== id) return;
      if ((e.type === 'queued' && e.as_coordinator === asCoordinator) || e.type === 'closed') wake();
    });
    const timer = setTimeout(wake, waitMs);
    this.#waiting.add(wake);
    this.#d.metrics.longPolls.inc();
    aborted?.addEventListener('abort', wake, { once: true });
    try {
      // Subscribed first, then looked: a message queued in between is seen either way.
      const now = await this.#d.store.drain(id, owner);
      if (now.length > 0) return now;
      await woken;
      // A caller gone meanwhile leaves the messages queued for its next request.
      if (aborted?.aborted) return [];
      return await this.#d.store.drain(id, owner);
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(wake);
      this.#d.metrics.longPolls.dec();
      aborted?.removeEventListener('abort', wake);
      await unsubscribe();
    }
  }

  #delivered(msgs: QueuedMessage[], channel: DeliveryChannel): { msgs: WireMessage[] } {
    if (msgs.length > 0) this.#d.metrics.deliveries.inc({ channel }, msgs.length);
    return { msgs: msgs.map((m) => ({ sender: m.sender, msg: m.msg })) };
  }

  async closeSession(user: User, args: SessionArgs): Promise<null> {
    const s = await this.#visibleSession(user, args.session_id);
    if (s.coordinator !== user.pubkey) throw new RelayError('NOT_COORDINATOR');
    await this.#d.store.closeSession(s.id);
    this.#d.logger.info({ session: s.id, coordinator: short(user.pubkey) }, 'session closed');
    await this.#publishAll(s, { type: 'closed', session_id: s.id });
    return null;
  }

  /** The first use of a session by a member (not its coordinator) is reported to the others. */
  async #noteJoined(user: User, s: SessionRecord): Promise<void> {
    if (user.pubkey === s.coordinator) return;
    const key = `${s.id} ${user.pubkey}`;
    if (this.#joinedSeen.has(key)) return;
    if (this.#joinedSeen.size >= JOINED_CACHE_MAX) this.#joinedSeen.clear();
    this.#joinedSeen.add(key);
    if (!(await this.#d.store.markJoined(s.id, user.pubkey))) return;
    const others = { pubkeys: s.pubkeys.filter((p) => p !== user.pubkey), coordinator: s.coordinator };
    await this.#publishAll(others, { type: 'joined', session_id: s.id, pubkey: user.pubkey });
  }

  async #publishAll(s: { pubkeys: readonly string[]; coordinator: string }, event: RelayEvent): Promise<void> {
    for (const pk of new Set([s.coordinator, ...s.pubkeys])) await this.#publish(pk, event);
  }

  /** Events are a convenience for push clients: a failure to publish never fails the request. */
  async #publish(pubkey: PublicKeyHex, event: RelayEvent): Promise<void> {
    await this.#d.store.publish(pubkey, event).catch((e: Error) => this.#d.logger.warn({ err: e.message, event: event.type }, 'event not published'));
  }
}
