// The round handlers on decoded wire messages, with real key material: what each refusal is, and that
// every refused round-2 request has burnt the nonce it named.
import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { AuditError, type AuditTrail } from '@hoarfrost/runtime';
import {
  FrostError,
  IdentityCommitmentError,
  Identifier,
  InvalidSignatureShareError,
  ORDER,
  Point,
  SigningNonces,
  SigningPackage,
  aggregate,
  type SignatureShare,
  computeBindingFactors,
  computeOthersTerm,
  round1,
  toHex,
  trustedDealerKeygen,
  type PreparedSigning,
} from '@hoarfrost/frost';
import {
  WireFormatError,
  activationMessage,
  decodeRound2Request,
  decodeRound2Response,
  encodeCbor,
  encodeRound2Request,
  isRound2Refusal,
  decodePublicKeyPackage,
  encodePublicKeyPackage,
  parseInfoResponse,
  parseRound1Response,
  parseRound2BatchResponse,
  type Round2Request,
} from '@hoarfrost/rpc';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import type { CryptoPool, PrepareTask } from '../src/crypto-pool.js';
import { SignerError, toWireRefusal } from '../src/errors.js';
import { commitmentId } from '../src/nonce-store.js';
import { createPolicy } from '../src/policy.js';
import { handleInfo, handleRound1, handleRound2, handleRound2Batch } from '../src/rounds.js';
import { KEY_ID, commitOnce, expectSignerError, noncesOf, rejectionOf, sampleValue, shareOf, signWith, silentLog, testSigner, wire, type TestSigner } from './helpers.js';

const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const other = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const message = new TextEncoder().encode('mint: 100 tokens to alice');

/** Signers 1..3 of the 2-of-3 key set `default`, each with its own nonce store and metrics. */
const trio = (options: Parameters<typeof testSigner>[2] = {}): TestSigner[] => [1, 2, 3].map((n) => testSigner(n, { [KEY_ID]: dealt }, options));

/** A round-2 request for `entries` (built like the coordinator's, through encodeRound2Request). */
const requestFor = (entries: ConstructorParameters<typeof SigningPackage>[0], msg = message, keyId = KEY_ID): Round2Request =>
  encodeRound2Request(keyId, new SigningPackage(entries, msg));

/** A commitment pair from somebody outside every key set here (valid points, unknown nonces). */
const strangerCommitments = () => round1.commit(0x1234n).commitments;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwsInput = (payload: unknown) => new TextEncoder().encode(`${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64(payload)}`);

describe('handleRound1', () => {
  it('issues `count` distinct commitments, each stored under its commitment id for this key', () => {
    const [s] = trio();
    const r = parseRound1Response(wire(handleRound1(s!.deps, wire({ key_id: KEY_ID, count: 5 }))));
    expect(Buffer.from(r.identifier)).toEqual(Buffer.from(s!.identifier.toBytes()));
    expect(r.ttl_ms).toBe(s!.nonces.ttlMs);
    expect(r.commitments).toHaveLength(5);
    expect(s!.nonces.size).toBe(5);
    const ids = r.commitments.map((c) => commitmentId(c.hiding, c.binding));
    expect(new Set(ids).size).toBe(5);
    // Under another key id the entry is refused (and burnt), so check the right key first and once.
    for (const id of ids) expect('nonces' in s!.nonces.claim(id, KEY_ID)).toBe(true);
    expect(s!.nonces.size).toBe(0);
  });

  it('counts the commitments it issued', async () => {
    const [s] = trio();
    handleRound1(s!.deps, wire({ key_id: KEY_ID, count: 3 }));
    handleRound1(s!.deps, wire({ key_id: KEY_ID, count: 4 }));
    expect(await sampleValue(s!.metrics.registry, 'frost_signer_commitments_issued_total')).toBe(7);
  });

  it.each([
    ['count above maxBatch', { key_id: KEY_ID, count: 9 }, 'INVALID_REQUEST'],
    ['count zero', { key_id: KEY_ID, count: 0 }, 'INVALID_REQUEST'],
    // The RPC's CBOR carries no floats: the body decoder refuses one before the shape is looked at.
    ['count not an integer', { key_id: KEY_ID, count: 1.5 }, 'MALFORMED_CBOR'],
    ['an invalid key id', { key_id: '../etc', count: 1 }, 'INVALID_REQUEST'],
    ['an extra field', { key_id: KEY_ID, count: 1, extra: true }, 'INVALID_REQUEST'],
  ])('refuses %s as %s and stores nothing', async (_name, body, code) => {
    const [s] = trio({ maxBatch: 8 });
    const e = await rejectionOf(() => handleRound1(s!.deps, wire(body)));
    expect(e).toBeInstanceOf(WireFormatError);
    expect((e as WireFormatError).code).toBe(code);
    expect(s!.nonces.size).toBe(0);
    expect(await sampleValue(s!.metrics.registry, 'frost_signer_commitments_issued_total')).toBe(0);
  });

  it('accepts exactly maxBatch', () => {
    const [s] = trio({ maxBatch: 8 });
    expect(handleRound1(s!.deps, wire({ key_id: KEY_ID, count: 8 })).commitments).toHaveLength(8);
  });

  it('refuses a key id it does not hold with UNKNOWN_KEY', async () => {
    const [s] = trio();
    await expectSignerError(() => handleRound1(s!.deps, wire({ key_id: 'mint-2099', count: 1 })), 'UNKNOWN_KEY');
    expect(s!.nonces.size).toBe(0);
  });
});

