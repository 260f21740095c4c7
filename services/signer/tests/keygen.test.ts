// The key-generation participant: who it accepts messages from (certificate, SAN, allowlist), what
// it refuses to begin (stale or replayed parameters, a threshold below its minimum, a refresh
// without every holder), its sessions (one per key, a time to live counted from the last step,
// steps in order), whom it names (never itself, never a participant on another's echo alone), and
// its pending key once its activation share is out (kept through aborts, activated without a live
// session, also after a restart over its sealed store; no later run replaces it), and the sessions it
// began (never begun again, also after a restart).
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier } from '@hoarfrost/frost';
import { KEYGEN_PATHS, SignerCallError, decodeKeygenMessage, encodeKeygenMessage, sessionDigest, type KeygenParams, type SignedMessage } from '@hoarfrost/rpc';
import { createLogger } from '@hoarfrost/runtime';
import { createCertificateAuthority } from '@hoarfrost/testkit';
import { KeygenFailed, activateKey, runKeygen } from '../../coordinator/src/keygen.js';
import { KeyVault } from '../src/key-vault.js';
import { MessageSigner, PeerIdentityError, PeerVerifier } from '../src/peer-identity.js';
import { BEGUN_SESSIONS_FILE, BegunSessionsFile, Kek } from '../src/sealed-store.js';
import { Relay, createPki, derOf, makeParticipant, transportOf, type TestParticipant, type Transport } from './keygen-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'keygen-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(join(root, `store-${++dirs}-`));
const quiet = createLogger('keygen-test', 'silent');

const IDS = ['signer-1', 'signer-2', 'signer-3'];
const pki = await createPki([...IDS, 'signer-9']);
const body = new TextEncoder().encode('a message body');

function params(overrides: Partial<KeygenParams> = {}): KeygenParams {
  return {
    session_id: new Uint8Array(32).fill(1),
    kind: 'create',
    key_id: 'k1',
    min_signers: 2,
    issued_at: Math.floor(Date.now() / 1000),
    participants: IDS.map((signer, i) => ({ identifier: Identifier.fromNumber(i + 1).toBytes(), signer })),
    ...overrides,
  };
}

/** A signer's own message of `type` re-signed with changed content (what that signer, if hostile, could send). */
function resign(id: string, type: 'round1' | 'echo', signed: SignedMessage, change: (inner: any) => void): SignedMessage {
  const inner: any = decodeKeygenMessage(type, signed.body);
  change(inner);
  const c = pki.certs.get(id)!;
  return new MessageSigner(derOf(c.certPem), c.keyPem).sign(type, encodeKeygenMessage(inner));
}

/** The participants' transports, `override`n for some (by id). */
function transports(ps: TestParticipant[], relay?: Relay, override: Record<string, Transport> = {}) {
  return ps.map((p) => ({ id: p.id, rpc: relay ? relay.wrap(override[p.id] ?? transportOf(p)) : (override[p.id] ?? transportOf(p)) }));
}

/** A transport whose activate calls fail as an unreachable signer's while `down()` says so. */
function activationLost(p: TestParticipant, down: () => boolean): Transport {
  const t = transportOf(p);
  return {
    id: p.id,
    call: (path, body, signal) => (path === KEYGEN_PATHS.keygenActivate && down() ? Promise.reject(new SignerCallError(p.id, 'SIGNER_UNREACHABLE', 'connection refused')) : t.call(path, body, signal)),
  };
}

