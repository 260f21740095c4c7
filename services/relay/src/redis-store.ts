/**
 * The relay's state in a Redis-protocol server (Redis or Valkey; one primary, not Cluster mode), shared
 * by every replica. What the server offers is used as it is: keys expire by PEXPIRE (challenges, tokens,
 * sessions after 24 h idle), queues are lists, and every change that reads and writes several keys runs
 * as one Lua script, so two replicas never interleave inside it. Events travel by pub/sub, one channel
 * per user, subscribed on a second connection only while this replica has a listener for that user.
 *
 * Client: @redis/client (node-redis), the client maintained by Redis itself: promise-native, typed,
 * RESP3, pub/sub with reconnection and resubscription built in, no runtime dependencies. Its offline
 * queue is off: while the server is unreachable a request fails at once (STORE_UNAVAILABLE, 503) instead
 * of hanging, and readiness reports it.
 *
 * Bounds: sessions (in total and per coordinator), per-session queued bytes and tokens per user are
 * checked inside the scripts. Outstanding challenges and the total of queued bytes are bounded by the
 * server's `maxmemory` (run it with `maxmemory-policy noeviction`: a full server refuses writes, which
 * the relay answers with 503) and by the per-address rate limits.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createClient, type RedisClientType } from '@redis/client';
import { REDIS_URL_RE } from './config.js';
import { RelayError } from './errors.js';
import type { EventListener, PublicKeyHex, QueueOwner, QueuedMessage, RelayEvent, RelayStore, SessionRecord, StoreLimits, StoreStats, StoreTtl } from './store.js';

/** Shared Lua helpers: the server's clock in ms, and renewing every key of an open session. */
const LUA_PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function touch(P, id, s, idle)
  redis.call('PEXPIRE', s, idle)
  redis.call('PEXPIRE', P .. 'j:' .. id, idle)
  local coord = redis.call('HGET', s, 'c')
  redis.call('PEXPIRE', P .. 'q:' .. id .. ':coordinator', idle)
  redis.call('PEXPIRE', P .. 'uc:' .. coord, idle)
  redis.call('PEXPIRE', P .. 'u:' .. coord, idle)
  for _, pk in ipairs(cjson.decode(redis.call('HGET', s, 'p'))) do
    redis.call('PEXPIRE', P .. 'q:' .. id .. ':' .. pk, idle)
    redis.call('PEXPIRE', P .. 'u:' .. pk, idle)
  end
  redis.call('ZADD', P .. 'live', now_ms() + idle, id)
end
`;

/**
 * The scripts. Every one takes the key prefix as ARGV[1]. Keys: s:<id> (hash: c coordinator, p members
 * JSON, n message count, x closed, qb/qn queued bytes/messages), q:<id>:<owner> (list), j:<id> (joined
 * set), u:<key> (open sessions of a user), uc:<key> (open sessions a user coordinates), live (open
 * sessions by expiry, for counting), t:<token>, ut:<key> (a user's tokens, newest first).
 */
const SCRIPTS = {
  addToken: `
local P, token, pk, ttl, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('SET', P .. 't:' .. token, pk, 'PX', ttl)
local ut = P .. 'ut:' .. pk
redis.call('LPUSH', ut, token)
local kept = 0
for _, t in ipairs(redis.call('LRANGE', ut, 0, -1)) do
  if redis.call('EXISTS', P .. 't:' .. t) == 1 and kept < max then
    kept = kept + 1
  else
    redis.call('DEL', P .. 't:' .. t)
    redis.call('LREM', ut, 0, t)
  end
end
redis.call('PEXPIRE', ut, ttl)
return kept`,
  removeToken: `
local P, token = ARGV[1], ARGV[2]
local pk = redis.call('GET', P .. 't:' .. token)
redis.call('DEL', P .. 't:' .. token)
if pk then redis.call('LREM', P .. 'ut:' .. pk, 0, token) end
return 1`,
  createSession: `${LUA_PRELUDE}
