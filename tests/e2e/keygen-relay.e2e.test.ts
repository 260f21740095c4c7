// Key generation through a hostile relay: the test stands in for the coordinator, driving runKeygen
// against real signer processes over real mutual TLS (the coordinator's own client certificate and
// RPC token key), and tampers with what it carries: a round-1 message swapped or altered for one
// signer, a session begun again after an abort to make an honest signer sign a second round-1
// message (refused), a bit flipped in a round-2 ciphertext, a round-2 message replayed from another
// session, a confirmation dropped. Each run
// must fail naming the relay (or a culprit that really misbehaved), leave no key of its id on any
// signer, neither active nor pending, in memory or on disk, and leave every signer ready for a fresh
// attempt that then makes a key that signs. The relay also reads everything it carried in an honest
// run: no signing share is in it, in any encoding it could take.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeygenFailed, runKeygen, type KeygenResult, type KeygenTransport } from '@hoarfrost/coordinator';
import {
  KEYGEN_PATHS,
  RpcTokenSigner,
  SignerCallError,
  SignerClient,
  activationMessage,
  decodeKeygenMessage,
  encodeCbor,
  encodeKeygenMessage,
  loadEd25519PrivateKey,
  sessionDigest,
  sha256,
  type KeygenMessageType,
  type KeygenParams,
  type SignedMessage,
} from '@hoarfrost/rpc';
import { JWT_ISSUER, JWT_KID, createDevEnvironment, startCluster, type Cluster } from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies } from '@hoarfrost/testkit/support';
import { Kek, readSealedKey } from '../../services/signer/src/sealed-store.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** One body the relay carried, as the CBOR bytes that crossed (or would cross) the wire. */
interface Carried {
  signer: string;
  path: string;
  direction: 'request' | 'answer';
  bytes: Buffer;
}

/** What a tampering hook sees of one call. */
interface CallContext {
  signer: string;
  path: string;
  /** The session digest (hex) of the run, known once the begin request went by. */
  session: string;
  /** The signer id that sent a signed message (by its `sender` identifier). */
  senderOf(type: KeygenMessageType, m: SignedMessage): string;
  /** The signer's own RPC, under the relay (for a relay that sends requests of its own). */
  call(path: string, body: unknown): Promise<unknown>;
}

interface Tamper {
  /** The body to send instead of the driver's, or undefined to pass it on. */
  request?(ctx: CallContext, body: any): unknown;
  /** The answer to give the driver instead of the signer's, or undefined to pass it on. */
  answer?(ctx: CallContext, answer: any, body: any): unknown;
}

/** Every signed message any relay saw a signer emit, by type, with its sender and session (hex). */
const archive: { type: KeygenMessageType; sender: string; session: string; signed: SignedMessage; message: any }[] = [];
/** Sessions that made an active key. */
const completedSessions = new Set<string>();

/**
 * Stands between runKeygen and the signers: passes every call on over the signer's real client,
 * records what it carried, archives the signed messages, and lets a test change what goes through.
 */
class TamperingRelay {
  readonly carried: Carried[] = [];
  /** How many bodies the hooks changed (a test that meant to tamper checks it did). */
  tampered = 0;
  session = '';
  readonly #bySender = new Map<string, string>();

  constructor(
    readonly clients: Map<string, SignerClient>,
    readonly tamper: Tamper = {},
  ) {}

  senderOf(type: KeygenMessageType, m: SignedMessage): string {
    return this.#bySender.get(hex(decodeKeygenMessage(type, m.body).sender))!;
  }