describe('PeerVerifier', () => {
  const verifier = (clock?: () => number) => new PeerVerifier({ caPems: [pki.ca.certPem], allowedPeers: IDS, ...(clock ? { clock } : {}) });
  const signed = (id: string): SignedMessage => {
    const c = pki.certs.get(id)!;
    return new MessageSigner(derOf(c.certPem), c.keyPem).sign('round1', body);
  };

  it('accepts a peer message signed with its certificate, as that peer only', () => {
    const m = signed('signer-2');
    expect(() => verifier().verify(m, 'signer-2', 'round1')).not.toThrow();
    expect(() => verifier().verify(m, 'signer-1', 'round1')).toThrow(/does not name signer-1/);
    expect(() => verifier().verify(m, 'signer-2', 'echo')).toThrow(/signature/);
    expect(() => verifier().verify({ ...m, body: new TextEncoder().encode('another body') }, 'signer-2', 'round1')).toThrow(PeerIdentityError);
  });

  it("refuses the coordinator's certificate (same CA, its SAN is no key-generation peer)", () => {
    const m = new MessageSigner(derOf(pki.coordinator.certPem), pki.coordinator.keyPem).sign('round1', body);
    expect(() => verifier().verify(m, 'frost-coordinator', 'round1')).toThrow(/not a key-generation peer/);
    expect(() => verifier().verify(m, 'signer-2', 'round1')).toThrow(/does not name signer-2/);
  });

  it('refuses a certified signer outside the allowlist, a certificate of another CA, and one not valid now', async () => {
    expect(() => verifier().verify(signed('signer-9'), 'signer-9', 'round1')).toThrow(/not a key-generation peer/);
    const rogue = await createCertificateAuthority('rogue');
    const r = await rogue.issue({ commonName: 'signer-2', dnsNames: ['signer-2'], usages: ['client'] });
    expect(() => verifier().verify(new MessageSigner(derOf(r.certPem), r.keyPem).sign('round1', body), 'signer-2', 'round1')).toThrow(/not issued by a peer CA/);
    expect(() => verifier(() => Date.now() + 400 * 24 * 3600 * 1000).verify(signed('signer-2'), 'signer-2', 'round1')).toThrow(/not valid now/);
  });

  it('refuses a signing key that is not the certificate key', () => {
    expect(() => new MessageSigner(derOf(pki.certs.get('signer-1')!.certPem), pki.certs.get('signer-2')!.keyPem)).toThrow(/not the key of the certificate/);
  });
});

