// Every outcome of a signing, against in-process fake signers running the real protocol library.
import { describe, expect, it } from '@jest/globals';
import { Identifier } from '@hoarfrost/frost';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import { ApiError } from '../src/errors.js';
import { Orchestrator } from '../src/orchestrator.js';
import { fakeDeployment, refreshKey, sample, silentLog, type FakeDeployment } from './fake-signers.js';

const message = new TextEncoder().encode('mint: 100 tokens to alice');

async function signOk(d: FakeDeployment, extra: Partial<Parameters<FakeDeployment['orchestrator']['sign']>[0]> = {}) {
  const r = await d.orchestrator.sign({ message, log: silentLog, ...extra });
  expect(ed25519Verifies(d.pkp.verifyingKeyBytes, message, r.signature)).toBe(true);
  return r;
}

/** Every signer reports the default key's version (1), as signers that know versions do. */
async function versioned(d: FakeDeployment): Promise<void> {
  for (const s of d.signers) s.keys.get('default')!.version = 1;
  await d.registry.checkAll();
}

/** Another orchestrator over the deployment's signers and pools, with some of its collaborators replaced. */
function orchestratorOver(d: FakeDeployment, over: Partial<ConstructorParameters<typeof Orchestrator>[0]>): Orchestrator {
  return new Orchestrator({ config: { keyId: 'default', signDeadlineMs: 5000, signerTimeoutMs: 2000 }, registry: d.registry, metrics: d.metrics, pool: d.pools, ...over });
}