describe('handleRound2', () => {
  it('a full 2-of-3 signing through the handlers verifies, for every pair of signers', async () => {
    const signers = trio();
    for (const pair of [[0, 1], [0, 2], [1, 2]] as const) {
      const quorum = pair.map((i) => signers[i]!);
      const { signature } = await signWith(quorum, message);
      // node:crypto, not the library under test, has the last word.
      expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, message, signature.toBytes())).toBe(true);
      for (const s of quorum) expect(s.nonces.size).toBe(0);
    }
  });

  it('claims a nonce once: the same request again is COMMITMENT_ALREADY_USED', async () => {
    const [s1, s2] = trio();
    const { req } = await signWith([s1!, s2!], message);
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_ALREADY_USED');
    await expectSignerError(shareOf(s2!, req), 'COMMITMENT_ALREADY_USED');
  });

  it('a commitment it never issued is UNKNOWN_COMMITMENT; one past its ttl is COMMITMENT_EXPIRED', async () => {
    let now = 0;
    const [s1, s2] = trio({ now: () => now, ttlMs: 1000 });
    const forged = requestFor([{ identifier: s1!.identifier, commitments: strangerCommitments() }, commitOnce(s2!)]);
    await expectSignerError(shareOf(s1!, forged), 'UNKNOWN_COMMITMENT');
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    now = 1000;
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_EXPIRED');
  });

  it('a package that does not list this signer is NOT_A_PARTICIPANT', async () => {
    const [s1, s2, s3] = trio();
    const mine = commitOnce(s1!);
    await expectSignerError(shareOf(s1!, requestFor([commitOnce(s2!), commitOnce(s3!)])), 'NOT_A_PARTICIPANT');
    // No single nonce was named, so none was claimed: the one outstanding still signs.
    expect(s1!.nonces.size).toBe(1);
    await shareOf(s1!, requestFor([mine, commitOnce(s2!)]));
  });

  it('a message that starts like a key activation message is DKG_REFUSED, before any nonce is touched', async () => {
    const [s1, s2] = trio();
    const mine = commitOnce(s1!);
    const activation = new Uint8Array(activationMessage(new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)));
    for (const msg of [activation, new TextEncoder().encode('hoarfrost-key-activation-v1 and anything after')]) {
      await expectSignerError(shareOf(s1!, requestFor([mine, commitOnce(s2!)], msg)), 'DKG_REFUSED');
    }
    // The nonce it named was not claimed: it still signs an ordinary message.
    expect(noncesOf(s1!, mine).used).toBe(false);
    await shareOf(s1!, requestFor([mine, commitOnce(s2!)]));
  });

  it('a package listing this signer twice is NOT_A_PARTICIPANT, before any nonce is touched', async () => {
    const [s1, s2] = trio();
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    const twice: Round2Request = { ...req, commitments: [...req.commitments, req.commitments.find((c) => Buffer.from(c.identifier).equals(Buffer.from(s1!.identifier.toBytes())))!] };
    await expectSignerError(shareOf(s1!, twice), 'NOT_A_PARTICIPANT');
    expect(s1!.nonces.size).toBe(1);
    await shareOf(s1!, req);
  });

  it('a participant outside the key set is UNKNOWN_PARTICIPANT, and the nonce is burnt', async () => {
    const [s1, s2] = trio();
    const mine = commitOnce(s1!);
    const stranger = { identifier: Identifier.fromNumber(7), commitments: strangerCommitments() };
    await expectSignerError(shareOf(s1!, requestFor([mine, stranger])), 'UNKNOWN_PARTICIPANT');
    expect(noncesOf(s1!, mine).used).toBe(true); // wiped, not only unlisted
    await expectSignerError(shareOf(s1!, requestFor([mine, commitOnce(s2!)])), 'COMMITMENT_ALREADY_USED');
  });

  it.each([
    ['the identity', '01' + '00'.repeat(31)],
    ['a point of order 2', 'ec' + 'ff'.repeat(30) + '7f'],
    ['a non-canonical encoding', 'ed' + 'ff'.repeat(30) + '7f'],
  ])("another participant's commitment that is %s is INVALID_POINT, and the nonce is burnt", async (_name, hex) => {
    const [s1, s2] = trio();
    const mine = commitOnce(s1!);
    const good = commitOnce(s2!);
    const req = requestFor([mine, good]);
    const bad: Round2Request = {
      ...req,
      commitments: req.commitments.map((c) => (Buffer.from(c.identifier).equals(Buffer.from(s2!.identifier.toBytes())) ? { ...c, hiding: Buffer.from(hex, 'hex') } : c)),
    };
    const e = await rejectionOf(shareOf(s1!, bad));
    expect(e).toBeInstanceOf(FrostError);
    expect(toWireRefusal(e)).toMatchObject({ code: 'INVALID_POINT', status: 400, unexpected: false });
    expect(noncesOf(s1!, mine).used).toBe(true);
    expect(noncesOf(s2!, good).used).toBe(false); // the other signer's nonce is its own business
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_ALREADY_USED');
  });

  it('a package with fewer commitments than the threshold is INVALID_SIGNING_PACKAGE, and the nonce is burnt', async () => {
    const [s1, s2] = trio();
    const mine = commitOnce(s1!);
    const e = await rejectionOf(shareOf(s1!, requestFor([mine])));
    expect(toWireRefusal(e).code).toBe('INVALID_SIGNING_PACKAGE');
    expect(noncesOf(s1!, mine).used).toBe(true);
    await expectSignerError(shareOf(s1!, requestFor([mine, commitOnce(s2!)])), 'COMMITMENT_ALREADY_USED');
  });

  it('a policy refusal carries the POLICY_* code, is counted by reason, and burns the nonce', async () => {
    const policy = createPolicy({ mode: 'jws', maxMessageBytes: 1024, jwsRequiredClaims: ['sub'] });
    const [s1, s2] = trio({ policy });
    const entries = [commitOnce(s1!), commitOnce(s2!)];
    await expectSignerError(shareOf(s1!, requestFor(entries, new TextEncoder().encode('not a JWS'))), 'POLICY_NOT_JWS');
    expect(await sampleValue(s1!.metrics.registry, 'frost_signer_policy_refusals_total', { reason: 'POLICY_NOT_JWS' })).toBe(1);
    expect(noncesOf(s1!, entries[0]!).used).toBe(true);
    await expectSignerError(shareOf(s1!, requestFor(entries, jwsInput({ sub: 'alice' }))), 'COMMITMENT_ALREADY_USED');
    // The same policy lets a conforming message through to a valid signature.
    const ok = jwsInput({ sub: 'bob' });
    const { signature } = await signWith([s1!, s2!], ok);
    expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, ok, signature.toBytes())).toBe(true);
    expect(await sampleValue(s1!.metrics.registry, 'frost_signer_policy_refusals_total')).toBe(1);
  });

  it('a commitment issued under another key id is COMMITMENT_KEY_MISMATCH, and is burnt', async () => {
    const s1 = testSigner(1, { [KEY_ID]: dealt, other });
    const s2 = testSigner(2, { [KEY_ID]: dealt, other });
    const mineUnderOther = commitOnce(s1, 'other');
    await expectSignerError(shareOf(s1, requestFor([mineUnderOther, commitOnce(s2)], message, KEY_ID)), 'COMMITMENT_KEY_MISMATCH');
    expect(noncesOf(s1, mineUnderOther).used).toBe(true);
    await expectSignerError(shareOf(s1, requestFor([mineUnderOther, commitOnce(s2, 'other')], message, 'other')), 'COMMITMENT_ALREADY_USED');
    // Both key sets still sign through their own commitments.
    for (const keyId of [KEY_ID, 'other']) {
      const { signature } = await signWith([s1, s2], message, keyId);
      const pkp = (keyId === KEY_ID ? dealt : other).publicKeyPackage;
      expect(ed25519Verifies(pkp.verifyingKeyBytes, message, signature.toBytes())).toBe(true);
    }
  });

  it('an unknown key id is UNKNOWN_KEY; a malformed request is a WireFormatError', async () => {
    const [s1, s2] = trio();
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    await expectSignerError(shareOf(s1!, { ...req, key_id: 'nope' }), 'UNKNOWN_KEY');
    const e = await rejectionOf(handleRound2(s1!.deps, wire({ ...req, message: 'text, not bytes' }), silentLog));
    expect(e).toBeInstanceOf(WireFormatError);
    // Neither reached the nonce.
    await shareOf(s1!, req);
  });

  it("testFault 'corrupt-shares' yields a share that aggregate rejects, naming that signer", async () => {
    const [s1] = trio();
    const corrupt = testSigner(2, { [KEY_ID]: dealt }, { testFault: 'corrupt-shares' });
    const e = await rejectionOf(signWith([s1!, corrupt], message));
    expect(e).toBeInstanceOf(InvalidSignatureShareError);
    expect((e as InvalidSignatureShareError).culprits).toEqual([corrupt.identifier.toHex()]);
  });

  it('100 concurrent requests for one commitment yield exactly one share', async () => {
    const [s1, s2] = trio();
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => shareOf(s1!, req)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(99);
    for (const r of refused) expect(r.reason).toMatchObject({ name: 'SignerError', code: 'COMMITMENT_ALREADY_USED' });
  });
});