describe('KeygenParticipant: begin', () => {
  it('refuses a certificate that does not name its signer id', () => {
    expect(() => makeParticipant(pki, 'signer-1', IDS, { signerId: 'signer-2' })).toThrow(/DNS:signer-2/);
  });

  it('refuses sessions it is not in, with strangers, or for an existing key; one live session per key', async () => {
    const p = makeParticipant(pki, 'signer-1', IDS);
    const others = params({ participants: params().participants.map((e, i) => ({ ...e, signer: i === 0 ? 'signer-9' : e.signer })) });
    await expect(p.participant.begin(others)).rejects.toMatchObject({ code: 'DKG_REFUSED' });
    const stranger = makeParticipant(pki, 'signer-1', [...IDS]);
    await expect(stranger.participant.begin(params({ participants: [...params().participants.slice(0, 2), { identifier: Identifier.fromNumber(3).toBytes(), signer: 'signer-9' }] }))).rejects.toMatchObject({ code: 'DKG_REFUSED' });
    await expect(p.participant.begin({ ...params(), min_signers: 4 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(p.participant.begin({ ...params(), extra: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });

    const first = await p.participant.begin(params());
    expect('ok' in first).toBe(true);
    await expect(p.participant.begin(params({ session_id: new Uint8Array(32).fill(2) }))).rejects.toMatchObject({ code: 'DKG_BUSY' });
    expect('ok' in (await p.participant.begin(params({ key_id: 'k2' })))).toBe(true);

    p.store.keys.set('k3', { ...p.store.keys.get('x')!, keyId: 'k3' } as never);
    await expect(p.participant.begin(params({ key_id: 'k3' }))).rejects.toMatchObject({ code: 'KEY_EXISTS' });
  });

  it('a session expires after its time to live; a new one for the key can then begin', async () => {
    let now = 1_000_000;
    const p = makeParticipant(pki, 'signer-1', IDS, { clock: () => now });
    await p.participant.begin(params({ issued_at: 1000 }));
    now += 120_001;
    const session = sessionDigest(params({ issued_at: 1000 }));
    await expect(p.participant.echo({ session, round1: [] })).rejects.toMatchObject({ code: 'DKG_SESSION_UNKNOWN' });
    expect(p.participant.liveSessions).toBe(0);
    expect('ok' in (await p.participant.begin(params({ session_id: new Uint8Array(32).fill(3), issued_at: 1120 })))).toBe(true);
  });

  it('begins a session digest once: after an abort (or an expiry) the same parameters are refused, so no second round-1 message is signed for it', async () => {
    let now = Date.now();
    const p = makeParticipant(pki, 'signer-1', IDS, { clock: () => now });
    const issued = params({ key_id: 'once' });
    const first = await p.participant.begin(issued);
    expect('ok' in first).toBe(true);
    await p.participant.abort({ session: sessionDigest(issued), key_id: 'once' });
    await expect(p.participant.begin(issued)).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/begun on this signer before/) });
    now += 120_001; // the session would have expired by now: still refused
    await expect(p.participant.begin(issued)).rejects.toMatchObject({ code: 'DKG_REFUSED' });
    now += 60_000; // and once the digest is forgotten, the parameters are stale
    await expect(p.participant.begin(issued)).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/stale/) });
    // New parameters (a new session id and issue time) begin.
    expect('ok' in (await p.participant.begin(params({ key_id: 'once', session_id: new Uint8Array(32).fill(9), issued_at: Math.floor(now / 1000) })))).toBe(true);
  });

  it('a restarted participant (a new instance over the same store directory) refuses to begin the same parameters again', async () => {
    let now = Date.now();
    const dir = freshDir();
    const start = () => makeParticipant(pki, 'signer-1', IDS, { clock: () => now, begunSessions: new BegunSessionsFile(dir), logger: quiet });
    const issued = params({ key_id: 'restart-once' });
    const first = start();
    expect('ok' in (await first.participant.begin(issued))).toBe(true);
    // Written before the begin answered: not secret, but the store's mode.
    const path = join(dir, BEGUN_SESSIONS_FILE);
    expect(readFileSync(path, 'utf8')).toContain(Buffer.from(sessionDigest(issued)).toString('hex'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    first.participant.close();

    const restarted = start();
    await expect(restarted.participant.begin(issued)).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/begun on this signer before/) });
    expect(restarted.participant.liveSessions).toBe(0);
    // New parameters begin; once the first ones are stale they are dropped from the record.
    now += 150_001;
    const later = params({ key_id: 'restart-once', session_id: new Uint8Array(32).fill(7), issued_at: Math.floor(now / 1000) });
    expect('ok' in (await restarted.participant.begin(later))).toBe(true);
    expect([...(await new BegunSessionsFile(dir).load()).keys()]).toEqual([Buffer.from(sessionDigest(later)).toString('hex')]);
    await expect(start().participant.begin(later)).rejects.toMatchObject({ code: 'DKG_REFUSED' });
  });

  it('a record of begun sessions it cannot read: it begins nothing (DKG_UNAVAILABLE, naming the file), rather than forget', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, BEGUN_SESSIONS_FILE), 'hoarfrost-begun-sessions v1\nnot a digest\n');
    const p = makeParticipant(pki, 'signer-1', IDS, { begunSessions: new BegunSessionsFile(dir), logger: quiet });
    const refusal = (await p.participant.begin(params()).catch((e: unknown) => e)) as Error;
    expect(refusal).toMatchObject({ code: 'DKG_UNAVAILABLE' });
    expect(refusal.message).toContain(join(dir, BEGUN_SESSIONS_FILE));
    expect(refusal.message).toMatch(/line 2/);
    expect(p.participant.liveSessions).toBe(0);
    // Nothing was rewritten over it.
    expect(readFileSync(join(dir, BEGUN_SESSIONS_FILE), 'utf8')).toBe('hoarfrost-begun-sessions v1\nnot a digest\n');
  });

  it('a begin whose record cannot be written answers nothing (DKG_UNAVAILABLE); its digest stays begun', async () => {
    const p = makeParticipant(pki, 'signer-1', IDS, { logger: quiet });
    p.begun.failSaves = true;
    await expect(p.participant.begin(params())).rejects.toMatchObject({ code: 'DKG_UNAVAILABLE' });
    expect(p.participant.liveSessions).toBe(0);
    p.begun.failSaves = false;
    await expect(p.participant.begin(params())).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/begun on this signer before/) });
    expect('ok' in (await p.participant.begin(params({ session_id: new Uint8Array(32).fill(5) })))).toBe(true);
    expect(p.begun.entries.size).toBe(2);
  });

  it('refuses parameters issued too long ago or in the future by its clock (the TTL and a clock tolerance)', async () => {
    const now = 2_000_000_000_000;
    const p = makeParticipant(pki, 'signer-1', IDS, { clock: () => now, clockToleranceMs: 10_000 });
    const at = (seconds: number, n: number) => params({ key_id: `t${n}`, session_id: new Uint8Array(32).fill(n), issued_at: seconds });
    await expect(p.participant.begin(at(now / 1000 - 131, 1))).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/stale/) });
    await expect(p.participant.begin(at(now / 1000 + 11, 2))).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/future/) });
    expect('ok' in (await p.participant.begin(at(now / 1000 - 130, 3)))).toBe(true);
    expect('ok' in (await p.participant.begin(at(now / 1000 + 10, 4)))).toBe(true);
  });

  it('refuses to create a key with a threshold below its minimum (SIGNER_DKG_MIN_THRESHOLD)', async () => {
    const p = makeParticipant(pki, 'signer-1', IDS, { minThreshold: 3 });
    await expect(p.participant.begin(params({ min_signers: 2 }))).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/at least 3/) });
    expect('ok' in (await p.participant.begin(params({ min_signers: 3 })))).toBe(true);
    expect(() => makeParticipant(pki, 'signer-1', IDS, { minThreshold: 1 })).toThrow(/minThreshold/);
  });

  it('a step out of order ends the session as a relay fault; abort drops a session', async () => {
    const p = makeParticipant(pki, 'signer-1', IDS);
    await p.participant.begin(params());
    const session = sessionDigest(params());
    const answer = await p.participant.deal({ session, echoes: [] });
    expect(answer).toEqual({ abort: expect.objectContaining({ code: 'DKG_RELAY_FAULT', relay_fault: true, culprits: [] }) });
    await expect(p.participant.deal({ session, echoes: [] })).rejects.toMatchObject({ code: 'DKG_SESSION_UNKNOWN' });

    await p.participant.begin(params({ session_id: new Uint8Array(32).fill(4) }));
    expect(p.participant.liveSessions).toBe(1);
    expect(await p.participant.abort({ session: sessionDigest(params({ session_id: new Uint8Array(32).fill(4) })), key_id: 'k1' })).toEqual({ ok: {} });
    expect(p.participant.liveSessions).toBe(0);
  });
});

