// The endpoints' semantics against a model (property test): whoever sends whatever to whomever, a message
// reaches exactly the queues it was addressed to, in order, and nobody outside the session reads or writes
// anything; every refusal is the documented one.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@hoarfrost/runtime';
import { RelayApi, type User } from '../src/api.js';
import { loadConfig } from '../src/config.js';
import { MemoryStore } from '../src/memory-store.js';
import { createRelayMetrics } from '../src/metrics.js';

const config = loadConfig({ RELAY_TLS_CERT_FILE: '/c', RELAY_TLS_KEY_FILE: '/k' });

function relayApi() {
  const store = new MemoryStore({ ttl: config.ttl, limits: { ...config.limits } });
  const metrics = createRelayMetrics(() => store.stats(), () => true);
  return new RelayApi({ config, store, metrics, logger: createLogger('test', 'silent') });
}

const USERS: User[] = Array.from({ length: 5 }, (_, i) => ({ pubkey: randomBytes(32).toString('hex'), token: `t${i}` }));
const code = (e: unknown) => (e as { code: string }).code;

type Op = { kind: 'send'; from: number; to: number[] } | { kind: 'receive'; who: number; asCoordinator: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.nat(4), to: fc.uniqueArray(fc.nat(4), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('receive' as const), who: fc.nat(4), asCoordinator: fc.boolean() }),
);

describe('RelayApi against a model', () => {
  it('delivers exactly what was addressed, in order, to members only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }), fc.array(op, { maxLength: 25 }), async (memberIdx, ops) => {
        const api = relayApi();
        const coordinator = USERS[0]!;
        const members = memberIdx.map((i) => USERS[i]!.pubkey);
        const { session_id } = await api.createNewSession(coordinator, { pubkeys: members, message_count: 1 });
        const inSession = (u: User) => u === coordinator || members.includes(u.pubkey);
        // The model: one FIFO per member and one for the coordinator.
        const queues = new Map<string, { sender: string; msg: string }[]>();
        const q = (k: string) => queues.get(k) ?? (queues.set(k, []), queues.get(k)!);
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'send') {
            const from = USERS[o.from]!;
            const to = o.to.map((i) => USERS[i]!.pubkey);
            const msg = (n++).toString(16).padStart(4, '0');
            const result = await api.send(from, { session_id, recipients: to, msg }).then(
              () => 'ok',
              (e: unknown) => code(e),
            );
            const allowed = inSession(from) && to.every((k) => members.includes(k));
            expect(result).toBe(allowed ? 'ok' : 'NOT_IN_SESSION');
            if (allowed) for (const k of to.length === 0 ? ['coordinator'] : to) q(k).push({ sender: from.pubkey, msg });
          } else {
            const who = USERS[o.who]!;
            const got = await api.receive(who, { session_id, as_coordinator: o.asCoordinator, wait_ms: undefined }).then(
              (r) => r.msgs,
              (e: unknown) => code(e),
            );
            if (!inSession(who)) {
              expect(got).toBe('NOT_IN_SESSION');
              continue;
            }
            const key = o.asCoordinator && who === coordinator ? 'coordinator' : who.pubkey;
            expect(got).toEqual(q(key));
            queues.set(key, []);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('visibility: info and close only for the session\'s users; close only by its coordinator', async () => {
    const api = relayApi();
    const [coordinator, member, outsider] = USERS as [User, User, User];
    const { session_id } = await api.createNewSession(coordinator, { pubkeys: [member.pubkey], message_count: 2 });
    expect(await api.getSessionInfo(member, { session_id })).toEqual({ message_count: 2, pubkeys: [member.pubkey], coordinator_pubkey: coordinator.pubkey });
    await expect(api.getSessionInfo(outsider, { session_id })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(api.closeSession(outsider, { session_id })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(api.closeSession(member, { session_id })).rejects.toMatchObject({ code: 'NOT_COORDINATOR' });
    expect(await api.closeSession(coordinator, { session_id })).toBeNull();
    expect(await api.listSessions(member)).toEqual({ session_ids: [] });
  });
});
