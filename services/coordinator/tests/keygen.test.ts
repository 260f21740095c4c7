// The key-generation driver against participants in this process (real certificates, real HPKE, an
// in-memory store per signer), directly and through a hostile relay that alters, replays, swaps or
// drops what it carries: every such run aborts, names the culprit or the relay, and activates nothing.
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Identifier, ORDER, aggregate, round1, round2, SigningPackage, type KeyPackage, type SignatureShare } from '@hoarfrost/frost';
import { KEYGEN_PATHS, SignerCallError, decodeKeygenMessage, encodeKeygenMessage, sessionDigest, type KeygenParams, type SignedMessage } from '@hoarfrost/rpc';
import { MessageSigner } from '../../signer/src/peer-identity.js';
import {
  Relay,
  coefficients,
  createPki,
  derOf,
  ed25519Verify,
  evaluate,
  logs,
  makeParticipant,
  scalarLE,
  signWith,
  transportOf,
  type Pki,
  type Tamper,
  type TestParticipant,
} from '../../signer/tests/keygen-fixture.js';
import { KeygenFailed, activateKey, runKeygen, type KeygenProgress, type RunKeygenOptions } from '../src/keygen.js';

const IDS = ['signer-1', 'signer-2', 'signer-3', 'signer-4', 'signer-5'];
const pki: Pki = await createPki(IDS);
const text = new TextEncoder();

let ps: TestParticipant[];
beforeEach(() => {
  ps = IDS.map((id) => makeParticipant(pki, id, IDS));
});

function create(n: number, t: number, keyId: string, relay?: Relay, extra: Partial<RunKeygenOptions> = {}) {
  return runKeygen({
    kind: 'create',
    keyId,
    minSigners: t,
    participants: ps.slice(0, n).map((p) => ({ id: p.id, rpc: relay ? relay.wrap(transportOf(p)) : transportOf(p) })),
    ...extra,
  });
}

async function expectFailure(p: Promise<unknown>): Promise<KeygenFailed> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KeygenFailed);
  return e as KeygenFailed;
}

/** Nothing activated, nothing left pending, for `keyId` on the first `n` participants. */
function expectNothingActivated(n: number, keyId: string): void {
  for (const p of ps.slice(0, n)) {
    expect(p.store.active(keyId)).toBeUndefined();
    expect(p.store.pending.has(keyId)).toBe(false);
    expect(p.participant.liveSessions).toBe(0);
  }
}

const keyPackages = (n: number, keyId: string): KeyPackage[] => ps.slice(0, n).map((p) => p.store.active(keyId)!.keyPackage);

/** Bytes of a signed message's inner map, altered by `f` and re-encoded (the signature no longer covers them). */
function alterBody(m: SignedMessage, type: 'round1' | 'round2', f: (inner: any) => void): SignedMessage {
  const inner: any = decodeKeygenMessage(type, m.body);
  f(inner);
  return { ...m, body: encodeKeygenMessage(inner) };
}