async function signFails(d: FakeDeployment, extra: Partial<Parameters<FakeDeployment['orchestrator']['sign']>[0]> = {}): Promise<ApiError> {
  const e = await d.orchestrator.sign({ message, log: silentLog, ...extra }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

describe('Orchestrator', () => {
  it('signs with t healthy signers in one attempt, from round 1 or from the pool', async () => {
    for (const poolSize of [0, 8]) {
      const d = await fakeDeployment(2, 3, { poolSize });
      const r = await signOk(d);
      expect(r.attempts).toBe(1);
      expect(r.participants).toHaveLength(2);
      expect(r.culprits).toEqual([]);
      expect(d.signers.reduce((n, s) => n + s.calls.round2, 0)).toBe(2);
    }
  });

  it('uses preprocessed commitments once the pool is filled, so /sign needs only round 2', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 8 });
    for (const h of d.registry.handles) d.pool.refill(h); // as the coordinator's health loop does
    await new Promise((r) => setTimeout(r, 20)); // let refills and background validation run
    expect(d.registry.handles.map((h) => d.pool.size(h))).toEqual([4, 4, 4]);
    const before = d.signers.map((s) => s.round1Counts.length);
    await signOk(d);
    // No round 1 for a single commitment was made for this request (pool refills ask for batches).
    for (const [i, s] of d.signers.entries()) expect(s.round1Counts.slice(before[i]).filter((n) => n === 1)).toEqual([]);
  });

  it('never asks a holder that reports the key pending or retired (it would refuse): the others sign', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.keys.get('default')!.state = 'retired';
    await d.registry.checkAll();
    expect(d.registry.key('default')!.state).toBe('active');
    const before = { ...d.signers[0]!.calls };
    for (let i = 0; i < 4; i++) {
      const r = await signOk(d);
      expect(r.participants).toEqual([2, 3]);
      expect(r.culprits).toEqual([]);
    }
    expect(d.signers[0]!.calls.round1).toBe(before.round1);
    expect(d.signers[0]!.calls.round2).toBe(before.round2);
  });

  it('a signer holding another version of the key than the coordinator read is left out of the request, not convicted, and read again first', async () => {
    const d = await fakeDeployment(2, 3);
    await versioned(d);
    d.signers[0]!.keys.get('default')!.version = 2;
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const infos = d.signers[0]!.calls.info;
    const r = await signOk(d);
    expect(r.attempts).toBe(2);
    expect(r.participants).toEqual([2, 3]);
    expect(r.culprits).toEqual([]);
    expect(await sample(d.metrics, 'frost_coordinator_culprits_total', { signer: 'signer-1' })).toBe(0);
    expect(d.registry.handles[0]!.breaker.state).toBe('closed');
    expect(d.signers[0]!.calls.info).toBeGreaterThan(infos);
    // Alone in its version (the others, with the same package, hold version 1), it is left out of the
    // key: one signer cannot make the coordinator ask the others for a version they do not hold.
    expect(d.registry.key('default')!.version).toBe(1);
    expect(d.registry.handles.map((h) => h.identifierFor('default')?.toNumber())).toEqual([undefined, 2, 3]);
  });

  it('a refresh this coordinator has not seen: every holder is read again, and the signers holding the new version sign', async () => {
    const d = await fakeDeployment(2, 3);
    await versioned(d);
    const pkp2 = refreshKey(d, { on: [0, 1], version: 2 }); // signer 3 missed it
    d.registry.handles[1]!.healthy = false; // ranked last: the first quorum is {1, 3}
    const r = await signOk(d); // the same group key signs
    expect(r.participants).toEqual([1, 2]);
    expect(r.culprits).toEqual([]);
    expect(r.attempts).toBe(2);
    const key = d.registry.key('default')!;
    expect(key.version).toBe(2);
    expect(key.pkp.verifyingShareBytesOf(Identifier.fromNumber(1))).toEqual(pkp2.verifyingShareBytesOf(Identifier.fromNumber(1)));
    expect([...key.holders.keys()].map((h) => h.id)).toEqual(['signer-1', 'signer-2']);
    for (const h of d.registry.handles) expect(h.breaker.state).toBe('closed');
  });

  it('a signer convicted before the key is read again is still named, though it holds no share of the new version', async () => {
    const d = await fakeDeployment(2, 3);
    await versioned(d);
    d.signers[2]!.behaviour = 'corrupt';
    d.registry.handles[0]!.healthy = false; // ranked last: the first quorum is {2, 3}
    // Signers 1 and 2 activate a refresh (signer 3 misses it) once the first attempt has convicted 3.
    let refreshed = false;
    const retries = { inc: () => void (refreshed ||= (refreshKey(d, { on: [0, 1], version: 2 }), true)) } as unknown as FakeDeployment['metrics']['retries'];
    const r = await orchestratorOver(d, { metrics: { retries, culprits: d.metrics.culprits } }).sign({ message, log: silentLog });
    expect(ed25519Verifies(d.pkp.verifyingKeyBytes, message, r.signature)).toBe(true);
    expect(r.participants).toEqual([1, 2]);
    expect(r.culprits).toEqual([3]);
    expect(d.registry.key('default')!.version).toBe(2);
    expect(d.registry.handles[2]!.identifierFor('default')).toBeUndefined();
  });

  it('a signer claiming a version change it did not make (it reports the version it was sent) is held against it and left out', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1 });
    await versioned(d);
    d.signers[0]!.behaviour = 'version-liar';
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const r = await signOk(d);
    expect(r.participants).toEqual([2, 3]);
    expect(r.culprits).toEqual([]);
    expect(d.signers[0]!.calls.round2).toBe(1);
    expect(d.registry.handles[0]!.breaker.state).toBe('open');
    // Later requests do not pay for it again.
    const before = { ...d.signers[0]!.calls };
    for (let i = 0; i < 3; i++) await signOk(d);
    expect(d.signers[0]!.calls).toEqual(before);
  });

  it('names the key version in round 2 to each signer that reports versions, and only to those (an older signer would refuse the field)', async () => {
    const d = await fakeDeployment(2, 3);
    await versioned(d);
    // Signer 3 runs an older build: it reports no version.
    delete d.signers[2]!.keys.get('default')!.version;
    await d.registry.checkAll();
    const seen = (i: number) => d.signers[i]!.keyVersions.splice(0);
    for (const participants of [[1, 3], [2, 3]]) {
      await d.orchestrator.sign({ message, log: silentLog, participants: participants.map((n) => Identifier.fromNumber(n)) });
      await d.orchestrator.signBatch([{ message, log: silentLog }, { message, log: silentLog }]);
    }
    const older = seen(2);
    expect(older.length).toBeGreaterThan(0);
    expect(older.every((v) => v === undefined)).toBe(true);
    for (const i of [0, 1]) {
      const versions = seen(i);
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.every((v) => v === 1)).toBe(true);
    }
  });

  it('reading the key again after a version change stays within the request\'s deadline when a holder does not answer its info RPC', async () => {
    const d = await fakeDeployment(2, 3, { deadlineMs: 800 });
    await versioned(d);
    refreshKey(d, { on: [0, 1], version: 2 });
    // Signer 3's info RPC never answers (a hung process whose connection stays up).
    d.signers[2]!.info = () => new Promise(() => undefined);
    const started = Date.now();
    const outcome = await d.orchestrator.sign({ message, log: silentLog, participants: [Identifier.fromNumber(1), Identifier.fromNumber(2)] }).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(800 + 500);
    // Its holders read again in time, the key's new version signs.
    if (!(outcome as { participants?: unknown }).participants) throw outcome as Error;
    expect(outcome).toMatchObject({ participants: [1, 2] });
  });

  it('replaces a signer that is down and names nobody', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'down';
    for (let i = 0; i < 5; i++) {
      const r = await signOk(d);
      expect(r.participants).not.toContain(1);
      expect(r.culprits).toEqual([]);
    }
  });

  it('names and excludes a signer whose share is invalid, and retries with another quorum', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[1]!.behaviour = 'corrupt';
    d.registry.handles[2]!.healthy = false; // ranked last: the first quorum is {1, 2}
    const r = await signOk(d);
    expect(r.attempts).toBe(2);
    expect(r.culprits).toEqual([2]);
    expect(r.participants).toEqual([1, 3]);
    expect(await sample(d.metrics, 'frost_coordinator_culprits_total', { signer: 'signer-2' })).toBe(1);
    expect(d.registry.handles[1]!.breaker.state).toBe('open');
  });

  it('a cheater among pinned participants fails the request with QUORUM_UNAVAILABLE and is named', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[1]!.behaviour = 'corrupt';
    const e = await signFails(d, { participants: [Identifier.fromNumber(1), Identifier.fromNumber(2)] });
    expect(e.code).toBe('QUORUM_UNAVAILABLE');
    expect(e.culprits).toEqual([2]);
  });

  it('an invalid commitment or a non-canonical share convicts its signer at once', async () => {
    for (const behaviour of ['bad-point', 'bad-share'] as const) {
      const d = await fakeDeployment(2, 3);
      d.signers[2]!.behaviour = behaviour;
      d.registry.handles[1]!.healthy = false; // ranked last: the first quorum is {1, 3}
      const r = await signOk(d);
      expect(r.participants).toEqual([1, 2]);
      expect(r.culprits).toEqual([3]);
      expect(d.registry.handles[2]!.breaker.state).toBe('open');
      expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-3', outcome: 'SIGNER_INVALID_RESPONSE' })).toBe(1);
    }
  });

  it('POLICY_REFUSED when the signers refuse the message, with their codes and no culprit', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) s.behaviour = 'refuse';
    const e = await signFails(d);
    expect(e.code).toBe('POLICY_REFUSED');
    expect(e.status).toBe(403);
    expect(e.message).toContain('POLICY_NOT_JWS');
    expect(e.culprits).toEqual([]);
    // A refusal is the signer doing its job: no breaker opens.
    for (const h of d.registry.handles) expect(h.breaker.state).toBe('closed');
  });

  it('POLICY_REFUSED for pinned participants when one of them refuses', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'refuse';
    const e = await signFails(d, { participants: [Identifier.fromNumber(1), Identifier.fromNumber(3)] });
    expect(e.code).toBe('POLICY_REFUSED');
  });

  it('one refusal among 2-of-3 is routed around', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'refuse';
    const r = await signOk(d);
    expect(r.participants).toEqual([2, 3]);
  });

  it('QUORUM_UNAVAILABLE when fewer than t signers work', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'down';
    d.signers[1]!.behaviour = 'down';
    const e = await signFails(d);
    expect(e.code).toBe('QUORUM_UNAVAILABLE');
    expect(e.status).toBe(503);
  });

  it('a pinned participant that fails is not substituted', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'down';
    const e = await signFails(d, { participants: [Identifier.fromNumber(1), Identifier.fromNumber(2)] });
    expect(e.code).toBe('QUORUM_UNAVAILABLE');
    expect(d.signers[2]!.calls.round2).toBe(0);
  });

  it('a hanging signer is cut off by the signer timeout', async () => {
    const d = await fakeDeployment(2, 2, { deadlineMs: 1000, signerTimeoutMs: 100 });
    d.signers[0]!.behaviour = 'hang';
    const started = Date.now();
    const e = await signFails(d);
    expect(e.code).toBe('QUORUM_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(900);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', outcome: 'SIGNER_TIMEOUT' })).toBe(1);
  });

  it('DEADLINE_EXCEEDED when the deadline cuts the calls short', async () => {
    const d = await fakeDeployment(2, 3, { deadlineMs: 150, signerTimeoutMs: 150 });
    d.signers[0]!.behaviour = 'hang';
    d.signers[1]!.behaviour = 'hang';
    d.signers[2]!.behaviour = 'hang';
    const e = await signFails(d, { signers: [...d.registry.handles] });
    expect(e.code).toBe('DEADLINE_EXCEEDED');
  });

  it('DEADLINE_EXCEEDED, not a participant failure, when the deadline cuts a pinned request short', async () => {
    const d = await fakeDeployment(2, 3, { deadlineMs: 150, signerTimeoutMs: 150 });
    d.signers[1]!.behaviour = 'hang';
    const e = await signFails(d, { participants: [Identifier.fromNumber(1), Identifier.fromNumber(2)] });
    expect(e.code).toBe('DEADLINE_EXCEEDED');
  });

  it('calls the deadline cuts leave the breakers alone: the signers were not at fault', async () => {
    const d = await fakeDeployment(2, 3, { deadlineMs: 150, signerTimeoutMs: 2000, failureThreshold: 1 });
    for (const s of d.signers) s.behaviour = 'hang';
    const started = Date.now();
    const e = await signFails(d);
    expect(e.code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(d.registry.handles.map((h) => h.breaker.state)).toEqual(['closed', 'closed', 'closed']);
  });

  it('an absolute deadline given with the request bounds it (time spent before, reading the body, counts)', async () => {
    const d = await fakeDeployment(2, 3, { deadlineMs: 5000, signerTimeoutMs: 2000 });
    for (const s of d.signers) s.behaviour = 'hang';
    const started = Date.now();
    const e = await signFails(d, { deadline: Date.now() + 120 });
    expect(e.code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a message over one signer\'s limit is signed by the others; that signer is never asked', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.maxMessageBytes = 1;
    await d.registry.checkAll();
    for (let i = 0; i < 5; i++) expect((await signOk(d)).participants).toEqual([2, 3]);
    expect(d.signers[0]!.calls.round1 + d.signers[0]!.calls.round2).toBe(0);
  });

  it('a signer refusing the request as too large: MESSAGE_TOO_LARGE for the caller, no breaker touched', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1 });
    for (const s of d.signers) s.behaviour = 'too-large';
    for (let i = 0; i < 3; i++) expect((await signFails(d)).code).toBe('MESSAGE_TOO_LARGE');
    expect(d.registry.handles.map((h) => h.breaker.state)).toEqual(['closed', 'closed', 'closed']);
    for (const s of d.signers) s.behaviour = 'ok';
    await signOk(d);
  });

  it('a signer answering with another identifier is excluded (SIGNER_IDENTITY_CHANGED) and replaced', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'impostor';
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const r = await signOk(d);
    expect(r.participants).toEqual([2, 3]);
    expect(r.culprits).toEqual([]);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', outcome: 'SIGNER_IDENTITY_CHANGED' })).toBe(1);
  });

  it('a stale preprocessed commitment (signer restarted) costs one more attempt, not an exclusion', async () => {
    const d = await fakeDeployment(2, 2, { poolSize: 4 });
    await signOk(d);
    await new Promise((r) => setTimeout(r, 20));
    d.signers[0]!.behaviour = 'forget';
    const r = await signOk(d);
    expect(r.attempts).toBe(2);
    expect(r.participants).toEqual([1, 2]);
    expect(d.registry.handles[0]!.breaker.state).toBe('closed');
  });

  it('an undocumented signer error code is counted as SIGNER_ERROR, never verbatim', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'undocumented';
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    await signOk(d);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', outcome: 'SIGNER_ERROR' })).toBe(1);
    const outcomes = (await d.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'frost_coordinator_signer_requests_total')!.values.map((v) => v.labels.outcome);
    for (const o of outcomes) expect(['ok', 'SIGNER_ERROR']).toContain(o);
  });

  it('a half-open breaker admits one trial at a time', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1, cooldownMs: 0, signerTimeoutMs: 200 });
    const h1 = d.registry.handles[0]!;
    h1.breaker.failure(); // open; cooldown 0 → half-open at the next look
    expect(h1.breaker.state).toBe('half-open');
    d.signers[0]!.behaviour = 'hang';
    // Two concurrent requests restricted to signers 1 and 2: only one may send its trial to signer 1.
    const both = await Promise.allSettled([
      d.orchestrator.sign({ message, log: silentLog, signers: [d.registry.handles[0]!, d.registry.handles[1]!] }),
      d.orchestrator.sign({ message, log: silentLog, signers: [d.registry.handles[0]!, d.registry.handles[1]!] }),
    ]);
    expect(d.signers[0]!.calls.round1 + d.signers[0]!.calls.round2).toBe(1);
    expect(both.every((r) => r.status === 'rejected')).toBe(true);
  }, 10_000);

  it('a half-open trial that succeeds closes the breaker', async () => {
    const d = await fakeDeployment(2, 2, { failureThreshold: 1, cooldownMs: 0 });
    d.registry.handles[0]!.breaker.failure();
    expect(d.registry.handles[0]!.breaker.state).toBe('half-open');
    await signOk(d);
    expect(d.registry.handles[0]!.breaker.state).toBe('closed');
  });

  it('participants and culprits above 65535 are reported as hex identifiers, not -1', async () => {
    const big = [70_000n, 1n << 200n, 5n].map((v) => Identifier.fromBytes(Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex').reverse())));
    const d = await fakeDeployment(2, 3, { identifiers: big });
    const bigSigner = d.signers.find((s) => s.keyPackage.identifier.equals(big[1]!))!;
    bigSigner.behaviour = 'corrupt';
    const e = await signFails(d, { participants: [big[0]!, big[1]!] });
    expect(e.culprits).toEqual([big[1]!.toHex()]);
    const r = await signOk(d, { participants: [big[0]!, big[2]!] });
    expect(r.participants).toEqual([5, big[0]!.toHex()]);
  });

  // Regression (issue 12): commitments reach the package unvalidated; a signer's refusal of an
  // invalid point must still convict the issuer, not the signer that refused.
  it('an invalid pooled commitment convicts its issuer once a signer refuses it; the refusing signer is not blamed', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    for (const h of d.registry.handles) d.pool.refill(h);
    await new Promise((r) => setTimeout(r, 20));
    d.signers[2]!.behaviour = 'bad-point';
    d.pool.flush(d.registry.handles[2]!);
    d.pool.refill(d.registry.handles[2]!);
    await new Promise((r) => setTimeout(r, 20));
    d.registry.handles[1]!.healthy = false; // ranked last: the first quorum is {1, 3}
    const r = await signOk(d);
    expect(r.participants).toEqual([1, 2]);
    expect(r.culprits).toEqual([3]);
    expect(d.registry.handles[2]!.breaker.state).toBe('open');
    expect(d.pool.size(d.registry.handles[2]!)).toBe(0);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-3', rpc: 'round1', outcome: 'SIGNER_INVALID_RESPONSE' })).toBe(1);
    // Signer 1 refused the package, as it had to: counted, but neither named nor held against it.
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round2', outcome: 'INVALID_POINT' })).toBe(1);
    expect(d.registry.handles[0]!.breaker.state).toBe('closed');
  });

  it('a signer claiming an invalid point in a valid package is convicted itself, and signing goes on without it', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 5 });
    d.signers[0]!.behaviour = 'cry-wolf';
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const r = await signOk(d);
    expect(r.culprits).toEqual([1]);
    expect(r.participants).toEqual([2, 3]);
    expect(d.registry.handles[0]!.breaker.state).toBe('open');
    expect(d.registry.handles[1]!.breaker.state).toBe('closed');
  });
});