/**
 * The worker-pool branch of round 2, with an in-process stand-in for CryptoPool: the real pool loads
 * the compiled crypto-worker.js, which jest on sources cannot. The stand-in does the worker's work
 * (crypto-worker.ts) on the main thread, or fails like the pool does.
 */
describe('handleRound2 with a crypto pool', () => {
  function fakePool(minParticipants: number, fail?: SignerError) {
    const tasks: Omit<PrepareTask, 'id'>[] = [];
    const pool = {
      minParticipants,
      async prepare(task: Omit<PrepareTask, 'id'>): Promise<PreparedSigning> {
        tasks.push(task);
        if (fail) throw fail;
        const own = Identifier.fromHex(task.ownHex);
        const pkg = decodeRound2Request(task.request, own);
        const bindingFactors = computeBindingFactors(pkg, task.verifyingKey);
        return { bindingFactors, othersTerm: computeOthersTerm(pkg, bindingFactors, own) };
      },
    };
    return { pool: pool as unknown as CryptoPool, tasks };
  }

  it('packages of at least minParticipants go to the pool, and the share still verifies', async () => {
    const signers = trio();
    const { pool, tasks } = fakePool(3);
    signers[0]!.deps.cryptoPool = pool;
    const { signature } = await signWith(signers, message);
    expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, message, signature.toBytes())).toBe(true);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.ownHex).toBe(signers[0]!.identifier.toHex());
    // Smaller packages stay inline.
    await signWith([signers[0]!, signers[1]!], message);
    expect(tasks).toHaveLength(1);
  });

  it("the pool's refusal is the request's refusal, and the nonce is burnt", async () => {
    const [s1, s2] = trio();
    s1!.deps.cryptoPool = fakePool(2, new SignerError('INVALID_POINT', 'element is the identity')).pool;
    const mine = commitOnce(s1!);
    const req = requestFor([mine, commitOnce(s2!)]);
    await expectSignerError(shareOf(s1!, req), 'INVALID_POINT');
    expect(noncesOf(s1!, mine).used).toBe(true);
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_ALREADY_USED');
  });

  // Regression: a group commitment equal to the identity was signed. Honest commitments cannot be
  // chosen to cancel (the binding factors hash them all), so the pool's public part is what cancels
  // this signer's own term here: the one input of round 2 the signer does not compute itself.
  it('a group commitment equal to the identity is refused as IDENTITY_COMMITMENT, with no share, and the nonce is burnt', async () => {
    const [s1, s2] = trio();
    const share = s1!.deps.keys.get(KEY_ID)!.keyPackage.signingShare;
    const [r1, r2] = [randomBytes(32), randomBytes(32)];
    const nonces = SigningNonces.fromRandomness(share, r1, r2);
    s1!.nonces.add(KEY_ID, nonces);
    const mine = { identifier: s1!.identifier, commitments: nonces.commitments };
    const req = requestFor([mine, commitOnce(s2!)]);
    const cancelling = {
      minParticipants: 2,
      async prepare(task: Omit<PrepareTask, 'id'>): Promise<PreparedSigning> {
        const bindingFactors = computeBindingFactors(decodeRound2Request(task.request, 'all'), task.verifyingKey);
        const rho = bindingFactors.get(s1!.identifier.toHex())!;
        const own = (round1.nonceGenerate(share, r1) + rho * round1.nonceGenerate(share, r2)) % ORDER;
        return { bindingFactors, othersTerm: Point.BASE.multiply(ORDER - own).toBytes() };
      },
    };
    s1!.deps.cryptoPool = cancelling as unknown as CryptoPool;
    const e = await rejectionOf(shareOf(s1!, req));
    expect(e).toBeInstanceOf(IdentityCommitmentError);
    expect(toWireRefusal(e)).toMatchObject({ code: 'IDENTITY_COMMITMENT', status: 400, unexpected: false });
    expect(nonces.used).toBe(true);
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_ALREADY_USED');
  });

  it('a participant outside the key set is still UNKNOWN_PARTICIPANT on the pool path', async () => {
    const [s1] = trio();
    s1!.deps.cryptoPool = fakePool(2).pool;
    const req = requestFor([commitOnce(s1!), { identifier: Identifier.fromNumber(9), commitments: strangerCommitments() }]);
    await expectSignerError(shareOf(s1!, req), 'UNKNOWN_PARTICIPANT');
  });
});