local P, id, coord, members, n, idle, maxPerUser, maxSessions = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local live = P .. 'live'
redis.call('ZREMRANGEBYSCORE', live, '-inf', now_ms())
if redis.call('ZCARD', live) >= maxSessions then return 'RELAY_FULL' end
local uc = P .. 'uc:' .. coord
local count = 0
for _, sid in ipairs(redis.call('SMEMBERS', uc)) do
  if redis.call('HGET', P .. 's:' .. sid, 'x') == '0' then count = count + 1 else redis.call('SREM', uc, sid) end
end
if count >= maxPerUser then return 'TOO_MANY_SESSIONS' end
local s = P .. 's:' .. id
redis.call('HSET', s, 'c', coord, 'p', members, 'n', n, 'x', '0', 'qb', 0, 'qn', 0)
redis.call('SADD', uc, id)
redis.call('SADD', P .. 'u:' .. coord, id)
for _, pk in ipairs(cjson.decode(members)) do redis.call('SADD', P .. 'u:' .. pk, id) end
touch(P, id, s, idle)
return 'OK'`,
  sessionsOf: `
local P, pk = ARGV[1], ARGV[2]
local u = P .. 'u:' .. pk
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', u)) do
  if redis.call('HGET', P .. 's:' .. sid, 'x') == '0' then table.insert(out, sid) else redis.call('SREM', u, sid) end
end
return out`,
  closeSession: `
local P, id, grace = ARGV[1], ARGV[2], tonumber(ARGV[3])
local s = P .. 's:' .. id
if redis.call('HGET', s, 'x') ~= '0' then return 0 end
redis.call('HSET', s, 'x', '1')
local coord = redis.call('HGET', s, 'c')
redis.call('SREM', P .. 'uc:' .. coord, id)
redis.call('SREM', P .. 'u:' .. coord, id)
redis.call('ZREM', P .. 'live', id)
local keys = { s, P .. 'j:' .. id, P .. 'q:' .. id .. ':coordinator' }
for _, pk in ipairs(cjson.decode(redis.call('HGET', s, 'p'))) do
  redis.call('SREM', P .. 'u:' .. pk, id)
  table.insert(keys, P .. 'q:' .. id .. ':' .. pk)
end
for _, k in ipairs(keys) do
  if grace == 0 then redis.call('DEL', k) else redis.call('PEXPIRE', k, grace) end
end
return 1`,
  markJoined: `
local P, id, pk = ARGV[1], ARGV[2], ARGV[3]
local s = P .. 's:' .. id
local ttl = redis.call('PTTL', s)
if ttl < 0 then return 0 end
local added = redis.call('SADD', P .. 'j:' .. id, pk)
redis.call('PEXPIRE', P .. 'j:' .. id, ttl)
return added`,
  enqueue: `${LUA_PRELUDE}
local P, id, entry, bytes, maxBytes, idle = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local s = P .. 's:' .. id
local x = redis.call('HGET', s, 'x')
if not x then return 'SESSION_NOT_FOUND' end
local count = #ARGV - 6
if tonumber(redis.call('HGET', s, 'qb')) + bytes * count > maxBytes then return 'SESSION_QUEUE_FULL' end
local ttl = redis.call('PTTL', s)
for i = 7, #ARGV do
  local q = P .. 'q:' .. id .. ':' .. ARGV[i]
  redis.call('RPUSH', q, entry)
  if x ~= '0' then redis.call('PEXPIRE', q, ttl) end
end
redis.call('HINCRBY', s, 'qb', bytes * count)
redis.call('HINCRBY', s, 'qn', count)
if x == '0' then touch(P, id, s, idle) end
return 'OK'`,
  drain: `${LUA_PRELUDE}
