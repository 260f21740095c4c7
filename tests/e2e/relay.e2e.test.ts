// The relay's API contract with a client of this repository (XEdDSA login): every endpoint, queue
// semantics, `null` bodies, error codes and statuses, expiry, rate and size limits, push and long polling,
// hostile input. One body of tests runs against two backends: the memory store (one relay, a clock the
// tests move) and a real Redis-protocol server with two relay replicas, the coordinator talking to one and
// the participants to the other.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { RelayClient, RelayRequestError, newIdentity, xeddsaSign, type PushFrame } from '@hoarfrost/relay/client';
import { ManualClock, RELAXED_RATES, newClient, redisPrefix, redisServer, relayTls, sleep, startInProcess, strangerKey, type StartedRelay } from './relay-support.js';

interface Group {
  /** Where coordinators connect. */
  coordinatorUrl: string;
  /** Where participants connect (another replica with Redis). */
  participantUrl: string;
  relays: StartedRelay[];
  /** Moves time on (the clock, or real time for Redis, whose keys expire on the server's clock). */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

interface Backend {
  name: string;
  start(env: Record<string, string>): Promise<Group>;
  /** Lifetimes for the expiry tests: frostd's own with a clock to move, short ones against Redis. */
  expiryEnv: Record<string, string>;
}

const memory: Backend = {
  name: 'memory store, one relay, a clock the test moves',
  expiryEnv: {},
  async start(env) {
    const clock = new ManualClock();
    const r = await startInProcess({ RELAY_STORE: 'memory', ...env }, clock);
    return {
      coordinatorUrl: r.url,
      participantUrl: r.url,
      relays: [r],
      advance: async (ms) => clock.advance(ms),
      stop: () => r.relay.close(),
    };
  },
};

const redis = await redisServer();
const redisBackend: Backend = {
  name: 'Redis-protocol store, two relay replicas',
  expiryEnv: { RELAY_CHALLENGE_TTL_SECONDS: '1', RELAY_TOKEN_TTL_SECONDS: '10', RELAY_SESSION_IDLE_SECONDS: '2', RELAY_CLOSED_SESSION_GRACE_SECONDS: '1' },
  async start(env) {
    const shared = { RELAY_STORE: 'redis', RELAY_REDIS_URL: redis!.url, RELAY_REDIS_KEY_PREFIX: redisPrefix(), ...env };
    const a = await startInProcess(shared);
    const b = await startInProcess(shared);
    return {
      coordinatorUrl: a.url,
      participantUrl: b.url,
      relays: [a, b],
      advance: (ms) => sleep(ms),
      stop: async () => {
        await a.relay.close();
        await b.relay.close();
      },
    };
  },
};

afterAll(async () => {
  await redis?.stop();
});

/** Expects a refusal: its HTTP status, frostd variant and (when given) the relay's stable code. */
async function refused(p: Promise<unknown>, status: number, variant: string, reason?: string): Promise<RelayRequestError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RelayRequestError);
  const r = e as RelayRequestError;
  expect({ status: r.status, variant: r.variant, ...(reason ? { reason: r.reason } : {}) }).toEqual({ status, variant, ...(reason ? { reason } : {}) });
  return r;
}

const FROSTD_NUMBERS: Record<string, number> = { InvalidArgument: 1, Unauthorized: 2, SessionNotFound: 3, NotCoordinator: 4, NotInSession: 5 };
const hex = (n: number, byte = 0xab) => Buffer.alloc(n, byte).toString('hex');