  participants(ids: string[]): { id: string; rpc: KeygenTransport }[] {
    return ids.map((id) => ({ id, rpc: { id, call: (path, body, signal) => this.#call(id, path, body, signal) } }));
  }

  async #call(signer: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const client = this.clients.get(signer)!;
    if (path === KEYGEN_PATHS.keygenBegin) {
      const params = body as KeygenParams;
      this.session = hex(sessionDigest(params));
      for (const p of params.participants) this.#bySender.set(hex(p.identifier), p.signer);
    }
    const ctx: CallContext = {
      signer,
      path,
      session: this.session,
      senderOf: (type, m) => this.senderOf(type, m),
      call: (p, b) => this.#carry(signer, p, b, () => client.call(p, b)),
    };
    const replaced = this.tamper.request?.(ctx, body);
    if (replaced !== undefined) this.tampered++;
    const sent = replaced ?? body;
    const answer = await this.#carry(signer, path, sent, () => client.call(path, sent, signal));
    const changed = await this.tamper.answer?.(ctx, answer, sent);
    if (changed !== undefined) this.tampered++;
    return changed ?? answer;
  }

  /** One RPC, its request and answer recorded, the signed messages of its answer archived. */
  async #carry(signer: string, path: string, body: unknown, send: () => Promise<unknown>): Promise<unknown> {
    this.carried.push({ signer, path, direction: 'request', bytes: Buffer.from(encodeCbor(body)) });
    const answer = await send();
    this.carried.push({ signer, path, direction: 'answer', bytes: Buffer.from(encodeCbor(answer)) });
    const ok = (answer as { ok?: Record<string, unknown> }).ok;
    const keep = (type: KeygenMessageType, signed: SignedMessage) => {
      const message = decodeKeygenMessage(type, signed.body);
      archive.push({ type, sender: this.senderOf(type, signed), session: hex(message.session), signed, message });
    };
    if (ok && path === KEYGEN_PATHS.keygenBegin) keep('round1', ok.round1 as SignedMessage);
    if (ok && path === KEYGEN_PATHS.keygenDeal) for (const m of ok.round2 as SignedMessage[]) keep('round2', m);
    return answer;
  }
}

/** A copy of `signed` with one bit of its body flipped at `index` (from the end when negative). */
function flipBodyBit(signed: SignedMessage, index: number): SignedMessage {
  const body = Buffer.from(signed.body);
  body[index < 0 ? body.length + index : index]! ^= 0x01;
  return { ...signed, body: new Uint8Array(body) };
}

describe('key generation through a tampering relay, against real signers over mutual TLS', () => {
  let cluster: Cluster;
  let mint: MintClient;
  let operator: MintClient;
  const clients = new Map<string, SignerClient>();
  let ids: string[];
  let base: { relay: TamperingRelay; result: KeygenResult };

  beforeAll(async () => {
    const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-keygen-relay-')), { threshold: 2, signers: 3, dealer: false });
    cluster = await startCluster(env);
    mint = new MintClient(env, cluster.url);
    operator = new MintClient(env, cluster.url, { as: 'operator' });
    // The coordinator's identity towards the signers: its client certificate and its RPC token key.
    const tokens = new RpcTokenSigner({ privateKey: loadEd25519PrivateKey(readFileSync(env.jwtKeyFile, 'utf8')), kid: JWT_KID, issuer: JWT_ISSUER });
    for (const s of env.signers) {
      clients.set(s.id, new SignerClient({
        id: s.id,
        url: cluster.signerUrls[s.id]!,
        caPem: readFileSync(env.caFile, 'utf8'),
        certPem: readFileSync(env.coordinatorClientCertFile, 'utf8'),
        keyPem: readFileSync(env.coordinatorClientKeyFile, 'utf8'),
        tokens,
        timeoutMs: 10_000,
      }));
    }
    ids = env.signers.map((s) => s.id);
    const relay = new TamperingRelay(clients);
    base = { relay, result: await keygen(relay, 'relay-base') };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await mint?.close();
    await operator?.close();
    await cluster?.stop();
  });

  async function keygen(relay: TamperingRelay, keyId: string): Promise<KeygenResult> {
    const result = await runKeygen({ kind: 'create', keyId, minSigners: 2, participants: relay.participants(ids), stepTimeoutMs: 10_000 });
    completedSessions.add(hex(result.sessionDigest));
    return result;
  }

  /** Runs a key generation through `relay` that must fail; returns the failure. */
  async function failedKeygen(relay: TamperingRelay, keyId: string): Promise<KeygenFailed> {
    const outcome = await keygen(relay, keyId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(KeygenFailed);
    expect(relay.tampered).toBeGreaterThan(0);
    return outcome as KeygenFailed;
  }

  /** No signer holds `keyId` in any state, none has a file of it, every one is ready. */
  async function expectNothingMade(keyId: string): Promise<void> {
    for (const s of cluster.env.signers) {
      const info = await clients.get(s.id)!.info();
      expect(info.keys.filter((k) => k.key_id === keyId)).toEqual([]);
      const files = readdirSync(s.storeDir).filter((f) => f === `${keyId}.key` || f === `${keyId}.pending` || f.startsWith(`.${keyId}.`));
      expect(files).toEqual([]);
    }
    for (const p of cluster.signers) expect((await fetch(`http://127.0.0.1:${p.ports.opsPort}/readyz`)).status).toBe(200);
  }

  /** A fresh honest run for `keyId` succeeds; its activation signature verifies; the coordinator signs with the key. */
  async function expectFreshRunSigns(keyId: string): Promise<void> {
    const result = await keygen(new TamperingRelay(clients), keyId);
    const message = activationMessage(result.sessionDigest, sha256(result.publicKeyPackageBytes));
    expect(ed25519Verifies(result.verifyingKey, message, result.activationSignature)).toBe(true);
    for (const s of ids) {
      const held = (await clients.get(s)!.info()).keys.find((k) => k.key_id === keyId);
      expect(held).toMatchObject({ state: 'active' });
      expect(hex(held!.verifying_key)).toBe(hex(result.verifyingKey));
    }
    const msg = randomBytes(40);
    await waitFor(async () => (await mint.sign(msg, { key_id: keyId })).status === 200);
    const signed = await mint.sign(msg, { key_id: keyId });
    expect(signed.status).toBe(200);
    expect(Buffer.from(signed.json.group_public_b64 as string, 'base64').equals(Buffer.from(result.verifyingKey))).toBe(true);
    expect(ed25519Verifies(result.verifyingKey, msg, signed.json.signature_b64 as string)).toBe(true);
  }

  it('an honest run through the relay: the key signs, and no signing share is in anything the relay carried', async () => {
    const keyId = 'relay-base';
    const { relay, result } = base;
    expect(relay.tampered).toBe(0);
    // Every step crossed the relay, both ways.
    for (const path of [KEYGEN_PATHS.keygenBegin, KEYGEN_PATHS.keygenEcho, KEYGEN_PATHS.keygenDeal, KEYGEN_PATHS.keygenFinish, KEYGEN_PATHS.keygenConfirm, KEYGEN_PATHS.keygenSign, KEYGEN_PATHS.keygenActivate]) {
      expect(relay.carried.filter((c) => c.path === path && c.direction === 'answer')).toHaveLength(3);
    }
    const found = (needle: Buffer) => relay.carried.filter((c) => c.bytes.indexOf(needle) >= 0);
    // The search finds what is there: the session digest (raw 32 bytes, in every request) and the
    // group key (hex, in the public key packages).
    expect(found(Buffer.from(result.sessionDigest)).length).toBeGreaterThan(20);
    expect(found(Buffer.from(hex(result.verifyingKey))).length).toBeGreaterThan(0);

    for (const s of cluster.env.signers) {
      const sealed = await readSealedKey(join(s.storeDir, `${keyId}.key`), { kek: await Kek.fromFile(s.kekFile), signerId: s.id });
      expect(sealed.state).toBe('active');
      expect(hex(sealed.publicKeyPackage.verifyingKeyBytes)).toBe(hex(result.verifyingKey));
      // Its public counterpart, the verifying share, did cross (in the confirmations).
      const verifyingShare = sealed.publicKeyPackage.verifyingShares.get(sealed.keyPackage.identifier.toHex())!.verifyingShareBytes!;
      expect(found(Buffer.from(hex(verifyingShare))).length).toBeGreaterThan(0);
      const be = Buffer.from(sealed.keyPackage.signingShare.toString(16).padStart(64, '0'), 'hex');
      const le = Buffer.from(be).reverse();
      for (const form of [le, be, Buffer.from(le.toString('hex')), Buffer.from(le.toString('hex').toUpperCase()), Buffer.from(be.toString('hex')), Buffer.from(le.toString('base64')), Buffer.from(le.toString('base64url'))]) {
        expect(found(form).map((c) => `${c.direction} ${c.path} ${c.signer}`)).toEqual([]);
        // Nor in any service's log.
        for (const p of [...cluster.signers, cluster.coordinator]) expect(p.logs.filter((l) => Buffer.from(l).indexOf(form) >= 0)).toEqual([]);
      }
    }
    await expectFreshRunSigns('relay-base-2');
  }, 30_000);

  describe('(a) one signer is given a round-1 message of another participant that the others are not', () => {
    it('that participant\'s validly signed round-1 message of an earlier session: a relay fault, nothing made', async () => {
      const keyId = 'relay-a-earlier';
      const relay = new TamperingRelay(clients, {
        request(ctx, body) {
          if (ctx.path !== KEYGEN_PATHS.keygenEcho || ctx.signer !== 'signer-1') return undefined;
          const earlier = archive.find((m) => m.type === 'round1' && m.sender === 'signer-3' && m.session !== ctx.session)!;
          return { ...body, round1: (body.round1 as SignedMessage[]).map((m) => (ctx.senderOf('round1', m) === 'signer-3' ? earlier.signed : m)) };
        },
      });
      const e = await failedKeygen(relay, keyId);
      expect(e).toMatchObject({ step: 'echo', code: 'DKG_RELAY_FAULT', relayFault: true, culprits: [] });
      expect(e.reports.find((r) => r.signer === 'signer-1')?.message).toMatch(/signer-3.*another session/);
      await expectNothingMade(keyId);
      await expectFreshRunSigns(keyId);
    }, 30_000);

    it('its bytes altered: a relay fault, nothing made', async () => {
      const keyId = 'relay-a-altered';
      const relay = new TamperingRelay(clients, {
        request(ctx, body) {
          if (ctx.path !== KEYGEN_PATHS.keygenEcho || ctx.signer !== 'signer-1') return undefined;
          // The last byte of the body is in the sender's HPKE public key: it still decodes, its signature fails.
          return { ...body, round1: (body.round1 as SignedMessage[]).map((m) => (ctx.senderOf('round1', m) === 'signer-3' ? flipBodyBit(m, -1) : m)) };
        },
      });
      const e = await failedKeygen(relay, keyId);
      expect(e).toMatchObject({ step: 'echo', code: 'DKG_RELAY_FAULT', relayFault: true, culprits: [] });
      expect(e.reports.find((r) => r.signer === 'signer-1')?.message).toMatch(/not authentic as signer-3/);
      await expectNothingMade(keyId);
      await expectFreshRunSigns(keyId);
    }, 30_000);

    // A relay chooses the session id, so it could abort a signer's session and begin the same one
    // again, to make the signer sign a second round-1 message for one session digest without any
    // fault of its own (the others would take the two for an equivocation). A signer begins a
    // session digest once: the second begin is refused, and the run fails without a culprit.
    let rebegun: KeygenFailed | undefined;
    let second: unknown;
    it('the same session begun again after an abort, to make an honest signer sign a second round-1 message: the run fails, nothing made', async () => {
      const keyId = 'relay-a-rebegun';
      let first: SignedMessage | undefined;
      const relay = new TamperingRelay(clients, {
        async answer(ctx, answer, body) {
          if (ctx.path !== KEYGEN_PATHS.keygenBegin || ctx.signer !== 'signer-3' || first) return undefined;
          first = (answer as { ok: { round1: SignedMessage } }).ok.round1;
          await ctx.call(KEYGEN_PATHS.keygenAbort, { session: Buffer.from(ctx.session, 'hex'), key_id: keyId });
          second = await ctx.call(KEYGEN_PATHS.keygenBegin, body).catch((e: unknown) => e);
          // The driver is given the first round-1 message; signer-3 has no session for it any more.
          return answer;
        },
      });
      rebegun = await failedKeygen(relay, keyId);
      await expectNothingMade(keyId);
      await expectFreshRunSigns(keyId);
    }, 30_000);

    it('... the second begin is refused (DKG_REFUSED: nothing signed), and the honest signer is not named a culprit', () => {
      expect(second).toBeInstanceOf(SignerCallError);
      expect(second).toMatchObject({ code: 'DKG_REFUSED', message: expect.stringMatching(/begun on this signer before/) });
      expect(rebegun).toBeDefined();
      expect(rebegun!.culprits).not.toContain('signer-3');
      expect(rebegun!.code).not.toBe('DKG_EQUIVOCATION');
    });
  });

  it('(b) a bit flipped in a round-2 ciphertext: a relay fault (the sender is not blamed), nothing made', async () => {
    const keyId = 'relay-b';
    const relay = new TamperingRelay(clients, {
      request(ctx, body) {
        if (ctx.path !== KEYGEN_PATHS.keygenFinish || ctx.signer !== 'signer-1') return undefined;
        return {
          ...body,
          round2: (body.round2 as SignedMessage[]).map((m) => {
            if (ctx.senderOf('round2', m) !== 'signer-2') return m;
            const inner = decodeKeygenMessage('round2', m.body);
            const ciphertext = Buffer.from(inner.ciphertext);
            ciphertext[0]! ^= 0x80;
            return { ...m, body: encodeKeygenMessage({ ...inner, ciphertext: new Uint8Array(ciphertext) }) };
          }),
        };
      },
    });
    const e = await failedKeygen(relay, keyId);
    expect(e).toMatchObject({ step: 'finish', code: 'DKG_RELAY_FAULT', relayFault: true, culprits: [] });
    expect(e.reports.find((r) => r.signer === 'signer-1')?.message).toMatch(/round2 message not authentic as signer-2/);
    await expectNothingMade(keyId);
    await expectFreshRunSigns(keyId);
  }, 30_000);

  describe('(c) a round-2 message replayed from an earlier session', () => {
    it.each([['a completed', 'completed'], ['an aborted', 'aborted']])('%s session: a relay fault, nothing made', async (_, earlier) => {
      const keyId = `relay-c-${earlier}`;
      let from: string;
      if (earlier === 'completed') {
        from = hex(base.result.sessionDigest);
      } else {
        // A session that dealt its shares and was then aborted (the relay delivered none of them).
        const stopped = new TamperingRelay(clients, {
          request: (ctx, body) => (ctx.path === KEYGEN_PATHS.keygenFinish ? { ...body, round2: [] } : undefined),
        });
        const e = await failedKeygen(stopped, keyId);
        expect(e.step).toBe('finish');
        from = stopped.session;
        await expectNothingMade(keyId);
      }
      const old = archive.find((m) => m.type === 'round2' && m.session === from && m.sender === 'signer-2' && m.message.recipient[0] === 1)!;
      expect(old).toBeDefined();
      expect(completedSessions.has(from)).toBe(earlier === 'completed');
      const relay = new TamperingRelay(clients, {
        request(ctx, body) {
          if (ctx.path !== KEYGEN_PATHS.keygenFinish || ctx.signer !== 'signer-1') return undefined;
          return { ...body, round2: (body.round2 as SignedMessage[]).map((m) => (ctx.senderOf('round2', m) === 'signer-2' ? old.signed : m)) };
        },
      });
      const e = await failedKeygen(relay, keyId);
      expect(e).toMatchObject({ step: 'finish', code: 'DKG_RELAY_FAULT', relayFault: true, culprits: [] });
      expect(e.reports.find((r) => r.signer === 'signer-1')?.message).toMatch(/round2 message of signer-2 from another session/);
      await expectNothingMade(keyId);
      await expectFreshRunSigns(keyId);
    }, 30_000);
  });

  it('(d) a confirmation dropped: the missing participant is named as missing with the relay at fault; the pending keys the others stored are removed', async () => {
    const keyId = 'relay-d';
    const pendingSeen: string[] = [];
    const relay = new TamperingRelay(clients, {
      request(ctx, body) {
        if (ctx.path !== KEYGEN_PATHS.keygenConfirm || ctx.signer !== 'signer-1') return undefined;
        return { ...body, confirms: (body.confirms as SignedMessage[]).filter((m) => ctx.senderOf('confirm', m) !== 'signer-3') };
      },
      answer(ctx) {
        // Once the others confirmed, their pending key is on disk (until the abort removes it).
        if (ctx.path === KEYGEN_PATHS.keygenConfirm && ctx.signer !== 'signer-1') {
          const s = cluster.env.signers.find((x) => x.id === ctx.signer)!;
          pendingSeen.push(...readdirSync(s.storeDir).filter((f) => f === `${keyId}.pending`).map((f) => `${s.id}/${f}`));
        }
        return undefined;
      },
    });
    const e = await failedKeygen(relay, keyId);
    expect(e).toMatchObject({ step: 'confirm', code: 'DKG_MISSING_MESSAGE', relayFault: true, culprits: ['signer-3'] });
    expect(e.reports.find((r) => r.signer === 'signer-1')?.message).toMatch(/no confirm message from signer-3/);
    expect(pendingSeen.sort()).toEqual([`signer-2/${keyId}.pending`, `signer-3/${keyId}.pending`]);
    await expectNothingMade(keyId);
    await expectFreshRunSigns(keyId);
  }, 30_000);

  it('activation withheld from one signer: the run reports DKG_ACTIVATION_INCOMPLETE (nothing aborted), the key signs with the others, and the coordinator\'s health loop completes the activation', async () => {
    const keyId = 'relay-activation';
    const relay = new TamperingRelay(clients, {
      request(ctx) {
        // Every attempt to activate signer-3 is lost on the way (a crash of the relay, a partition).
        if (ctx.path === KEYGEN_PATHS.keygenActivate && ctx.signer === 'signer-3') throw new Error('lost on the way');
        return undefined;
      },
    });
    const e = await keygen(relay, keyId).then(
      () => undefined,
      (err: unknown) => err as KeygenFailed,
    );
    expect(e).toBeInstanceOf(KeygenFailed);
    expect(e).toMatchObject({ code: 'DKG_ACTIVATION_INCOMPLETE', step: 'activate', activated: ['signer-1', 'signer-2'], notActivated: ['signer-3'] });
    // signer-3 kept its share (pending, sealed), while the coordinator re-sends the activation the others report.
    const s3 = cluster.env.signers.find((x) => x.id === 'signer-3')!;
    await waitFor(async () => (await clients.get('signer-3')!.info()).keys.find((k) => k.key_id === keyId)?.state === 'active');
    expect(readdirSync(s3.storeDir).filter((f) => f.startsWith(keyId))).toEqual([`${keyId}.key`]);
    expect(cluster.coordinator.logs.some((l) => l.includes('key activated on a signer that had missed its activation'))).toBe(true);
    // Every share signs: signer-3 with each of the others.
    const message = randomBytes(24);
    for (const participants of [[1, 3], [2, 3]]) {
      const signed = await mint.sign(message, { key_id: keyId, participants });
      expect(signed.status).toBe(200);
      expect(ed25519Verifies(signed.json.group_public_b64 as string, message, signed.json.signature_b64 as string)).toBe(true);
    }
  }, 30_000);

  it('the admin API refuses the mint API\'s certificate; /sign refuses the operator\'s', async () => {
    const create = await mint.post('/admin/v1/keys', { key_id: 'relay-admin', threshold: 2 });
    expect(create.status).toBe(403);
    expect(create.json.error?.code).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    const retire = await mint.post('/admin/v1/keys/relay-base/retire', {});
    expect(retire.status).toBe(403);
    expect(retire.json.error?.code).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    // The operator gets past the identity check (and is refused only for its body) ...
    const bad = await operator.post('/admin/v1/keys', { key_id: 'relay-admin' });
    expect(bad.status).toBe(400);
    // ... but cannot sign.
    for (const path of ['/sign', '/v1/sign', '/v1/jws']) {
      const r = await operator.post(path, path === '/v1/jws' ? { key_id: 'relay-base', payload: { a: 1 } } : { msg_b64: randomBytes(8).toString('base64'), key_id: 'relay-base' });
      expect(r.status).toBe(403);
      expect(r.json.error?.code).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    }
    // The mint API signs with the key the relay made, the key the admin call did not retire.
    expect((await mint.sign(randomBytes(8), { key_id: 'relay-base' })).status).toBe(200);
    expect((await clients.get('signer-1')!.info()).keys.filter((k) => k.key_id === 'relay-admin')).toEqual([]);
  }, 30_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 150));
  }
}