describe('handleInfo', () => {
  const s = testSigner(2, { [KEY_ID]: dealt, other });
  const info = (body: unknown) => parseInfoResponse(wire(handleInfo(s.deps, wire(body))));

  it('describes the key asked for: verifying share, group key, threshold', () => {
    for (const [keyId, set] of [[KEY_ID, dealt], ['other', other]] as const) {
      const r = info({ key_id: keyId });
      const kp = set.keyPackages.get(s.identifier.toHex())!;
      expect(Buffer.from(r.identifier!)).toEqual(Buffer.from(s.identifier.toBytes()));
      expect(r.keys).toHaveLength(1);
      expect(r.keys[0]!.key_id).toBe(keyId);
      expect(toHex(r.keys[0]!.verifying_share)).toBe(toHex(kp.verifyingShare.toBytes()));
      expect(toHex(r.keys[0]!.verifying_key)).toBe(toHex(set.publicKeyPackage.verifyingKeyBytes));
      expect(r.keys[0]!.min_signers).toBe(2);
    }
  });

  it('describes every key when none is named', () => {
    expect(info({}).keys.map((k) => k.key_id).sort()).toEqual([KEY_ID, 'other']);
  });

  it('carries one instance id of 16 bytes, whichever keys are asked for', () => {
    const ids = [info({}), info({ key_id: KEY_ID }), info({ key_id: 'other' })].map((r) => r.instance_id);
    for (const id of ids) expect(id).toHaveLength(16);
    expect(new Set(ids.map((id) => toHex(id!))).size).toBe(1);
    expect(toHex(ids[0]!)).toBe(toHex(s.deps.instanceId));
  });

  it('announces the policy limit as max_message_bytes when the body limit holds it', () => {
    expect(info({}).max_message_bytes).toBe(64 * 1024);
    const tight = testSigner(2, { [KEY_ID]: dealt }, { maxMessageBytes: 100 });
    expect(parseInfoResponse(wire(handleInfo(tight.deps, wire({})))).max_message_bytes).toBe(100);
  });

  it.each([600, 1024, 4096, 65_962, 65_963, 65_964, 65_965, 65_966, 70_000])('announces what a body of %i bytes holds beside a request listing every participant', (maxBodyBytes) => {
    const tight = testSigner(2, { [KEY_ID]: dealt }, { maxBodyBytes, maxMessageBytes: 1 << 20 });
    const max = parseInfoResponse(wire(handleInfo(tight.deps, wire({ key_id: KEY_ID })))).max_message_bytes!;
    const everyone = [1, 2, 3].map((n) => ({ identifier: Identifier.fromNumber(n), commitments: strangerCommitments() }));
    const bodyOf = (length: number) => encodeCbor(requestFor(everyone, new Uint8Array(length))).length;
    expect(bodyOf(max)).toBeLessThanOrEqual(maxBodyBytes);
    expect(bodyOf(max + 1)).toBeGreaterThan(maxBodyBytes);
  });

  it('leaves max_message_bytes out when the body limit holds no request at all', () => {
    const tiny = testSigner(2, { [KEY_ID]: dealt }, { maxBodyBytes: 300 });
    const r = parseInfoResponse(wire(handleInfo(tiny.deps, wire({}))));
    expect(r.max_message_bytes).toBeUndefined();
    expect(r.keys).toHaveLength(1);
  });

  it('refuses a key it does not hold with UNKNOWN_KEY and a malformed request as INVALID_REQUEST', async () => {
    await expectSignerError(() => info({ key_id: 'mint-2099' }), 'UNKNOWN_KEY');
    const e = await rejectionOf(() => info({ keyid: KEY_ID }));
    expect(e).toMatchObject({ name: 'WireFormatError', code: 'INVALID_REQUEST' });
  });
});