describe.each([memory, ...(redis ? [redisBackend] : [])])('relay API: $name', (backend) => {
  let g: Group;
  const clients: RelayClient[] = [];
  /** A logged-in client against the coordinator's replica (`side` c) or a participant's (p). */
  async function user(side: 'c' | 'p' = 'p', group: Group = g): Promise<RelayClient> {
    const c = await newClient(side === 'c' ? group.coordinatorUrl : group.participantUrl);
    await c.login();
    clients.push(c);
    return c;
  }
  /** A coordinator and `n` members with a session among them. */
  async function session(n = 2, group: Group = g) {
    const coordinator = await user('c', group);
    const members = await Promise.all(Array.from({ length: n }, () => user('p', group)));
    const id = await coordinator.createNewSession(members.map((m) => m.pubkey));
    return { coordinator, members, id };
  }

  beforeAll(async () => {
    // Long polls of the fuzzed requests must not hold the suite up.
    g = await backend.start({ ...RELAXED_RATES, RELAY_MAX_WAIT_MS: '2000' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await g.stop();
  });

  describe('login (XEdDSA over the challenge UUID)', () => {
    it('argument-less calls take the body null, an empty body, or anything, with or without a content type', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      for (const [body, headers] of [
        ['null', {}],
        [undefined, {}],
        [undefined, { 'content-type': undefined }],
        ['{"ignored":true}', {}],
      ] as const) {
        const r = await c.raw('/challenge', body, headers);
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toBe('application/json');
        expect(JSON.parse(r.text)).toEqual({ challenge: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) });
      }
    });

    it('a signature of the 16 raw challenge bytes logs in; the token is a UUID and names the key', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      const token = await c.login();
      expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(await c.listSessions()).toEqual([]);
    });

    it('a challenge is single-use: replaying it after a login is Unauthorized', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      const id = c.identity!;
      const challenge = await c.challenge();
      const args = { challenge, pubkey: c.pubkey, signature: Buffer.from(xeddsaSign(id.privateKey, Buffer.from(challenge.replace(/-/g, ''), 'hex'))).toString('hex') };
      await c.call('/login', args);
      const e = await refused(c.call('/login', args), 500, 'Unauthorized');
      expect(e.body).toMatchObject({ code: 2, msg: 'client did not provide proper authorization credentials', error: { code: 'Unauthorized' } });
    });

    it('refuses wrong signatures: another key, another challenge, a flipped bit, the UUID as text, an unknown challenge', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      const other = newIdentity();
      const challenge = await c.challenge();
      const raw = Buffer.from(challenge.replace(/-/g, ''), 'hex');
      const sig = (key: Uint8Array, msg: Uint8Array) => Buffer.from(xeddsaSign(key, msg)).toString('hex');
      const good = sig(c.identity!.privateKey, raw);
      const flipped = Buffer.from(good, 'hex');
      flipped[40]! ^= 1;
      for (const signature of [sig(other.privateKey, raw), sig(c.identity!.privateKey, Buffer.from(randomUUID().replace(/-/g, ''), 'hex')), flipped.toString('hex'), sig(c.identity!.privateKey, Buffer.from(challenge))]) {
        await refused(c.call('/login', { challenge, pubkey: c.pubkey, signature }), 500, 'Unauthorized', 'UNAUTHORIZED');
      }
      // A failed signature does not use the challenge up (frostd's order): the right one still logs in.
      await c.call('/login', { challenge, pubkey: c.pubkey, signature: good });
      await refused(c.call('/login', { challenge: randomUUID(), pubkey: c.pubkey, signature: sig(c.identity!.privateKey, raw) }), 500, 'Unauthorized');
    });

    it('argument errors: InvalidArgument for lengths (500), 422 for shapes, 400 for bad JSON, 415 without a JSON content type', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      const challenge = await c.challenge();
      const e = await refused(c.call('/login', { challenge, pubkey: hex(31), signature: hex(64) }), 500, 'InvalidArgument', 'INVALID_ARGUMENT');
      expect(e.body).toEqual({ code: 1, msg: 'invalid or missing argument: pubkey', error: { code: 'InvalidArgument', err: 'pubkey' }, reason: 'INVALID_ARGUMENT' });
      await refused(c.call('/login', { challenge, pubkey: c.pubkey, signature: hex(63) }), 500, 'InvalidArgument');
      await refused(c.call('/login', { challenge, pubkey: c.pubkey, signature: '' }), 500, 'InvalidArgument');
      for (const args of [
        { challenge: 'not-a-uuid', pubkey: c.pubkey, signature: hex(64) },
        { challenge, pubkey: 'zz', signature: hex(64) },
        { challenge, pubkey: c.pubkey.slice(1), signature: hex(64) },
        { challenge, pubkey: c.pubkey },
        { challenge, pubkey: 7, signature: hex(64) },
        [challenge, c.pubkey, hex(64)],
        null,
      ]) {
        await refused(c.call('/login', args), 422, 'UnprocessableJson', 'UNPROCESSABLE_JSON');
      }
      const bad = await c.raw('/login', '{"challenge":');
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text)).toMatchObject({ code: 255, error: { code: 'InvalidJson' }, reason: 'INVALID_JSON' });
      for (const type of [undefined, 'text/plain']) {
        const r = await c.raw('/login', JSON.stringify({ challenge, pubkey: c.pubkey, signature: hex(64) }), { 'content-type': type });
        expect(r.status).toBe(415);
        expect(JSON.parse(r.text)).toMatchObject({ error: { code: 'UnsupportedMediaType' }, reason: 'UNSUPPORTED_MEDIA_TYPE' });
      }
      // The forms of a UUID the uuid crate reads are accepted (here: simple and braced), and mixed-case hex.
      const id = c.identity!;
      for (const form of [(u: string) => u.replace(/-/g, ''), (u: string) => `{${u.toUpperCase()}}`]) {
        const ch = await c.challenge();
        const signature = Buffer.from(xeddsaSign(id.privateKey, Buffer.from(ch.replace(/-/g, ''), 'hex'))).toString('hex').toUpperCase();
        expect(await c.call('/login', { challenge: form(ch), pubkey: c.pubkey.toUpperCase(), signature })).toEqual({ access_token: expect.any(String) });
      }
    });

    it('every authenticated endpoint refuses a missing, malformed, unknown or logged-out token with 500 Unauthorized, before reading arguments', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      const endpoints = ['/logout', '/create_new_session', '/list_sessions', '/get_session_info', '/send', '/receive', '/close_session'];
      for (const token of [undefined, 'Bearer', 'Bearer not-a-uuid', `Bearer ${randomUUID()}`, `Basic ${randomUUID()}`]) {
        for (const path of endpoints) {
          const r = await c.raw(path, '{"broken":', { authorization: token, 'content-type': undefined });
          expect({ path, token, status: r.status, body: JSON.parse(r.text) }).toEqual({ path, token, status: 500, body: expect.objectContaining({ code: 2, error: { code: 'Unauthorized' } }) });
        }
      }
      await c.login();
      expect(await c.listSessions()).toEqual([]);
      const r = await c.raw('/logout', 'null');
      expect({ status: r.status, text: r.text, type: r.headers['content-type'] }).toEqual({ status: 200, text: 'null', type: 'application/json' });
      await refused(c.listSessions(), 500, 'Unauthorized');
    });
  });

  describe('sessions', () => {
    it('create, list, get_session_info: members and the coordinator see the session, nobody else does', async () => {
      const { coordinator, members, id } = await session(2);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const outsider = await user();
      for (const c of [coordinator, ...members]) expect(await c.listSessions()).toEqual([id]);
      expect(await outsider.listSessions()).toEqual([]);
      for (const c of [coordinator, ...members]) {
        expect(await c.getSessionInfo(id)).toEqual({ message_count: 1, pubkeys: members.map((m) => m.pubkey), coordinator_pubkey: coordinator.pubkey });
      }
      await refused(outsider.getSessionInfo(id), 500, 'SessionNotFound', 'SESSION_NOT_FOUND');
      await refused(coordinator.getSessionInfo(randomUUID()), 500, 'SessionNotFound');
      const e = await refused(outsider.closeSession(id), 500, 'SessionNotFound');
      expect(e.body).toMatchObject({ code: 3, msg: 'session was not found' });
    });

    it('validates create_new_session: message_count 1..255, 32-byte keys; duplicates listed once; no members is allowed', async () => {
      const c = await user('c');
      await refused(c.call('/create_new_session', { pubkeys: [strangerKey()], message_count: 0 }), 500, 'InvalidArgument');
      await refused(c.call('/create_new_session', { pubkeys: [strangerKey()], message_count: 256 }), 422, 'UnprocessableJson');
      await refused(c.call('/create_new_session', { pubkeys: [strangerKey()], message_count: -1 }), 422, 'UnprocessableJson');
      await refused(c.call('/create_new_session', { pubkeys: [hex(16)], message_count: 1 }), 500, 'InvalidArgument');
      await refused(c.call('/create_new_session', { pubkeys: 'x', message_count: 1 }), 422, 'UnprocessableJson');
      const k = strangerKey();
      const id = await c.createNewSession([k, k.toUpperCase(), k], 255);
      expect(await c.getSessionInfo(id)).toEqual({ message_count: 255, pubkeys: [k], coordinator_pubkey: c.pubkey });
      const alone = await c.createNewSession([]);
      expect(await c.getSessionInfo(alone)).toEqual({ message_count: 1, pubkeys: [], coordinator_pubkey: c.pubkey });
      await c.closeSession(id);
      await c.closeSession(alone);
    });

    it('only the coordinator closes; close answers null; a closed session is gone from lists and info', async () => {
      const { coordinator, members, id } = await session(2);
      await refused(members[0]!.closeSession(id), 500, 'NotCoordinator', 'NOT_COORDINATOR');
      const r = await coordinator.raw('/close_session', JSON.stringify({ session_id: id }));
      expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: 'null' });
      for (const c of [coordinator, ...members]) {
        expect(await c.listSessions()).toEqual([]);
        await refused(c.getSessionInfo(id), 500, 'SessionNotFound');
      }
      await refused(coordinator.closeSession(id), 500, 'SessionNotFound');
    });
  });

  describe('queues', () => {
    it('one FIFO queue per recipient and one for the coordinator; messages wait; receive drains; sender is the authenticated key', async () => {
      const { coordinator, members, id } = await session(3);
      const [a, b, c] = members as [RelayClient, RelayClient, RelayClient];
      // /send answers 200 with an empty body (no `{}`).
      const r = await a.raw('/send', JSON.stringify({ session_id: id, recipients: [b.pubkey], msg: '01' }));
      expect({ status: r.status, text: r.text }).toEqual({ status: 200, text: '' });
      await a.send(id, [b.pubkey, c.pubkey], '02');
      await c.send(id, [b.pubkey], '03');
      await a.send(id, [], 'c1');
      await b.send(id, [], 'c2');
      expect(await b.receive(id, false)).toEqual([
        { sender: a.pubkey, msg: '01' },
        { sender: a.pubkey, msg: '02' },
        { sender: c.pubkey, msg: '03' },
      ]);
      expect(await b.receive(id, false)).toEqual([]);
      expect(await c.receive(id, false)).toEqual([{ sender: a.pubkey, msg: '02' }]);
      expect(await a.receive(id, false)).toEqual([]);
      // The coordinator's queue: as_coordinator; as_coordinator from a member reads its own queue.
      expect(await a.receive(id, true)).toEqual([]);
      expect(await coordinator.receive(id, false)).toEqual([]);
      expect(await coordinator.receive(id, true)).toEqual([
        { sender: a.pubkey, msg: 'c1' },
        { sender: b.pubkey, msg: 'c2' },
      ]);
      // The coordinator sends to members (its own key is the sender).
      await coordinator.send(id, [a.pubkey], Buffer.from('from coordinator'));
      expect(await a.receive(id, false)).toEqual([{ sender: coordinator.pubkey, msg: Buffer.from('from coordinator').toString('hex') }]);
    });

    it('a coordinator that is also a member has two queues, chosen by as_coordinator', async () => {
      const coordinator = await user('c');
      const m = await user();
      const id = await coordinator.createNewSession([coordinator.pubkey, m.pubkey]);
      await m.send(id, [coordinator.pubkey], 'aa');
      await m.send(id, [], 'bb');
      expect(await coordinator.receive(id, false)).toEqual([{ sender: m.pubkey, msg: 'aa' }]);
      expect(await coordinator.receive(id, true)).toEqual([{ sender: m.pubkey, msg: 'bb' }]);
    });

    it('outsiders and unknown recipients: NotInSession; unknown sessions: SessionNotFound; nothing reaches a non-member', async () => {
      const { coordinator, members, id } = await session(2);
      const outsider = await user();
      const e = await refused(outsider.send(id, [members[0]!.pubkey], 'ee'), 500, 'NotInSession', 'NOT_IN_SESSION');
      expect(e.body).toMatchObject({ code: 5, msg: 'user is not part of the given session' });
      await refused(outsider.send(id, [], 'ee'), 500, 'NotInSession');
      await refused(outsider.receive(id, false), 500, 'NotInSession');
      await refused(outsider.receive(id, true), 500, 'NotInSession');
      await refused(members[0]!.send(id, [outsider.pubkey], 'ee'), 500, 'NotInSession');
      await refused(members[0]!.send(id, [members[1]!.pubkey, outsider.pubkey], 'ee'), 500, 'NotInSession');
      // The coordinator is not a member: it cannot be named as a recipient, only reached by [].
      await refused(members[0]!.send(id, [coordinator.pubkey], 'ee'), 500, 'NotInSession');
      await refused(members[0]!.send(randomUUID(), [], 'ee'), 500, 'SessionNotFound');
      await refused(members[0]!.receive(randomUUID(), false), 500, 'SessionNotFound');
      // None of the refused sends left anything anywhere.
      expect(await members[1]!.receive(id, false)).toEqual([]);
      expect(await coordinator.receive(id, true)).toEqual([]);
      // Another session's messages stay there.
      const other = await session(1);
      await other.members[0]!.send(other.id, [], 'ff');
      await refused(members[0]!.receive(other.id, true), 500, 'NotInSession');
      expect(await other.coordinator.receive(other.id, true)).toEqual([{ sender: other.members[0]!.pubkey, msg: 'ff' }]);
    });

    it('size limits: msg up to 65,535 bytes; one more is InvalidArgument; a body over the limit is 413; bad hex 422', async () => {
      const { coordinator, members, id } = await session(1);
      await members[0]!.send(id, [], hex(65_535));
      expect((await coordinator.receive(id, true))[0]!.msg).toHaveLength(2 * 65_535);
      const e = await refused(members[0]!.send(id, [], hex(65_536)), 500, 'InvalidArgument', 'MESSAGE_TOO_LARGE');
      expect(e.body).toMatchObject({ msg: 'invalid or missing argument: msg is too big' });
      const huge = await members[0]!.raw('/send', JSON.stringify({ session_id: id, recipients: [], msg: hex(600_000) }));
      expect({ status: huge.status, reason: JSON.parse(huge.text).reason }).toEqual({ status: 413, reason: 'PAYLOAD_TOO_LARGE' });
      await refused(members[0]!.send(id, [], 'abc'), 422, 'UnprocessableJson');
      await refused(members[0]!.send(id, [], 'zz'), 422, 'UnprocessableJson');
      await refused(members[0]!.call('/receive', { session_id: id }), 422, 'UnprocessableJson');
      await refused(members[0]!.call('/receive', { session_id: id, as_coordinator: 'yes' }), 422, 'UnprocessableJson');
      expect(await coordinator.receive(id, true)).toEqual([]);
    });

    it('a session closed during an exchange keeps its queues readable for the grace period', async () => {
      const { coordinator, members, id } = await session(2);
      await coordinator.send(id, [members[0]!.pubkey, members[1]!.pubkey], '77');
      await coordinator.closeSession(id);
      expect(await members[0]!.receive(id, false)).toEqual([{ sender: coordinator.pubkey, msg: '77' }]);
      await members[0]!.send(id, [members[1]!.pubkey], '78');
      expect(await members[1]!.receive(id, false)).toEqual([
        { sender: coordinator.pubkey, msg: '77' },
        { sender: members[0]!.pubkey, msg: '78' },
      ]);
    });
  });

  describe('long polling (wait_ms)', () => {
    it('returns as soon as a message arrives, across replicas', async () => {
      const { coordinator, members, id } = await session(1);
      const polled = coordinator.receive(id, true, 10_000);
      await sleep(200);
      await members[0]!.send(id, [], '5a');
      expect(await polled).toEqual([{ sender: members[0]!.pubkey, msg: '5a' }]);
    });

    it('returns what is already queued at once, and nothing after wait_ms when nothing comes', async () => {
      const { coordinator, members, id } = await session(1);
      await members[0]!.send(id, [], '01');
      expect(await coordinator.receive(id, true, 10_000)).toHaveLength(1);
      const started = Date.now();
      expect(await coordinator.receive(id, true, 300)).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('wakes when the session closes', async () => {
      const { coordinator, members, id } = await session(1);
      const polled = members[0]!.receive(id, false, 10_000);
      await sleep(200);
      await coordinator.closeSession(id);
      expect(await polled).toEqual([]);
    });
  });

  describe('push (WebSocket)', () => {
    it('delivers queued and new messages and session events; a pushed message is not received again', async () => {
      const coordinator = await user('c');
      const member = await user('p');
      const sub = await member.subscribe();
      const id = await coordinator.createNewSession([member.pubkey]);
      expect(await sub.next((f) => f.type === 'created')).toEqual({ type: 'created', session_id: id, coordinator: coordinator.pubkey });
      const coordSub = await coordinator.subscribe();
      await member.getSessionInfo(id);
      expect(await coordSub.next((f) => f.type === 'joined')).toEqual({ type: 'joined', session_id: id, pubkey: member.pubkey });
      await coordinator.send(id, [member.pubkey], 'c0ffee');
      expect(await sub.next((f) => f.type === 'message')).toEqual({ type: 'message', session_id: id, as_coordinator: false, sender: coordinator.pubkey, msg: 'c0ffee' });
      expect(await member.receive(id, false)).toEqual([]);
      await member.send(id, [], 'beef');
      expect(await coordSub.next((f) => f.type === 'message')).toEqual({ type: 'message', session_id: id, as_coordinator: true, sender: member.pubkey, msg: 'beef' });
      await coordinator.closeSession(id);
      expect(await sub.next((f) => f.type === 'closed')).toEqual({ type: 'closed', session_id: id });
      sub.close();
      coordSub.close();
    });

    it('flushes what waited before the subscription, in order, then says ready', async () => {
      const { coordinator, members, id } = await session(1);
      for (const m of ['01', '02', '03']) await coordinator.send(id, [members[0]!.pubkey], m);
      const sub = await members[0]!.subscribe();
      const got: PushFrame[] = [];
      for (let i = 0; i < 3; i++) got.push(await sub.next((f) => f.type === 'message'));
      expect(got.map((f) => (f as { msg: string }).msg)).toEqual(['01', '02', '03']);
      sub.close();
    });

    it('refuses a missing or unknown token (500 Unauthorized), a plain GET (426), and closes with 4001 on logout', async () => {
      const c = await newClient(g.participantUrl);
      clients.push(c);
      await refused(c.subscribe(), 500, 'Unauthorized');
      c.token = randomUUID();
      await refused(c.subscribe(), 500, 'Unauthorized');
      const plain = await c.raw('/subscribe', undefined, {}, 5000, 'GET');
      expect(plain.status).toBe(426);
      await c.login();
      const sub = await c.subscribe();
      await c.logout();
      expect((await sub.whenClosed()).code).toBe(4001);
    });
  });

  describe('limits', () => {
    let lg: Group;
    beforeAll(async () => {
      lg = await backend.start({ ...RELAXED_RATES, RELAY_MAX_SESSION_MEMBERS: '3', RELAY_MAX_SESSIONS_PER_USER: '2', RELAY_MAX_SESSION_QUEUE_BYTES: '150000', RELAY_MAX_TOKENS_PER_USER: '2' });
    });
    afterAll(() => lg.stop());

    it('members per session, open sessions per coordinator, queued bytes per session, tokens per key', async () => {
      const c = await user('c', lg);
      await refused(c.createNewSession([strangerKey(), strangerKey(), strangerKey(), strangerKey()]), 500, 'InvalidArgument', 'TOO_MANY_MEMBERS');
      const m = await user('p', lg);
      const s1 = await c.createNewSession([m.pubkey]);
      await c.createNewSession([m.pubkey]);
      const e = await refused(c.createNewSession([m.pubkey]), 500, 'InvalidArgument', 'TOO_MANY_SESSIONS');
      expect(e.body).toMatchObject({ msg: expect.stringMatching(/coordinates 2 open sessions/) });
      await c.closeSession(s1);
      const s3 = await c.createNewSession([m.pubkey]);
      // 150,000 bytes per session: two 65,535-byte messages fit, a third does not until they are received.
      await m.send(s3, [], hex(65_535));
      await m.send(s3, [], hex(65_535));
      await refused(m.send(s3, [], hex(65_535)), 500, 'InvalidArgument', 'SESSION_QUEUE_FULL');
      expect(await c.receive(s3, true)).toHaveLength(2);
      await m.send(s3, [], hex(65_535));
      // A third login of the same key retires its oldest token.
      const t1 = m.token!;
      const second = new RelayClient({ url: lg.participantUrl, ca: (await relayTls()).caPem, identity: m.identity! });
      clients.push(second);
      await second.login();
      await second.login();
      m.token = t1;
      await refused(m.listSessions(), 500, 'Unauthorized');
      expect(await second.listSessions()).toContain(s3);
    });

    it('per-address rates (challenge burst) answer 429 with Retry-After; requests in progress per address are bounded', async () => {
      const rg = await backend.start({ RELAY_RATE_CHALLENGE_BURST: '3', RELAY_RATE_CHALLENGE_PER_MINUTE: '30', RELAY_CONCURRENT_PER_ADDRESS: '3' });
      try {
        const c = await newClient(rg.participantUrl);
        clients.push(c);
        for (let i = 0; i < 3; i++) await c.challenge();
        const r = await c.raw('/challenge', 'null');
        expect({ status: r.status, retry: Number(r.headers['retry-after']) > 0, reason: JSON.parse(r.text).reason }).toEqual({ status: 429, retry: true, reason: 'THROTTLED' });
        await rg.advance(2500);
        await c.challenge();
        // Three long polls hold the address's three slots; a fourth request is refused while they wait.
        const poller = await newClient(rg.participantUrl);
        clients.push(poller);
        await rg.advance(2500);
        await poller.login();
        const coord = await newClient(rg.coordinatorUrl);
        clients.push(coord);
        await rg.advance(2500);
        await coord.login();
        const id = await coord.createNewSession([poller.pubkey]);
        const polls = [1, 2, 3].map(() => poller.receive(id, false, 1500));
        await sleep(300);
        await refused(poller.listSessions(), 429, 'Throttled', 'THROTTLED');
        expect(await Promise.all(polls)).toEqual([[], [], []]);
        expect(await poller.listSessions()).toEqual([id]);
      } finally {
        await rg.stop();
      }
    });
  });

  describe('expiry', () => {
    let eg: Group;
    let ttl: { challengeMs: number; tokenMs: number; sessionIdleMs: number; closedGraceMs: number };
    beforeAll(async () => {
      eg = await backend.start({ ...RELAXED_RATES, ...backend.expiryEnv });
      ttl = eg.relays[0]!.config.ttl;
    });
    afterAll(() => eg.stop());

    it('challenges expire (frostd: 10 s)', async () => {
      const c = await newClient(eg.participantUrl);
      clients.push(c);
      const challenge = await c.challenge();
      await eg.advance(ttl.challengeMs + 300);
      const signature = Buffer.from(xeddsaSign(c.identity!.privateKey, Buffer.from(challenge.replace(/-/g, ''), 'hex'))).toString('hex');
      await refused(c.call('/login', { challenge, pubkey: c.pubkey, signature }), 500, 'Unauthorized');
    });

    it('sessions expire when idle (frostd: 24 h); sending and receiving renew them; closed ones go after the grace', async () => {
      const { coordinator, members, id } = await session(1, eg);
      // Tokens live 1 h on the moved clock: log in again after each step (a login touches no session).
      const advance = async (ms: number) => {
        await eg.advance(ms);
        for (const c of [coordinator, ...members]) await c.login();
      };
      await advance(ttl.sessionIdleMs * 0.6);
      await members[0]!.send(id, [], '01');
      await advance(ttl.sessionIdleMs * 0.6);
      expect(await coordinator.receive(id, true)).toHaveLength(1);
      await advance(ttl.sessionIdleMs * 0.6);
      expect(await coordinator.listSessions()).toEqual([id]);
      await advance(ttl.sessionIdleMs * 0.6);
      expect(await coordinator.listSessions()).toEqual([]);
      await refused(members[0]!.send(id, [], '02'), 500, 'SessionNotFound');
      await refused(coordinator.receive(id, true), 500, 'SessionNotFound');
      const second = await coordinator.createNewSession([members[0]!.pubkey]);
      await coordinator.closeSession(second);
      await members[0]!.receive(second, false);
      await advance(ttl.closedGraceMs + 300);
      await refused(members[0]!.receive(second, false), 500, 'SessionNotFound');
    });

    it('tokens expire (frostd: 1 h)', async () => {
      const c = await newClient(eg.participantUrl);
      clients.push(c);
      await c.login();
      await eg.advance(ttl.tokenMs - 1500);
      expect(await c.listSessions()).toEqual([]);
      await eg.advance(2000);
      await refused(c.listSessions(), 500, 'Unauthorized');
    }, 60_000);
  });

  describe('transport', () => {
    it('unknown paths 404, other methods 405 (Allow: POST), every refusal with the same body shape', async () => {
      const c = await user();
      const nf = await c.raw('/nope', 'null');
      expect({ status: nf.status, body: JSON.parse(nf.text) }).toEqual({ status: 404, body: { code: 255, msg: 'no such endpoint', error: { code: 'NotFound' }, reason: 'NOT_FOUND' } });
      const get = await c.raw('/challenge', undefined, {}, 5000, 'GET');
      expect({ status: get.status, allow: get.headers.allow }).toEqual({ status: 405, allow: 'POST' });
    });

    it('hostile bodies (fuzzed) always get a documented answer and never take the relay down', async () => {
      const c = await user();
      const { id } = await session(1);
      const endpoints = ['/login', '/create_new_session', '/get_session_info', '/send', '/receive', '/close_session'];
      const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(id), fc.constant(c.pubkey), fc.array(fc.string(), { maxLength: 3 }));
      const body = fc.oneof(
        fc.string(),
        fc.json(),
        fc.record({ session_id: value, recipients: value, msg: value, as_coordinator: value, wait_ms: value, pubkeys: value, message_count: value, challenge: value, pubkey: value, signature: value }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...endpoints), body, async (path, text) => {
          const r = await c.raw(path, text);
          if (r.status === 200) return;
          expect([400, 413, 422, 500]).toContain(r.status);
          const parsed = JSON.parse(r.text) as { code: number; error: { code: string }; reason: string };
          if (r.status === 500) expect(FROSTD_NUMBERS[parsed.error.code]).toBe(parsed.code);
          expect(parsed.reason).not.toBe('INTERNAL');
        }),
        { numRuns: 150 },
      );
      expect(await c.challenge()).toMatch(/-/);
    });
  });

  it('the coordinator on one replica and the participants on the other run a whole exchange', async () => {
    const { coordinator, members, id } = await session(2);
    const subs = await Promise.all(members.map((m) => m.subscribe()));
    for (const m of members) await m.send(id, [], Buffer.from(`commitment of ${m.pubkey.slice(0, 8)}`));
    const commitments = await coordinator.receive(id, true, 5000);
    const all = commitments.length === 2 ? commitments : [...commitments, ...(await coordinator.receive(id, true, 5000))];
    expect(all.map((m) => m.sender).sort()).toEqual(members.map((m) => m.pubkey).sort());
    for (const m of members) await coordinator.send(id, [m.pubkey], randomBytes(200));
    for (const s of subs) expect(await s.next((f) => f.type === 'message')).toMatchObject({ session_id: id, sender: coordinator.pubkey });
    for (const s of subs) s.close();
    await coordinator.closeSession(id);
  });
});