describe('KeygenParticipant: refresh', () => {
  it('refuses a refresh that leaves a holder of the key out, or changes its threshold', async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    const made = await runKeygen({ kind: 'create', keyId: 'held', minSigners: 2, participants: transports(ps) });
    const ids = made.participants.map((q) => Buffer.from(q.identifier, 'hex'));
    const refresh = (n: number, minSigners = 2) =>
      params({ kind: 'refresh', key_id: 'held', group_key: made.verifyingKey, min_signers: minSigners, participants: IDS.slice(0, n).map((signer, i) => ({ signer, identifier: ids[i]! })) });
    await expect(ps[0]!.participant.begin(refresh(2))).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/every holder/) });
    await expect(ps[0]!.participant.begin(refresh(3, 3))).rejects.toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/keeps the threshold/) });
    expect('ok' in (await ps[0]!.participant.begin(refresh(3)))).toBe(true);
  });
});

describe('KeygenParticipant: sessions', () => {
  it('a session lives its time to live from its last step: a run whose every step takes most of it completes', async () => {
    let now = Date.now();
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS, { clock: () => now }));
    // 100 s pass before each step reaches the participants (the time to live is 120 s).
    let last = '';
    const relay = new Relay({
      request(_target, path, b) {
        if (path !== last) now += 100_000;
        last = path;
        return b;
      },
    });
    const result = await runKeygen({ kind: 'create', keyId: 'slow', minSigners: 2, participants: transports(ps, relay), clock: () => now });
    for (const p of ps) expect(p.store.active('slow')?.publicKeyPackage.verifyingKeyBytes).toEqual(result.verifyingKey);
  });
});