describe('runKeygen: create end to end', () => {
  it.each([
    [3, 2],
    [5, 3],
  ])('%i participants, threshold %i: every signer holds the same active key; any threshold of them signs; node:crypto verifies', async (n, t) => {
    const progress: KeygenProgress[] = [];
    const relay = new Relay();
    const result = await create(n, t, `key-${n}-${t}`, relay, { onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.step)).toEqual(['begin', 'echo', 'deal', 'finish', 'confirm', 'sign', 'activate']);
    expect(result.minSigners).toBe(t);
    expect(result.participants.map((p) => p.id)).toEqual(IDS.slice(0, n));
    for (const p of ps.slice(0, n)) {
      const k = p.store.active(result.keyId)!;
      expect(k.version).toBe(1);
      expect(Buffer.from(k.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(result.verifyingKey));
      expect(p.store.activated).toHaveLength(1);
      expect(p.participant.liveSessions).toBe(0);
    }
    const kps = keyPackages(n, result.keyId);
    const message = text.encode('hello from a dealerless key');
    for (const subset of [kps.slice(0, t), kps.slice(n - t)]) {
      const signature = signWith(subset, result.publicKeyPackage, message);
      expect(ed25519Verify(result.verifyingKey, message, signature)).toBe(true);
    }
    // Nothing the relay carried holds a share, a coefficient or a share dealt to another: every
    // signing share, every coefficient a_ik and every f_i(j), as 32-byte little-endian, is absent.
    const secrets: Buffer[] = kps.map((kp) => scalarLE(kp.signingShare));
    for (const p of ps.slice(0, n)) {
      const coeffs = coefficients(p.random, 'create', t);
      for (const a of coeffs) secrets.push(scalarLE(a));
      for (let j = 1; j <= n; j++) secrets.push(scalarLE(evaluate(coeffs, BigInt(j))));
    }
    // The recorded polynomials are the real ones: Σ_i f_i(j) is participant j's signing share.
    for (let j = 1; j <= n; j++) {
      const sum = ps.slice(0, n).reduce((acc, p) => acc + evaluate(coefficients(p.random, 'create', t), BigInt(j)), 0n) % ORDER;
      expect(scalarLE(sum)).toEqual(scalarLE(kps[j - 1]!.signingShare));
    }
    const carried = Buffer.concat(relay.carried);
    for (const s of secrets) expect(carried.indexOf(s)).toBe(-1);
    const logged = Buffer.from(logs.lines.join(''));
    for (const s of secrets) {
      expect(logged.indexOf(s)).toBe(-1);
      expect(logged.indexOf(s.toString('hex'))).toBe(-1);
    }
  });

  it('refuses a second key of the same id with the signers\' KEY_EXISTS, and leaves the first key alone', async () => {
    const first = await create(3, 2, 'twice');
    const e = await expectFailure(create(3, 2, 'twice'));
    expect(e.code).toBe('DKG_SIGNER_REFUSED');
    expect(e.signerCode).toBe('KEY_EXISTS');
    expect(e.step).toBe('begin');
    for (const p of ps.slice(0, 3)) expect(Buffer.from(p.store.active('twice')!.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(first.verifyingKey));
  });
});

describe('runKeygen: refresh', () => {
  it('keeps the group key, gives new shares that sign; old and new shares mixed do not make a valid signature', async () => {
    const made = await create(3, 2, 'rotating');
    const old = keyPackages(3, 'rotating');
    for (const p of ps) p.random.draws = [];
    const relay = new Relay();
    const refreshed = await runKeygen({
      kind: 'refresh',
      keyId: 'rotating',
      minSigners: 2,
      groupKey: made.verifyingKey,
      participants: ps.slice(0, 3).map((p, i) => ({ id: p.id, rpc: relay.wrap(transportOf(p)), identifier: old[i]!.identifier.toBytes() })),
    });
    expect(Buffer.from(refreshed.verifyingKey)).toEqual(Buffer.from(made.verifyingKey));
    const fresh = keyPackages(3, 'rotating');
    for (let i = 0; i < 3; i++) {
      expect(fresh[i]!.signingShare).not.toBe(old[i]!.signingShare);
      expect(ps[i]!.store.active('rotating')!.version).toBe(2);
    }
    const message = text.encode('after the refresh');
    expect(ed25519Verify(made.verifyingKey, message, signWith([fresh[0]!, fresh[2]!], refreshed.publicKeyPackage, message))).toBe(true);

    // An old share with a new one: the sum of their shares is no signature under the group key.
    const mixed = [old[0]!, fresh[1]!];
    const commits = mixed.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
    const pkg = new SigningPackage(commits.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
    const shares = new Map<string, SignatureShare>(commits.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
    for (const pkp of [made.publicKeyPackage, refreshed.publicKeyPackage]) expect(() => aggregate(pkg, shares, pkp)).toThrow();

    // Nothing the relay carried holds a refresh share or coefficient.
    const carried = Buffer.concat(relay.carried);
    for (const p of ps.slice(0, 3)) {
      const coeffs = coefficients(p.random, 'refresh', 2);
      for (const a of coeffs.slice(1)) expect(carried.indexOf(scalarLE(a))).toBe(-1);
      for (const kp of old) expect(carried.indexOf(scalarLE(evaluate(coeffs, kp.identifier.value)))).toBe(-1);
    }
    for (const kp of fresh) expect(carried.indexOf(scalarLE(kp.signingShare))).toBe(-1);
  });

  it('a refresh that names another group key is refused by the signers before anything runs', async () => {
    await create(3, 2, 'kept');
    const old = keyPackages(3, 'kept');
    const e = await expectFailure(
      runKeygen({
        kind: 'refresh',
        keyId: 'kept',
        minSigners: 2,
        groupKey: new Uint8Array(32).fill(7),
        participants: ps.slice(0, 3).map((p, i) => ({ id: p.id, rpc: transportOf(p), identifier: old[i]!.identifier.toBytes() })),
      }),
    );
    expect(e.signerCode).toBe('DKG_REFUSED');
    for (const p of ps.slice(0, 3)) expect(p.store.active('kept')!.version).toBe(1);
  });
});

describe('runKeygen through a hostile relay', () => {
  /** Messages of an earlier, complete run, by path and target, to replay later. */
  async function recordRun(keyId: string): Promise<{ echo: Map<string, SignedMessage[]>; finish: Map<string, SignedMessage[]> }> {
    const echo = new Map<string, SignedMessage[]>();
    const finish = new Map<string, SignedMessage[]>();
    const relay = new Relay({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenEcho) echo.set(target, body.round1);
        if (path === KEYGEN_PATHS.keygenFinish) finish.set(target, body.round2);
        return body;
      },
    });
    await create(3, 2, keyId, relay);
    return { echo, finish };
  }

  async function hostile(tamper: Tamper, keyId = 'hostile'): Promise<KeygenFailed> {
    const e = await expectFailure(create(3, 2, keyId, new Relay(tamper)));
    expectNothingActivated(3, keyId);
    return e;
  }

  it('(a) one signer sent a validly signed round-1 message of another session: relay fault', async () => {
    const earlier = await recordRun('earlier');
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenEcho && target === 'signer-3') body.round1[1] = earlier.echo.get('signer-3')![1];
        return body;
      },
    });
    expect(e.code).toBe('DKG_RELAY_FAULT');
    expect(e.relayFault).toBe(true);
    expect(e.culprits).toEqual([]);
    expect(e.step).toBe('echo');
  });

  it('(a) one signer sent altered round-1 bytes: relay fault', async () => {
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenEcho && target === 'signer-2') {
          const m: SignedMessage = body.round1[0];
          const b = Uint8Array.from(m.body);
          b[b.length - 1]! ^= 1;
          body.round1[0] = { ...m, body: b };
        }
        return body;
      },
    });
    expect(e.code).toBe('DKG_RELAY_FAULT');
    expect(e.relayFault).toBe(true);
  });

  it("(a) a round-1 message re-signed with the coordinator's certificate (same CA, SAN not a peer): refused as not authentic", async () => {
    const coordinator = new MessageSigner(derOf(pki.coordinator.certPem), pki.coordinator.keyPem);
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenEcho && target === 'signer-1') {
          const forged = alterBody(body.round1[2], 'round1', (m) => (m.hpke_public_key = new Uint8Array(32).fill(9)));
          body.round1[2] = coordinator.sign('round1', forged.body);
        }
        return body;
      },
    });
    expect(e.code).toBe('DKG_RELAY_FAULT');
    expect(e.message).toMatch(/not authentic/);
  });

  it('(b) a bit flipped in a round-2 ciphertext: relay fault, nothing stored', async () => {
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenFinish && target === 'signer-1') body.round2[0] = alterBody(body.round2[0], 'round2', (m) => (m.ciphertext[3] ^= 0x10));
        return body;
      },
    });
    expect(e.code).toBe('DKG_RELAY_FAULT');
    expect(e.step).toBe('finish');
    for (const p of ps.slice(0, 3)) expect(p.store.discarded).toEqual([]); // nothing was ever stored
  });

  it('(c) a round-2 message replayed from an earlier session: relay fault', async () => {
    const earlier = await recordRun('earlier-2');
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenFinish && target === 'signer-2') body.round2[0] = earlier.finish.get('signer-2')![0];
        return body;
      },
    });
    expect(e.code).toBe('DKG_RELAY_FAULT');
    expect(e.relayFault).toBe(true);
  });

  it('(d) a confirmation dropped: the signer names the missing participant and the relay; the pending keys stored elsewhere are discarded', async () => {
    const e = await hostile({
      request(target, path, body) {
        if (path === KEYGEN_PATHS.keygenConfirm && target === 'signer-3') body.confirms.splice(0, 1);
        return body;
      },
    });
    expect(e.code).toBe('DKG_MISSING_MESSAGE');
    expect(e.culprits).toEqual(['signer-1']);
    expect(e.relayFault).toBe(true);
    expect(e.step).toBe('confirm');
    // signer-1 and signer-2 had stored the key as pending; the driver's abort removed it.
    expect(ps[0]!.store.discarded.map((d) => d.keyId)).toEqual(['hostile']);
    expect(ps[1]!.store.discarded.map((d) => d.keyId)).toEqual(['hostile']);
  });

  it('an activation signature altered on its way: that signer verifies it itself and activates nothing; the others are active, nothing aborted; re-sent unaltered, it activates', async () => {
    const e = await expectFailure(
      create(3, 2, 'activation', new Relay({
        request(target, path, body) {
          if (path === KEYGEN_PATHS.keygenActivate && target === 'signer-2') body.signature = Uint8Array.from(body.signature).fill(1, 40, 41);
          return body;
        },
      }), { stepTimeoutMs: 3000 }),
    );
    expect(e).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', step: 'activate', relayFault: true, activated: ['signer-1', 'signer-3'], notActivated: ['signer-2'] });
    expect(e.reports.map((r) => r.code)).toEqual(['DKG_ACTIVATION_FAILED']);
    expect(ps[1]!.store.active('activation')).toBeUndefined();
    expect(ps[1]!.store.pending.has('activation')).toBe(true);
    for (const p of [ps[0]!, ps[2]!]) expect(p.store.active('activation')).toBeDefined();
    for (const p of ps.slice(0, 3)) expect(p.store.discarded).toEqual([]);
    await activateKey({ keyId: 'activation', sessionDigest: e.sessionDigest!, activationSignature: e.activationSignature!, participants: ps.slice(0, 3).map((p) => ({ id: p.id, rpc: transportOf(p) })) });
    expect(ps[1]!.store.active('activation')).toBeDefined();
  });

  it('a participant that signed two different round-1 messages, one given to each side by the relay: no signer names anyone on an echo\'s word', async () => {
    // signer-2's double: the same certificate and key, a second polynomial for the same session.
    const twin = makeParticipant(pki, 'signer-2', IDS);
    const t = ps.slice(0, 3).map((p) => transportOf(p));
    // A relay that drives the steps itself (without the driver's checks) and gives signer-3 the second one.
    const params: KeygenParams = {
      session_id: new Uint8Array(32).fill(4),
      kind: 'create',
      key_id: 'equivocation',
      min_signers: 2,
      issued_at: Math.floor(Date.now() / 1000),
      participants: IDS.slice(0, 3).map((signer, i) => ({ signer, identifier: Identifier.fromNumber(i + 1).toBytes() })),
    };
    const session = sessionDigest(params);
    const round1 = await Promise.all(t.map(async (x) => ((await x.call(KEYGEN_PATHS.keygenBegin, params)) as { ok: { round1: SignedMessage } }).ok.round1));
    const second = ((await transportOf(twin).call(KEYGEN_PATHS.keygenBegin, params)) as { ok: { round1: SignedMessage } }).ok.round1;
    const echoes = await Promise.all(
      t.map(async (x, i) => ((await x.call(KEYGEN_PATHS.keygenEcho, { session, round1: i === 2 ? [round1[0], second, round1[2]] : round1 })) as { ok: { echo: SignedMessage } }).ok.echo),
    );
    const answers = (await Promise.all(t.map((x) => x.call(KEYGEN_PATHS.keygenDeal, { session, echoes })))) as { abort: { code: string; culprits: string[]; message: string } }[];
    for (const a of answers) {
      expect(a.abort).toMatchObject({ code: 'DKG_EQUIVOCATION', culprits: [], relay_fault: false });
      expect(a.abort.message).toMatch(/echo about signer-2's/);
    }
    for (const p of ps.slice(0, 3)) {
      expect(p.store.active('equivocation')).toBeUndefined();
      expect(p.participant.liveSessions).toBe(0);
    }
  });

  it("a hostile participant's echo that lies about an honest participant's round-1 message: the driver names the liar before deal, and the honest one is named by nobody", async () => {
    const c3 = pki.certs.get('signer-3')!;
    const signer3 = new MessageSigner(derOf(c3.certPem), c3.keyPem);
    const e = await hostile({
      answer(target, path, a) {
        if (path === KEYGEN_PATHS.keygenEcho && target === 'signer-3') {
          const inner: any = decodeKeygenMessage('echo', a.ok.echo.body);
          inner.digests[0] = new Uint8Array(32).fill(9); // "signer-1 sent me something else"
          a.ok.echo = signer3.sign('echo', encodeKeygenMessage(inner));
        }
        return a;
      },
    });
    expect(e).toMatchObject({ code: 'DKG_CULPRIT', culprits: ['signer-3'], relayFault: false, step: 'echo' });
    expect(e.message).toMatch(/signer-3: its echo lists other round-1 messages than those relayed to it, for signer-1/);
    for (const r of e.reports) expect(r.culprits).not.toContain('signer-1');
  });
});