describe('key states and per-key identifiers', () => {
  /** Signer 1 holding `default` in state `state` (and, active, `other`). */
  const withState = (state: 'pending' | 'active' | 'retired') => {
    const s = testSigner(1, { [KEY_ID]: dealt, other });
    (s.deps.keys as unknown as Map<string, { state?: string }>).get(KEY_ID)!.state = state;
    return s;
  };

  it.each([['pending', 'KEY_NOT_ACTIVE'], ['retired', 'KEY_RETIRED']] as const)('a %s key issues no commitment (%s); another key still does', async (state, code) => {
    const s = withState(state);
    await expectSignerError(() => handleRound1(s.deps, wire({ key_id: KEY_ID, count: 2 })), code);
    expect(s.issued).toHaveLength(0);
    expect(handleRound1(s.deps, wire({ key_id: 'other', count: 1 })).commitments).toHaveLength(1);
  });

  it.each([['pending', 'KEY_NOT_ACTIVE'], ['retired', 'KEY_RETIRED']] as const)('round 2 under a %s key is %s before its nonce is claimed', async (state, code) => {
    const [s1, s2] = trio();
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    (s1!.deps.keys as unknown as Map<string, { state?: string }>).get(KEY_ID)!.state = state;
    await expectSignerError(handleRound2(s1!.deps, wire(req), silentLog), code);
    const batch = await handleRound2Batch(s1!.deps, wire({ requests: [req] }), silentLog);
    expect(batch.results[0]).toEqual({ error: { code, message: expect.any(String) } });
    // Activated again, the same request signs: its nonce was never claimed.
    (s1!.deps.keys as unknown as Map<string, { state?: string }>).get(KEY_ID)!.state = 'active';
    await expect(shareOf(s1!, req)).resolves.toBeDefined();
  });

  it('round 2 naming another version of the key than the one held is KEY_VERSION_CHANGED before its nonce is claimed; naming it, or none, signs', async () => {
    const [s1, s2] = trio();
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    (s1!.deps.keys as unknown as Map<string, { version?: number }>).get(KEY_ID)!.version = 2;
    await expectSignerError(handleRound2(s1!.deps, wire({ ...req, key_version: 1 }), silentLog), 'KEY_VERSION_CHANGED');
    const batch = await handleRound2Batch(s1!.deps, wire({ requests: [{ ...req, key_version: 3 }] }), silentLog);
    expect(batch.results[0]).toEqual({ error: { code: 'KEY_VERSION_CHANGED', message: expect.any(String) } });
    await expect(shareOf(s1!, { ...req, key_version: 2 })).resolves.toBeDefined();
  });

  it('info reports the activation of a version made by key generation (session and signature, both public)', () => {
    const s = testSigner(2, { [KEY_ID]: dealt });
    const session = 'ab'.repeat(32);
    const signature = new Uint8Array(64).fill(7);
    Object.assign((s.deps.keys as unknown as Map<string, object>).get(KEY_ID)!, { activation: { sessionId: session, signature } });
    const r = parseInfoResponse(wire(handleInfo(s.deps, wire({}))));
    expect(Buffer.from(r.keys[0]!.activation!.session).toString('hex')).toBe(session);
    expect(Buffer.from(r.keys[0]!.activation!.signature)).toEqual(Buffer.from(signature));
  });

  it('info describes every key in every state, with its identifier, version, creation time and canonical public key package', () => {
    const s = testSigner(2, { [KEY_ID]: dealt, other });
    const keys = s.deps.keys as unknown as Map<string, { state?: string; version?: number; createdAt?: number }>;
    Object.assign(keys.get('other')!, { state: 'pending', version: 4, createdAt: 1_700_000_000_999 });
    const r = parseInfoResponse(wire(handleInfo(s.deps, wire({}))));
    const mine = r.keys.find((k) => k.key_id === KEY_ID)!;
    expect(mine).toMatchObject({ state: 'active', version: 1 });
    expect(mine.created_at).toBeUndefined();
    expect(Buffer.from(mine.identifier!)).toEqual(Buffer.from(s.identifier.toBytes()));
    expect(Buffer.from(mine.public_key_package!)).toEqual(Buffer.from(encodePublicKeyPackage(dealt.publicKeyPackage)));
    expect(decodePublicKeyPackage(mine.public_key_package!).verifyingKeyBytes).toEqual(dealt.publicKeyPackage.verifyingKeyBytes);
    expect(r.keys.find((k) => k.key_id === 'other')).toMatchObject({ state: 'pending', version: 4, created_at: 1_700_000_000 }); // whole seconds
  });

  it('each key carries this signer\'s identifier for it (they may differ); a signer holding no key answers without one', () => {
    const derived = trustedDealerKeygen({ minSigners: 2, maxSigners: 3, identifiers: [7, 8, 9].map((n) => Identifier.fromNumber(n)) });
    const s = testSigner(1, { [KEY_ID]: dealt });
    const kp = [...derived.keyPackages.values()][0]!;
    (s.deps.keys as unknown as Map<string, unknown>).set('derived', { keyId: 'derived', keyPackage: kp, publicKeyPackage: derived.publicKeyPackage });
    const r = parseInfoResponse(wire(handleInfo(s.deps, wire({}))));
    expect(r.keys.map((k) => Identifier.fromBytes(k.identifier!).toNumber())).toEqual([1, 7]);
    expect(Identifier.fromBytes(r.identifier!).toNumber()).toBe(1);
    // Round 1 under each key answers with that key's identifier.
    expect(Identifier.fromBytes(handleRound1(s.deps, wire({ key_id: 'derived', count: 1 })).identifier).toNumber()).toBe(7);
    const empty = testSigner(1, {});
    const none = parseInfoResponse(wire(handleInfo(empty.deps, wire({}))));
    expect(none.keys).toEqual([]);
    expect(none.identifier).toBeUndefined();
    expect(none.instance_id).toHaveLength(16);
  });
});

