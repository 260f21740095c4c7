// The key-generation participant: who it accepts messages from (certificate, SAN, allowlist), what
// it refuses to begin, its sessions (one per key, a time to live, steps in order), and that a
// participant that signs a bad proof of knowledge is named by the others.
import { describe, expect, it } from '@jest/globals';
import { Identifier } from '@hoarfrost/frost';
import { KEYGEN_PATHS, decodeKeygenMessage, encodeKeygenMessage, sessionDigest, type KeygenParams, type SignedMessage } from '@hoarfrost/rpc';
import { createCertificateAuthority } from '@hoarfrost/testkit';
import { KeygenFailed, runKeygen } from '../../coordinator/src/keygen.js';
import { MessageSigner, PeerIdentityError, PeerVerifier } from '../src/peer-identity.js';
import { Relay, createPki, derOf, makeParticipant, transportOf } from './keygen-fixture.js';

const IDS = ['signer-1', 'signer-2', 'signer-3'];
const pki = await createPki([...IDS, 'signer-9']);
const body = new TextEncoder().encode('a message body');

function params(overrides: Partial<KeygenParams> = {}): KeygenParams {
  return {
    session_id: new Uint8Array(32).fill(1),
    kind: 'create',
    key_id: 'k1',
    min_signers: 2,
    participants: IDS.map((signer, i) => ({ identifier: Identifier.fromNumber(i + 1).toBytes(), signer })),
    ...overrides,
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
    await p.participant.begin(params());
    now += 120_001;
    const session = sessionDigest(params());
    await expect(p.participant.echo({ session, round1: [] })).rejects.toMatchObject({ code: 'DKG_SESSION_UNKNOWN' });
    expect(p.participant.liveSessions).toBe(0);
    expect('ok' in (await p.participant.begin(params({ session_id: new Uint8Array(32).fill(3) })))).toBe(true);
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