describe('runKeygen: activation', () => {
  /** signer-3's transport, its first `failures` activate calls failing as an unreachable signer's. */
  function flaky(p: TestParticipant, failures: number, calls: string[]) {
    const t = transportOf(p);
    return {
      id: p.id,
      call(path: string, body: unknown, signal?: AbortSignal) {
        calls.push(path);
        if (path === KEYGEN_PATHS.keygenActivate && failures-- > 0) return Promise.reject(new SignerCallError(p.id, 'SIGNER_UNREACHABLE', 'connection reset'));
        return t.call(path, body, signal);
      },
    };
  }

  it('an activate that fails is sent again; the run completes, and nothing is aborted', async () => {
    const calls: string[] = [];
    const result = await runKeygen({
      kind: 'create',
      keyId: 'retried',
      minSigners: 2,
      participants: ps.slice(0, 3).map((p, i) => ({ id: p.id, rpc: i === 2 ? flaky(p, 2, calls) : transportOf(p) })),
    });
    expect(calls.filter((c) => c === KEYGEN_PATHS.keygenActivate)).toHaveLength(3);
    expect(calls).not.toContain(KEYGEN_PATHS.keygenAbort);
    for (const p of ps.slice(0, 3)) expect(Buffer.from(p.store.active('retried')!.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(result.verifyingKey));
  });

  it('a refresh cut during activation keeps every share: new version where activated, old one active and new one pending elsewhere, completed by re-sending activate', async () => {
    const made = await create(3, 2, 'split');
    const old = keyPackages(3, 'split');
    const calls: string[] = [];
    const cut = new AbortController();
    const e = await expectFailure(
      runKeygen({
        kind: 'refresh',
        keyId: 'split',
        minSigners: 2,
        groupKey: made.verifyingKey,
        participants: ps.slice(0, 3).map((p, i) => ({ id: p.id, rpc: i === 2 ? flaky(p, 100, calls) : transportOf(p), identifier: old[i]!.identifier.toBytes() })),
        // The operator going away once activation began does not cut it.
        onProgress: (p) => p.step === 'activate' && cut.abort(),
        signal: cut.signal,
        stepTimeoutMs: 2000,
      }),
    );
    expect(e).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', step: 'activate', activated: ['signer-1', 'signer-2'], notActivated: ['signer-3'], culprits: ['signer-3'] });
    expect(e.sessionDigest).toHaveLength(32);
    expect(e.message).toMatch(/re-sending activate/);
    expect(calls).not.toContain(KEYGEN_PATHS.keygenAbort);
    expect(calls.filter((c) => c === KEYGEN_PATHS.keygenActivate).length).toBeGreaterThan(1);
    expect(ps[0]!.store.active('split')!.version).toBe(2);
    expect(ps[1]!.store.active('split')!.version).toBe(2);
    // signer-3: the old version still active (nothing was aborted), the new one pending.
    expect(ps[2]!.store.active('split')!.version).toBe(1);
    expect(ps[2]!.store.pending.get('split')!.key.version).toBe(2);
    // The new version is held by a threshold of participants already: it signs.
    const message = text.encode('during the split');
    expect(ed25519Verify(made.verifyingKey, message, signWith([ps[0]!.store.active('split')!.keyPackage, ps[1]!.store.active('split')!.keyPackage], ps[0]!.store.active('split')!.publicKeyPackage, message))).toBe(true);

    const again = await activateKey({
      keyId: 'split',
      sessionDigest: e.sessionDigest!,
      activationSignature: e.activationSignature!,
      participants: ps.slice(0, 3).map((p) => ({ id: p.id, rpc: transportOf(p) })),
    });
    expect(again.activated).toEqual(['signer-1', 'signer-2', 'signer-3']);
    const fresh = keyPackages(3, 'split');
    for (const p of ps.slice(0, 3)) expect(p.store.active('split')!.version).toBe(2);
    expect(ed25519Verify(made.verifyingKey, message, signWith([fresh[0]!, fresh[2]!], ps[2]!.store.active('split')!.publicKeyPackage, message))).toBe(true);
  });
});