describe('the audit record of each share', () => {
  /** An audit trail double: keeps the events, or fails every append. */
  function auditDouble(fail = false) {
    const events: Record<string, unknown>[] = [];
    const trail: AuditTrail = {
      append: async (event) => {
        if (fail) throw new AuditError('AUDIT_WRITE_FAILED', 'disk full');
        events.push(event);
      },
      close: async () => {},
      failure: undefined,
    };
    return { trail, events };
  }

  it('names the key, the message digest, the requester and the commitment, never a secret', async () => {
    const [s1, s2] = trio();
    const { trail, events } = auditDouble();
    s1!.deps.audit = trail;
    const entry = commitOnce(s1!);
    const req = requestFor([entry, commitOnce(s2!)]);
    await handleRound2(s1!.deps, wire(req), silentLog, { iss: 'frost-coordinator', jti: 'j'.repeat(22) });
    // Failing open, the record follows the answer (on the next turn of the event loop).
    expect(events).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([
      {
        event: 'round2',
        keyId: KEY_ID,
        messageSha256: createHash('sha256').update(message).digest('hex'),
        requester: `frost-coordinator#${'j'.repeat(22)}`,
        commitment: commitmentId(entry.commitments.hidingBytes, entry.commitments.bindingBytes),
        participants: 2,
      },
    ]);
  });

  it('failing closed, a share whose record is not written is withheld (AUDIT_UNAVAILABLE) and its nonce burnt', async () => {
    const [s1, s2] = trio();
    s1!.deps.audit = auditDouble(true).trail;
    (s1!.deps.config as { audit?: { failClosed: boolean } }).audit = { failClosed: true };
    const req = requestFor([commitOnce(s1!), commitOnce(s2!)]);
    await expectSignerError(shareOf(s1!, req), 'AUDIT_UNAVAILABLE');
    await expectSignerError(shareOf(s1!, req), 'COMMITMENT_ALREADY_USED');
    // Failing open (the default), the share is returned.
    const [o1, o2] = trio();
    o1!.deps.audit = auditDouble(true).trail;
    expect((await shareOf(o1!, requestFor([commitOnce(o1!), commitOnce(o2!)]))).share).toBeGreaterThan(0n);
  });
});

