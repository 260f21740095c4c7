// The memory store on a clock the test moves: expiry of every kind of entry, the bounds, and the
// bookkeeping that keeps memory bounded (indexes and counters follow what expires).
import { describe, expect, it } from '@jest/globals';
import { MemoryStore } from '../src/memory-store.js';
import { COORDINATOR_QUEUE, type RelayEvent } from '../src/store.js';

class Clock {
  t = 1_000_000;
  now() {
    return this.t;
  }
}
const ttl = { challengeMs: 10_000, tokenMs: 3_600_000, sessionIdleMs: 86_400_000, closedGraceMs: 30_000 };
const limits = { maxSessionsPerUser: 2, maxSessions: 3, maxSessionQueueBytes: 100, maxQueueBytes: 150, maxTokensPerUser: 2, maxChallenges: 2 };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code: string }) => e.code);

function store() {
  const clock = new Clock();
  return { clock, s: new MemoryStore({ ttl, limits, clock }) };
}

describe('MemoryStore', () => {
  it('challenges: single use, expire after their ttl, bounded in number', async () => {
    const { clock, s } = store();
    expect(await s.addChallenge('c1')).toBe(true);
    expect(await s.addChallenge('c2')).toBe(true);
    expect(await s.addChallenge('c3')).toBe(false);
    expect(await s.takeChallenge('c1')).toBe(true);
    expect(await s.takeChallenge('c1')).toBe(false);
    clock.t += 10_000;
    expect(await s.takeChallenge('c2')).toBe(false);
    expect(await s.addChallenge('c4')).toBe(true);
  });

  it('tokens: expire after an hour; a key holds at most maxTokensPerUser, the oldest retired first', async () => {
    const { clock, s } = store();
    await s.addToken('t1', A);
    clock.t += 1;
    await s.addToken('t2', A);
    await s.addToken('t3', A);
    expect(await s.tokenOwner('t1')).toBeUndefined();
    expect(await s.tokenOwner('t2')).toBe(A);
    await s.removeToken('t2');
    expect(await s.tokenOwner('t2')).toBeUndefined();
    clock.t += ttl.tokenMs;
    expect(await s.tokenOwner('t3')).toBeUndefined();
  });

  it('sessions: listed for members and coordinator, bounded per coordinator and in total, expiring when idle', async () => {
    const { clock, s } = store();
    await s.createSession({ id: 's1', coordinator: A, pubkeys: [B], messageCount: 1 });
    await s.createSession({ id: 's2', coordinator: A, pubkeys: [B, C], messageCount: 1 });
    expect(await code(s.createSession({ id: 's3', coordinator: A, pubkeys: [B], messageCount: 1 }))).toBe('TOO_MANY_SESSIONS');
    await s.createSession({ id: 's3', coordinator: B, pubkeys: [], messageCount: 1 });
    expect(await code(s.createSession({ id: 's4', coordinator: C, pubkeys: [], messageCount: 1 }))).toBe('RELAY_FULL');
    expect((await s.sessionsOf(B)).sort()).toEqual(['s1', 's2', 's3']);
    expect(await s.sessionsOf(C)).toEqual(['s2']);
    clock.t += ttl.sessionIdleMs - 1;
    await s.enqueue('s1', [B], { sender: A, msg: '00' });
    clock.t += 1;
    expect(await s.session('s2')).toBeUndefined();
    expect(await s.sessionsOf(B)).toEqual(['s1']);
    expect((await s.stats()).sessions).toBe(1);
    // The expired sessions no longer count towards the coordinator's bound.
    await s.createSession({ id: 's5', coordinator: A, pubkeys: [], messageCount: 1 });
  });

  it('queues: FIFO per owner, drained whole, bounded bytes per session and in total, counters follow expiry', async () => {
    const { clock, s } = store();
    await s.createSession({ id: 's1', coordinator: A, pubkeys: [B, C], messageCount: 1 });
    await s.createSession({ id: 's2', coordinator: A, pubkeys: [B], messageCount: 1 });
    await s.enqueue('s1', [B, C], { sender: A, msg: '11'.repeat(20) });
    await s.enqueue('s1', [COORDINATOR_QUEUE], { sender: B, msg: '22'.repeat(10) });
    expect(await s.stats()).toEqual({ sessions: 2, queuedMessages: 3, queuedBytes: 50 });
    expect(await code(s.enqueue('s1', [B, C], { sender: A, msg: '33'.repeat(26) }))).toBe('SESSION_QUEUE_FULL');
    await s.enqueue('s2', [B], { sender: A, msg: '44'.repeat(50) });
    await s.createSession({ id: 's3', coordinator: B, pubkeys: [C], messageCount: 1 });
    await s.enqueue('s3', [C], { sender: B, msg: '55'.repeat(45) });
    // s3 holds 51 bytes of its 100, but the relay would hold 151 of its 150.
    expect(await code(s.enqueue('s3', [C], { sender: B, msg: '55'.repeat(6) }))).toBe('RELAY_QUEUE_FULL');
    expect(await s.drain('s1', B)).toEqual([{ sender: A, msg: '11'.repeat(20) }]);
    expect(await s.drain('s1', B)).toEqual([]);
    await s.requeue('s1', B, [{ sender: A, msg: '66' }]);
    await s.enqueue('s1', [B], { sender: C, msg: '77' });
    expect((await s.drain('s1', B)).map((m) => m.msg)).toEqual(['66', '77']);
    clock.t += ttl.sessionIdleMs;
    s.sweep();
    expect(await s.stats()).toEqual({ sessions: 0, queuedMessages: 0, queuedBytes: 0 });
    expect(await code(s.drain('s1', C))).toBe('SESSION_NOT_FOUND');
    expect(await s.sessionsOf(B)).toEqual([]);
  });

  it('a closed session leaves the lists at once and its queues after the grace', async () => {
    const { clock, s } = store();
    await s.createSession({ id: 's1', coordinator: A, pubkeys: [B], messageCount: 1 });
    await s.enqueue('s1', [B], { sender: A, msg: '01' });
    await s.closeSession('s1');
    expect(await s.sessionsOf(B)).toEqual([]);
    expect(await s.session('s1')).toMatchObject({ closed: true });
    expect(await s.drain('s1', B)).toHaveLength(1);
    // Activity does not extend a closed session.
    await s.enqueue('s1', [B], { sender: A, msg: '02' });
    clock.t += ttl.closedGraceMs;
    expect(await s.session('s1')).toBeUndefined();
    expect(await s.stats()).toEqual({ sessions: 0, queuedMessages: 0, queuedBytes: 0 });
  });

  it('events reach the listeners of their user only, until they unsubscribe', async () => {
    const { s } = store();
    const got: RelayEvent[] = [];
    const off = await s.subscribe(A, (e) => got.push(e));
    await s.publish(A, { type: 'closed', session_id: 'x' });
    await s.publish(B, { type: 'closed', session_id: 'y' });
    await off();
    await s.publish(A, { type: 'closed', session_id: 'z' });
    expect(got).toEqual([{ type: 'closed', session_id: 'x' }]);
  });

  it('markJoined is true once per member', async () => {
    const { s } = store();
    await s.createSession({ id: 's1', coordinator: A, pubkeys: [B], messageCount: 1 });
    expect(await s.markJoined('s1', B)).toBe(true);
    expect(await s.markJoined('s1', B)).toBe(false);
    expect(await s.markJoined('nope', B)).toBe(false);
  });
});