local P, id, owner, idle = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local s = P .. 's:' .. id
local x = redis.call('HGET', s, 'x')
if not x then return false end
local q = P .. 'q:' .. id .. ':' .. owner
local msgs = redis.call('LRANGE', q, 0, -1)
if #msgs == 0 then return msgs end
redis.call('DEL', q)
local bytes = 0
for _, m in ipairs(msgs) do bytes = bytes + (string.len(m) - 64) / 2 end
redis.call('HINCRBY', s, 'qb', -bytes)
redis.call('HINCRBY', s, 'qn', -#msgs)
if x == '0' then touch(P, id, s, idle) end
return msgs`,
  requeue: `
local P, id, owner = ARGV[1], ARGV[2], ARGV[3]
local s = P .. 's:' .. id
local ttl = redis.call('PTTL', s)
if ttl < 0 then return 0 end
local q = P .. 'q:' .. id .. ':' .. owner
local bytes = 0
for i = #ARGV, 4, -1 do
  redis.call('LPUSH', q, ARGV[i])
  bytes = bytes + (string.len(ARGV[i]) - 64) / 2
end
redis.call('PEXPIRE', q, ttl)
redis.call('HINCRBY', s, 'qb', bytes)
redis.call('HINCRBY', s, 'qn', #ARGV - 3)
return 1`,
  stats: `${LUA_PRELUDE}
local P, cap = ARGV[1], tonumber(ARGV[2])
local live = P .. 'live'
redis.call('ZREMRANGEBYSCORE', live, '-inf', now_ms())
local n = redis.call('ZCARD', live)
local qn, qb = 0, 0
for _, sid in ipairs(redis.call('ZRANGE', live, 0, cap - 1)) do
  local v = redis.call('HMGET', P .. 's:' .. sid, 'qn', 'qb')
  qn = qn + (tonumber(v[1]) or 0)
  qb = qb + (tonumber(v[2]) or 0)
end
return { n, qn, qb }`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Sessions whose queues the stats script adds up (bounded so that a scrape never stalls the server). */
const STATS_SESSION_CAP = 10_000;
const KEY_HEX = 64;

const encodeEntry = (m: QueuedMessage): string => m.sender + m.msg;
const decodeEntry = (e: string): QueuedMessage => ({ sender: e.slice(0, KEY_HEX), msg: e.slice(KEY_HEX) });

export interface RedisStoreOptions {
  /** The server's address, or a file holding it (read at start: a mounted Secret). */
  url?: string;
  urlFile?: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  ttl: StoreTtl;
  limits: StoreLimits;
  /** Called when the connection fails or comes back (for a log line; never with the URL). */
  onConnectionEvent?: (event: 'error' | 'ready', detail?: string) => void;
}

export class RedisStore implements RelayStore {
  readonly kind = 'redis' as const;
  readonly #o: RedisStoreOptions;
  /** Connections, made at start. */
  #conn: { client: RedisClientType; subscriber: RedisClientType } | undefined;
  readonly #shas = new Map<ScriptName, string>();
  readonly #listeners = new Map<PublicKeyHex, Set<EventListener>>();
  /** Subscriptions on the server, by user, settled or under way. */
  readonly #subscriptions = new Map<PublicKeyHex, { done: Promise<void>; handler: (text: string) => void }>();
  #started = false;

  constructor(options: RedisStoreOptions) {
    if (!options.url === !options.urlFile) throw new Error('RedisStore needs one of url and urlFile');
    this.#o = options;
  }

  get #client(): RedisClientType {
    if (!this.#conn) throw new RelayError('STORE_UNAVAILABLE', 'store not started');
    return this.#conn.client;
  }

  get #subscriber(): RedisClientType {
    if (!this.#conn) throw new RelayError('STORE_UNAVAILABLE', 'store not started');
    return this.#conn.subscriber;
  }

  async #connect(): Promise<void> {
    const url = this.#o.url ?? (await readFile(this.#o.urlFile!, 'utf8')).trim();
    // Checked here too for a URL read from a file; the message never repeats the URL (it may hold a password).
    if (!REDIS_URL_RE.test(url)) throw new Error(`the store address${this.#o.urlFile ? ` in ${this.#o.urlFile}` : ''} is not a redis:// or rediss:// URL`);
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: this.#o.connectTimeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 3000) },
    }) as unknown as RedisClientType;
    const subscriber = client.duplicate() as unknown as RedisClientType;
    for (const c of [client, subscriber]) {
      // Without a listener, node-redis would throw connection errors as uncaught exceptions.
      c.on('error', (e: Error) => this.#o.onConnectionEvent?.('error', e.message));
      c.on('ready', () => this.#o.onConnectionEvent?.('ready'));
    }
    this.#conn = { client, subscriber };
  }

  #key(...parts: string[]): string {
    return this.#o.keyPrefix + parts.join(':');
  }

  async start(): Promise<void> {
    await this.#connect();
    try {
      await this.#client.connect();
      await this.#subscriber.connect();
      await this.#loadScripts();
    } catch (e) {
      throw new Error(`the Redis-protocol store is unreachable: ${(e as Error).message}`, { cause: e });
    }
    this.#started = true;
  }

  async #loadScripts(): Promise<void> {
    for (const [name, body] of Object.entries(SCRIPTS) as [ScriptName, string][]) {
      this.#shas.set(name, String(await this.#client.sendCommand(['SCRIPT', 'LOAD', body])));
    }
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    if (!this.#conn) return;
    for (const c of [this.#conn.subscriber, this.#conn.client]) {
      if (c.isOpen) await c.close().catch(() => c.destroy());
    }
  }

  notReadyReason(): string | undefined {
    if (!this.#started || !this.#conn) return 'store not connected yet';
    if (!this.#client.isReady || !this.#subscriber.isReady) return 'the Redis-protocol store is unreachable';
    return undefined;
  }

  /** Runs a command; any failure of the server or the connection is STORE_UNAVAILABLE. */
  async #call<T>(args: string[]): Promise<T> {
    try {
      return (await this.#client.sendCommand(args)) as T;
    } catch (e) {
      throw new RelayError('STORE_UNAVAILABLE', `store: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  async #script<T>(name: ScriptName, args: (string | number)[]): Promise<T> {
    const argv = [this.#o.keyPrefix, ...args.map(String)];
    try {
      return (await this.#client.sendCommand(['EVALSHA', this.#shas.get(name)!, '0', ...argv])) as T;
    } catch (e) {
      // A restarted (or flushed) server forgets scripts: load them again once.
      if (/NOSCRIPT/.test((e as Error).message)) {
        await this.#loadScripts().catch(() => undefined);
        return this.#call<T>(['EVALSHA', this.#shas.get(name)!, '0', ...argv]);
      }
      throw new RelayError('STORE_UNAVAILABLE', `store: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  async addChallenge(challenge: string): Promise<boolean> {
    await this.#call(['SET', this.#key('ch', challenge), '1', 'PX', String(this.#o.ttl.challengeMs)]);
    return true;
  }

  async takeChallenge(challenge: string): Promise<boolean> {
    return (await this.#call<number>(['DEL', this.#key('ch', challenge)])) === 1;
  }

  async addToken(token: string, pubkey: PublicKeyHex): Promise<void> {
    await this.#script('addToken', [token, pubkey, this.#o.ttl.tokenMs, this.#o.limits.maxTokensPerUser]);
  }

  async tokenOwner(token: string): Promise<PublicKeyHex | undefined> {
    const v = await this.#call<string | null>(['GET', this.#key('t', token)]);
    return v ?? undefined;
  }

  async removeToken(token: string): Promise<void> {
    await this.#script('removeToken', [token]);
  }

  async createSession(session: Omit<SessionRecord, 'closed'>): Promise<void> {
    const l = this.#o.limits;
    const r = await this.#script<string>('createSession', [
      session.id,
      session.coordinator,
      JSON.stringify(session.pubkeys),
      session.messageCount,
      this.#o.ttl.sessionIdleMs,
      l.maxSessionsPerUser,
      l.maxSessions,
    ]);
    if (r === 'TOO_MANY_SESSIONS') throw new RelayError('TOO_MANY_SESSIONS', `this key already coordinates ${l.maxSessionsPerUser} open sessions; close some first`);
    if (r === 'RELAY_FULL') throw new RelayError('RELAY_FULL', 'the relay holds as many sessions as it may; try later');
  }

  async session(id: string): Promise<SessionRecord | undefined> {
    const [c, p, n, x] = await this.#call<(string | null)[]>(['HMGET', this.#key('s', id), 'c', 'p', 'n', 'x']);
    if (c == null || p == null || n == null || x == null) return undefined;
    return { id, coordinator: c, pubkeys: JSON.parse(p) as string[], messageCount: Number(n), closed: x === '1' };
  }

  async sessionsOf(pubkey: PublicKeyHex): Promise<string[]> {
    return this.#script<string[]>('sessionsOf', [pubkey]);
  }

  async closeSession(id: string): Promise<void> {
    await this.#script('closeSession', [id, this.#o.ttl.closedGraceMs]);
  }

  async markJoined(id: string, pubkey: PublicKeyHex): Promise<boolean> {
    return (await this.#script<number>('markJoined', [id, pubkey])) === 1;
  }

  async enqueue(id: string, owners: readonly QueueOwner[], message: QueuedMessage): Promise<void> {
    const r = await this.#script<string>('enqueue', [id, encodeEntry(message), message.msg.length / 2, this.#o.limits.maxSessionQueueBytes, this.#o.ttl.sessionIdleMs, ...owners]);
    if (r === 'SESSION_NOT_FOUND') throw new RelayError('SESSION_NOT_FOUND');
    if (r === 'SESSION_QUEUE_FULL') throw new RelayError('SESSION_QUEUE_FULL', `the session's queues hold ${this.#o.limits.maxSessionQueueBytes} bytes; recipients must receive first`);
  }

  async drain(id: string, owner: QueueOwner): Promise<QueuedMessage[]> {
    const r = await this.#script<string[] | null>('drain', [id, owner, this.#o.ttl.sessionIdleMs]);
    if (r === null) throw new RelayError('SESSION_NOT_FOUND');
    return r.map(decodeEntry);
  }

  async requeue(id: string, owner: QueueOwner, messages: readonly QueuedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#script('requeue', [id, owner, ...messages.map(encodeEntry)]);
  }

  async stats(): Promise<StoreStats> {
    const [sessions, queuedMessages, queuedBytes] = await this.#script<number[]>('stats', [STATS_SESSION_CAP]);
    return { sessions: Number(sessions), queuedMessages: Number(queuedMessages), queuedBytes: Number(queuedBytes) };
  }

  async publish(pubkey: PublicKeyHex, event: RelayEvent): Promise<void> {
    await this.#call(['PUBLISH', this.#key('ev', pubkey), JSON.stringify(event)]);
  }

  async subscribe(pubkey: PublicKeyHex, listener: EventListener): Promise<() => Promise<void>> {
    let set = this.#listeners.get(pubkey);
    if (!set) this.#listeners.set(pubkey, (set = new Set()));
    set.add(listener);
    let subscribed = this.#subscriptions.get(pubkey);
    if (!subscribed) {
      const handler = (text: string) => this.#dispatch(pubkey, text);
      subscribed = { done: this.#subscriber.subscribe(this.#key('ev', pubkey), handler), handler };
      this.#subscriptions.set(pubkey, subscribed);
    }
    try {
      await subscribed.done;
    } catch (e) {
      set.delete(listener);
      if (this.#subscriptions.get(pubkey) === subscribed) this.#subscriptions.delete(pubkey);
      throw new RelayError('STORE_UNAVAILABLE', `store: ${(e as Error).message}`);
    }
    return async () => {
      const s = this.#listeners.get(pubkey);
      if (!s?.delete(listener) || s.size > 0) return;
      this.#listeners.delete(pubkey);
      const sub = this.#subscriptions.get(pubkey);
      this.#subscriptions.delete(pubkey);
      if (sub && this.#subscriber.isReady) await this.#subscriber.unsubscribe(this.#key('ev', pubkey), sub.handler).catch(() => undefined);
    };
  }

  #dispatch(pubkey: PublicKeyHex, text: string): void {
    let event: RelayEvent;
    try {
      event = JSON.parse(text) as RelayEvent;
    } catch {
      return;
    }
    for (const l of [...(this.#listeners.get(pubkey) ?? [])]) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