describe('KeygenParticipant: whom it names', () => {
  it('an echo that disagrees with the round-1 messages it received: the run ends naming nobody (not the participant the echo is about)', async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    // A relay that checks nothing, and a hostile signer-3 whose echo lies about signer-2's round 1.
    const relay = new Relay({
      request(target, path, b) {
        if (path === KEYGEN_PATHS.keygenDeal && target === 'signer-1') b.echoes[2] = resign('signer-3', 'echo', b.echoes[2], (m) => (m.digests[1] = new Uint8Array(32).fill(6)));
        return b;
      },
    });
    const e = (await runKeygen({ kind: 'create', keyId: 'lying-echo', minSigners: 2, participants: transports(ps, relay) }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e).toBeInstanceOf(KeygenFailed);
    expect(e).toMatchObject({ code: 'DKG_EQUIVOCATION', culprits: [], relayFault: false, step: 'deal' });
    const report = e.reports.find((r) => r.signer === 'signer-1')!;
    expect(report.culprits).toEqual([]);
    expect(report.message).toMatch(/signer-3's echo about signer-2's/);
    for (const p of ps) expect(p.store.active('lying-echo')).toBeUndefined();
  });

  it('its own round-1 message missing from the set it is given: the relay is at fault, it never names itself', async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    const relay = new Relay({
      request(target, path, b) {
        if (path === KEYGEN_PATHS.keygenEcho && target === 'signer-1') b.round1.splice(0, 1);
        return b;
      },
    });
    const e = (await runKeygen({ kind: 'create', keyId: 'own-dropped', minSigners: 2, participants: transports(ps, relay) }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e).toMatchObject({ code: 'DKG_RELAY_FAULT', relayFault: true, step: 'echo' });
    const report = e.reports.find((r) => r.signer === 'signer-1')!;
    expect(report.culprits).not.toContain('signer-1');
    expect(report.message).toMatch(/own round1 message was not delivered/);
  });

  it("a round-2 message addressed to another participant, delivered beside the sender's own to it: a relay fault, the sender not named", async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    let toSigner3: SignedMessage | undefined;
    const relay = new Relay({
      request(target, path, b) {
        if (path === KEYGEN_PATHS.keygenFinish && target === 'signer-1') b.round2.push(toSigner3!);
        return b;
      },
      answer(target, path, a) {
        if (path === KEYGEN_PATHS.keygenDeal && target === 'signer-2') toSigner3 = a.ok.round2[1];
        return a;
      },
    });
    const e = (await runKeygen({ kind: 'create', keyId: 'misaddressed', minSigners: 2, participants: transports(ps, relay) }).catch((err: unknown) => err)) as KeygenFailed;
    expect(decodeKeygenMessage('round2', toSigner3!.body).recipient).toEqual(Identifier.fromNumber(3).toBytes());
    expect(e).toMatchObject({ code: 'DKG_RELAY_FAULT', relayFault: true, culprits: [], step: 'finish' });
    expect(e.reports.find((r) => r.signer === 'signer-1')!.message).toMatch(/round2 message of signer-2 addressed to another participant/);
  });
});