describe('Orchestrator.signBatch', () => {
  const messages = (n: number, prefix = 'mint') => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${prefix}: ${i} tokens`));
  const batch = (d: FakeDeployment, ms: Uint8Array[]) => d.orchestrator.signBatch(ms.map((m) => ({ message: m, log: silentLog })));

  it('signs every message with one quorum and one round 2 per signer for the whole batch', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    const ms = messages(10);
    const out = await batch(d, ms);
    const participants = new Set<string>();
    out.forEach((o, i) => {
      expect(o).not.toBeInstanceOf(Error);
      const r = o as Exclude<typeof o, Error>;
      expect(ed25519Verifies(d.pkp.verifyingKeyBytes, ms[i]!, r.signature)).toBe(true);
      participants.add(JSON.stringify(r.participants));
    });
    expect(participants.size).toBe(1);
    const used = d.signers.filter((s) => s.batches.length > 0);
    expect(used).toHaveLength(2);
    for (const s of used) expect(s.batches).toEqual([10]);
  });

  it('a signer down is replaced while commitments are gathered; every message is still signed', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'down';
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const out = await batch(d, messages(5));
    for (const o of out) expect(o).not.toBeInstanceOf(Error);
    for (const o of out) expect((o as { participants: number[] }).participants).toEqual([2, 3]);
  });

  it('a message the signers refuse fails alone (POLICY_REFUSED); the others are signed', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) s.refuseIf = (m) => new TextDecoder().decode(m).startsWith('bad');
    const ms = [...messages(2), ...messages(1, 'bad'), ...messages(2)];
    const out = await batch(d, ms);
    expect(out.map((o) => (o instanceof ApiError ? o.code : 'ok'))).toEqual(['ok', 'ok', 'POLICY_REFUSED', 'ok', 'ok']);
    for (const h of d.registry.handles) expect(h.breaker.state).toBe('closed');
  });

  it('a cheating signer is named in the messages it touched, and every message is signed by the others', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[1]!.behaviour = 'corrupt';
    d.registry.handles[2]!.healthy = false; // the first quorum is {1, 2}
    const ms = messages(4);
    const out = await batch(d, ms);
    out.forEach((o, i) => {
      expect(o).not.toBeInstanceOf(Error);
      const r = o as Exclude<typeof o, Error>;
      expect(r.culprits).toEqual([2]);
      expect(r.participants).toEqual([1, 3]);
      expect(ed25519Verifies(d.pkp.verifyingKeyBytes, ms[i]!, r.signature)).toBe(true);
    });
    expect(d.registry.handles[1]!.breaker.state).toBe('open');
  });

  it('a refresh this coordinator has not seen: each signer is read once for the whole batch, and every message is signed', async () => {
    const d = await fakeDeployment(2, 3);
    await versioned(d);
    refreshKey(d, { on: [0, 1], version: 2 });
    d.registry.handles[2]!.healthy = false; // ranked last: the joint quorum is {1, 2}
    const infos = d.signers.map((s) => s.calls.info);
    const ms = messages(5);
    const out = await batch(d, ms);
    out.forEach((o, i) => {
      expect(o).not.toBeInstanceOf(Error);
      const r = o as Exclude<typeof o, Error>;
      expect(r.participants).toEqual([1, 2]);
      expect(ed25519Verifies(d.pkp.verifyingKeyBytes, ms[i]!, r.signature)).toBe(true);
    });
    expect(d.signers.map((s, i) => s.calls.info - infos[i]!)).toEqual([1, 1, 1]);
  });

  it('fewer than t signers: every message fails with QUORUM_UNAVAILABLE', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers.slice(1)) s.behaviour = 'down';
    const out = await batch(d, messages(3));
    expect(out.map((o) => (o as ApiError).code)).toEqual(['QUORUM_UNAVAILABLE', 'QUORUM_UNAVAILABLE', 'QUORUM_UNAVAILABLE']);
  });
});