describe('handleRound2Batch', () => {
  /** The batch at `s` over the wire shapes: each outcome a share or a refusal code. */
  async function batchAt(s: TestSigner, reqs: Round2Request[]): Promise<(SignatureShare | string)[]> {
    const r = parseRound2BatchResponse(wire(await handleRound2Batch(s.deps, wire({ requests: reqs }), silentLog)), reqs.length);
    return r.results.map((o) => (isRound2Refusal(o) ? o.error.code : decodeRound2Response(o)));
  }

  it('signs every package of the batch; each pair of shares aggregates to a valid signature', async () => {
    const [s1, s2] = trio();
    const messages = [0, 1, 2, 3, 4].map((i) => new TextEncoder().encode(`mint: ${i}`));
    const pkgs = messages.map((m) => new SigningPackage([commitOnce(s1!), commitOnce(s2!)], m));
    const reqs = pkgs.map((p) => encodeRound2Request(KEY_ID, p));
    const [a, b] = [await batchAt(s1!, reqs), await batchAt(s2!, reqs)];
    pkgs.forEach((pkg, i) => {
      const shares = new Map([
        [s1!.identifier.toHex(), a[i] as SignatureShare],
        [s2!.identifier.toHex(), b[i] as SignatureShare],
      ]);
      expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, messages[i]!, aggregate(pkg, shares, dealt.publicKeyPackage).toBytes())).toBe(true);
    });
    expect(await sampleValue(s1!.metrics.registry, 'frost_signer_round2_total', { outcome: 'ok' })).toBe(5);
    expect(s1!.nonces.size).toBe(0);
  });

  it('each request gets its own outcome, in order: a refused one burns its nonce, the others are signed', async () => {
    const [s1, s2] = trio({ policy: (m) => (m[0] === 0x21 ? { ok: false, code: 'POLICY_NOT_JWS', reason: 'no' } : { ok: true }) });
    const used = commitOnce(s1!);
    const first = requestFor([used, commitOnce(s2!)]);
    const refused = commitOnce(s1!);
    const reqs = [
      first,
      requestFor([commitOnce(s2!), { identifier: Identifier.fromNumber(3), commitments: strangerCommitments() }]), // not listing signer 1
      requestFor([refused, commitOnce(s2!)], Uint8Array.of(0x21)), // refused by policy
      { ...first }, // the first one's commitment again: claimed by the first already
      requestFor([{ identifier: s1!.identifier, commitments: strangerCommitments() }, commitOnce(s2!)]), // never issued
      requestFor([commitOnce(s1!), commitOnce(s2!)]),
    ];
    const out = await batchAt(s1!, reqs);
    expect(out.map((o) => (typeof o === 'string' ? o : 'share'))).toEqual(['share', 'NOT_A_PARTICIPANT', 'POLICY_NOT_JWS', 'COMMITMENT_ALREADY_USED', 'UNKNOWN_COMMITMENT', 'share']);
    expect(noncesOf(s1!, refused).used).toBe(true);
    expect(s1!.nonces.size).toBe(0);
    expect(await sampleValue(s1!.metrics.registry, 'frost_signer_round2_total', { outcome: 'ok' })).toBe(2);
    expect(await sampleValue(s1!.metrics.registry, 'frost_signer_round2_total', { outcome: 'POLICY_NOT_JWS' })).toBe(1);
  });

  it('a request whose message starts like a key activation message is DKG_REFUSED alone, its nonce untouched', async () => {
    const [s1, s2] = trio();
    const mine = commitOnce(s1!);
    const activation = new Uint8Array(activationMessage(new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)));
    const out = await batchAt(s1!, [requestFor([mine, commitOnce(s2!)], activation), requestFor([commitOnce(s1!), commitOnce(s2!)])]);
    expect(out.map((o) => (typeof o === 'string' ? o : 'share'))).toEqual(['DKG_REFUSED', 'share']);
    expect(noncesOf(s1!, mine).used).toBe(false);
    expect(s1!.nonces.size).toBe(1);
  });

  it('every listed nonce is claimed before any point work: an invalid point in one package still burns the nonces of all', async () => {
    const [s1, s2] = trio();
    const a = commitOnce(s1!);
    const b = commitOnce(s1!);
    // Package 1 holds a point that is not valid (the identity): its refusal comes from point work.
    const identity = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
    const bad = { ...requestFor([a, commitOnce(s2!)]) };
    bad.commitments = bad.commitments.map((c) => (Buffer.compare(c.identifier, s2!.identifier.toBytes()) === 0 ? { ...c, hiding: identity } : c));
    const good = requestFor([b, commitOnce(s2!)]);
    const out = await batchAt(s1!, [bad, good]);
    expect(out[0]).toBe('INVALID_POINT');
    expect(typeof out[1]).not.toBe('string');
    expect(noncesOf(s1!, a).used).toBe(true);
    expect(noncesOf(s1!, b).used).toBe(true);
  });

  it('gives the event loop back during a long batch', async () => {
    const [s1, s2] = trio();
    const order: string[] = [];
    // Read once per share, as it is computed.
    Object.defineProperty(s1!.deps.config, 'testFault', { get: () => (order.push('share'), 'none') });
    const reqs = Array.from({ length: 60 }, () => requestFor([commitOnce(s1!), commitOnce(s2!)]));
    setImmediate(() => order.push('other work'));
    await batchAt(s1!, reqs);
    const at = order.indexOf('other work');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(order.length - 1); // ran while the batch still had shares to compute
  });

  it('more requests than SIGNER_MAX_ROUND2_BATCH, or none, is INVALID_REQUEST and touches no nonce', async () => {
    const [s1, s2] = trio({ maxRound2Batch: 2 });
    const reqs = [0, 1, 2].map(() => requestFor([commitOnce(s1!), commitOnce(s2!)]));
    const e = await rejectionOf(handleRound2Batch(s1!.deps, wire({ requests: reqs }), silentLog));
    expect(e).toBeInstanceOf(WireFormatError);
    expect((e as WireFormatError).code).toBe('INVALID_REQUEST');
    expect(s1!.nonces.size).toBe(3);
    await expect(handleRound2Batch(s1!.deps, wire({ requests: [] }), silentLog)).rejects.toBeInstanceOf(WireFormatError);
  });

  it('large packages go through the worker pool in one pass, and the shares still verify', async () => {
    const signers = trio();
    const tasks: Omit<PrepareTask, 'id'>[][] = [];
    signers[0]!.deps.cryptoPool = {
      minParticipants: 3,
      async prepareMany(many: Omit<PrepareTask, 'id'>[]): Promise<PreparedSigning[]> {
        tasks.push(many);
        return many.map((task) => {
          const own = Identifier.fromHex(task.ownHex);
          const pkg = decodeRound2Request(task.request, own);
          const bindingFactors = computeBindingFactors(pkg, task.verifyingKey);
          return { bindingFactors, othersTerm: computeOthersTerm(pkg, bindingFactors, own) };
        });
      },
    } as unknown as CryptoPool;
    const pkgs = [0, 1, 2].map((i) => new SigningPackage(signers.map((s) => commitOnce(s)), Uint8Array.of(i)));
    const reqs = pkgs.map((p) => encodeRound2Request(KEY_ID, p));
    const [a, b, c] = [await batchAt(signers[0]!, reqs), await batchAt(signers[1]!, reqs), await batchAt(signers[2]!, reqs)];
    expect(tasks.map((t) => t.length)).toEqual([3]);
    pkgs.forEach((pkg, i) => {
      const shares = new Map(signers.map((s, k) => [s.identifier.toHex(), [a, b, c][k]![i] as SignatureShare]));
      expect(ed25519Verifies(dealt.publicKeyPackage.verifyingKeyBytes, pkg.message, aggregate(pkg, shares, dealt.publicKeyPackage).toBytes())).toBe(true);
    });
  });
});