describe('KeygenParticipant: its pending key once its activation share is out', () => {
  it('an abort after the sign step keeps the pending key; activate then works without the live session', async () => {
    let lost = true;
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    const e = (await runKeygen({
      kind: 'create',
      keyId: 'kept',
      minSigners: 2,
      participants: transports(ps, undefined, { 'signer-3': activationLost(ps[2]!, () => lost) }),
      stepTimeoutMs: 2000,
    }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e.code).toBe('DKG_ACTIVATION_INCOMPLETE');
    const p3 = ps[2]!;
    const session = e.sessionDigest!;
    // A coordinator that aborts anyway: the session goes, the pending key stays.
    expect(await p3.participant.abort({ session, key_id: 'kept' })).toEqual({ ok: {} });
    expect(p3.participant.liveSessions).toBe(0);
    expect(p3.store.pending.get('kept')?.sessionId).toBe(Buffer.from(session).toString('hex'));
    expect(p3.store.discarded).toEqual([]);
    // A signature that does not verify under the pending key is refused, and the key stays pending.
    const bad = Uint8Array.from(e.activationSignature!);
    bad[0]! ^= 1;
    expect(await p3.participant.activate({ session, key_id: 'kept', signature: bad })).toEqual({ abort: expect.objectContaining({ code: 'DKG_ACTIVATION_FAILED', relay_fault: true }) });
    expect(p3.store.pending.has('kept')).toBe(true);
    lost = false;
    expect(await activateKey({ keyId: 'kept', sessionDigest: session, activationSignature: e.activationSignature!, participants: transports(ps) })).toEqual({ activated: IDS });
    for (const p of ps) expect(p.store.active('kept')).toBeDefined();
    // Another session's pending key is not there to activate.
    await expect(p3.participant.activate({ session: new Uint8Array(32), key_id: 'kept', signature: e.activationSignature! })).rejects.toMatchObject({ code: 'DKG_SESSION_UNKNOWN' });
  });

  it('a step failed after the sign step keeps the pending key too: the activation that follows still works', async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    // The sign step sent twice to signer-1: out of order, a relay fault that ends its session.
    const relay = new Relay({
      async answer(target, path, a) {
        if (path === KEYGEN_PATHS.keygenSign && target === 'signer-1') {
          const again = await transportOf(ps[0]!).call(path, { session: sessionOf(ps[0]!), commitments: [] });
          expect(again).toEqual({ abort: expect.objectContaining({ code: 'DKG_RELAY_FAULT' }) });
        }
        return a;
      },
    });
    const sessionOf = (p: TestParticipant) => Buffer.from(p.store.pending.get('after-sign')!.sessionId, 'hex');
    const result = await runKeygen({ kind: 'create', keyId: 'after-sign', minSigners: 2, participants: transports(ps, relay) });
    // signer-1's session ended at the repeated sign step; its pending key did not, and activated.
    expect(ps[0]!.store.discarded).toEqual([]);
    for (const p of ps) expect(Buffer.from(p.store.active('after-sign')!.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(result.verifyingKey));
  });

  const dir = mkdtempSync(join(tmpdir(), 'keygen-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('activates after a restart, from the pending record of its sealed store; re-sent once active, it answers ok', async () => {
    const kek = Kek.fromFileBytes(randomBytes(32), 'kek');
    const open = () => KeyVault.open({ dir, kek, signerId: 'signer-3' });
    const vault = await open();
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS, id === 'signer-3' ? { store: vault } : {}));
    const e = (await runKeygen({
      kind: 'create',
      keyId: 'restarted',
      minSigners: 2,
      participants: transports(ps, undefined, { 'signer-3': activationLost(ps[2]!, () => true) }),
      stepTimeoutMs: 2000,
    }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', step: 'activate', activated: ['signer-1', 'signer-2'], notActivated: ['signer-3'], culprits: ['signer-3'] });
    expect(e.message).toMatch(/active on signer-1, signer-2 and still pending on signer-3/);
    expect(vault.getPending('restarted')).toBeDefined();
    ps[2]!.participant.close();

    // The signer restarts: a new participant over the reopened store, no session in memory.
    const reopened = await open();
    const restarted = makeParticipant(pki, 'signer-3', IDS, { store: reopened, logger: createLogger('keygen-test', 'silent') });
    const rpc = transportOf(restarted);
    const body = { session: e.sessionDigest!, key_id: 'restarted', signature: e.activationSignature! };
    expect(await rpc.call(KEYGEN_PATHS.keygenActivate, body)).toEqual({ ok: {} });
    expect(reopened.get('restarted')).toMatchObject({ state: 'active', version: 1 });
    expect(Buffer.from(reopened.get('restarted')!.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(ps[0]!.store.active('restarted')!.publicKeyPackage.verifyingKeyBytes));
    expect(await rpc.call(KEYGEN_PATHS.keygenActivate, body)).toEqual({ ok: {} });
    expect((await open()).get('restarted')).toMatchObject({ state: 'active', version: 1 });
  });
});

describe('KeygenParticipant: no run replaces a pending key whose activation share it gave', () => {
  const kek = Kek.fromFileBytes(randomBytes(32), 'kek');
  /** A second attempt at `keyId` on signer-3 (new parameters). */
  const anotherCreate = (keyId: string, n: number) => params({ key_id: keyId, session_id: new Uint8Array(32).fill(n) });
  const keptMessage = /pending version .* whose activation share this signer gave: it may be active on the other signers.*health loop.*delete its \.pending file by hand, after checking the other signers/;

  it('a create or a refresh for its key id is refused (KEY_EXISTS) while it waits, also after a restart; abort keeps it; it activates', async () => {
    const dir = freshDir();
    const open = () => KeyVault.open({ dir, kek, signerId: 'signer-3' });
    const vault = await open();
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS, id === 'signer-3' ? { store: vault } : {}));
    const e = (await runKeygen({
      kind: 'create',
      keyId: 'given',
      minSigners: 2,
      participants: transports(ps, undefined, { 'signer-3': activationLost(ps[2]!, () => true) }),
      stepTimeoutMs: 2000,
    }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', notActivated: ['signer-3'] });
    const session = Buffer.from(e.sessionDigest!).toString('hex');
    // Recorded in the sealed pending record before the share went out.
    expect(vault.getPending('given')).toMatchObject({ sessionId: session, activationShareGiven: true });
    const p3 = ps[2]!.participant;
    await expect(p3.begin(anotherCreate('given', 21))).rejects.toMatchObject({ code: 'KEY_EXISTS', message: expect.stringMatching(keptMessage) });
    expect(await p3.abort({ session: e.sessionDigest!, key_id: 'given' })).toEqual({ ok: {} });
    expect(vault.getPending('given')).toMatchObject({ sessionId: session, activationShareGiven: true });
    p3.close();

    // After a restart: the flag is read back from the sealed record, and the begin still refused.
    const reopened = await open();
    expect(reopened.getPending('given')).toMatchObject({ sessionId: session, activationShareGiven: true });
    const restarted = makeParticipant(pki, 'signer-3', IDS, { store: reopened, logger: quiet });
    await expect(restarted.participant.begin(anotherCreate('given', 22))).rejects.toMatchObject({ code: 'KEY_EXISTS', message: expect.stringMatching(keptMessage) });
    expect(await restarted.participant.abort({ session: e.sessionDigest!, key_id: 'given' })).toEqual({ ok: {} });
    expect(reopened.getPending('given')?.sessionId).toBe(session);
    ps[2] = restarted;
    expect(await activateKey({ keyId: 'given', sessionDigest: e.sessionDigest!, activationSignature: e.activationSignature!, participants: transports(ps) })).toEqual({ activated: IDS });
    expect(reopened.get('given')).toMatchObject({ state: 'active', version: 1 });
    expect(reopened.getPending('given')).toBeUndefined();

    // A refresh cut the same way: its new version pending, its share given; another refresh is refused.
    const ids = IDS.map((_, i) => Identifier.fromNumber(i + 1).toBytes());
    const groupKey = reopened.get('given')!.publicKeyPackage.verifyingKeyBytes;
    const r = (await runKeygen({
      kind: 'refresh',
      keyId: 'given',
      minSigners: 2,
      groupKey,
      participants: transports(ps, undefined, { 'signer-3': activationLost(ps[2]!, () => true) }).map((t, i) => ({ ...t, identifier: ids[i]! })),
      stepTimeoutMs: 2000,
    }).catch((err: unknown) => err)) as KeygenFailed;
    expect(r).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', notActivated: ['signer-3'] });
    expect(reopened.get('given')!.version).toBe(1);
    expect(reopened.getPending('given')).toMatchObject({ version: 2, activationShareGiven: true });
    const refresh = params({ kind: 'refresh', key_id: 'given', group_key: groupKey, session_id: new Uint8Array(32).fill(23) });
    await expect(restarted.participant.begin(refresh)).rejects.toMatchObject({ code: 'KEY_EXISTS', message: expect.stringMatching(keptMessage) });
    expect((await open()).getPending('given')).toMatchObject({ version: 2, activationShareGiven: true });
  });

  it('a pending key whose activation share was not given is replaced by a later create, as before', async () => {
    const dir = freshDir();
    const vault = await KeyVault.open({ dir, kek, signerId: 'signer-3' });
    let now = Date.now();
    const clock = () => now;
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS, { clock, ...(id === 'signer-3' ? { store: vault } : {}) }));
    // The sign step reaches nobody, nor does the abort that follows: every pending key waits, no share given.
    const lost = (p: TestParticipant): Transport => {
      const t = transportOf(p);
      return {
        id: p.id,
        call: (path, b, signal) =>
          path === KEYGEN_PATHS.keygenSign || path === KEYGEN_PATHS.keygenAbort ? Promise.reject(new SignerCallError(p.id, 'SIGNER_UNREACHABLE', 'connection refused')) : t.call(path, b, signal),
      };
    };
    const e = (await runKeygen({ kind: 'create', keyId: 'unsigned', minSigners: 2, participants: ps.map((p) => ({ id: p.id, rpc: lost(p) })), stepTimeoutMs: 2000, clock }).catch((err: unknown) => err)) as KeygenFailed;
    expect(e).toBeInstanceOf(KeygenFailed);
    expect(vault.getPending('unsigned')).toMatchObject({ activationShareGiven: false });
    for (const p of ps.slice(0, 2)) expect(p.store.getPending('unsigned')).toMatchObject({ activationShareGiven: false });
    // The sessions expire and signer-3 restarts meanwhile; the next attempt replaces every pending key and completes.
    now += 120_001;
    ps[2]!.participant.close();
    ps[2] = makeParticipant(pki, 'signer-3', IDS, { clock, store: await KeyVault.open({ dir, kek, signerId: 'signer-3' }), logger: quiet });
    const made = await runKeygen({ kind: 'create', keyId: 'unsigned', minSigners: 2, participants: transports(ps), clock });
    const active = (await KeyVault.open({ dir, kek, signerId: 'signer-3' })).get('unsigned')!;
    expect(Buffer.from(active.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(made.verifyingKey));
  });
});

describe('KeygenParticipant: a participant at fault', () => {
  it('a round-1 package with a bad proof of knowledge, signed by its sender, names that sender', async () => {
    const ps = IDS.map((id) => makeParticipant(pki, id, IDS));
    const c2 = pki.certs.get('signer-2')!;
    const signer2 = new MessageSigner(derOf(c2.certPem), c2.keyPem);
    const relay = new Relay({
      request(target, path, b) {
        if (path === KEYGEN_PATHS.keygenEcho && target !== 'signer-2') {
          // What a dishonest signer-2 would send the others: its package with the proof's μ changed.
          const inner = decodeKeygenMessage('round1', b.round1[1].body);
          const pkg = JSON.parse(new TextDecoder().decode(inner.package));
          pkg.proof_of_knowledge = pkg.proof_of_knowledge.slice(0, 64) + '01' + pkg.proof_of_knowledge.slice(66);
          b.round1[1] = signer2.sign('round1', encodeKeygenMessage({ ...inner, package: new TextEncoder().encode(JSON.stringify(pkg)) }));
        }
        return b;
      },
    });
    const e = await runKeygen({ kind: 'create', keyId: 'pok', minSigners: 2, participants: ps.map((p) => ({ id: p.id, rpc: relay.wrap(transportOf(p)) })) }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KeygenFailed);
    expect(e).toMatchObject({ code: 'DKG_CULPRIT', culprits: ['signer-2'], relayFault: false, step: 'echo' });
    for (const p of ps) {
      expect(p.store.active('pok')).toBeUndefined();
      expect(p.participant.liveSessions).toBe(0);
    }
  });
});
