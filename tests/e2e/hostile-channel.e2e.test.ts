// A hostile signer on the fast paths: the persistent channel, coalesced round 2 and POST /v1/sign/batch.
// A real 2-of-3 deployment (real processes, real mutual TLS) with signer 1 behind a man-in-the-middle
// that rewrites its channel frames (channel-proxy.ts). Whatever it does, the coordinator returns only
// verified signatures, names the signer when it proved invalid values, excludes it, signs with the
// others when they make a quorum, and answers within its deadline with a stable code.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCbor, encodeAnswerFrame, encodeCbor, RPC_PATHS, type AnswerFrame } from '@hoarfrost/rpc';
import { createDevEnvironment, startCluster, type Cluster } from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies, metricValue, type ApiResponse } from '@hoarfrost/testkit/support';
import { startChannelProxy, type ChannelProxy, type Tamper } from './channel-proxy.js';

// The signer timeout is what a malformed answer must NOT wait for (it fails at once): long enough that a
// busy machine's ordinary round trip stays well under it.
const SIGN_DEADLINE_MS = 5000;
const SIGNER_TIMEOUT_MS = 2000;
const MAX_BATCH_ITEMS = 8;
const BREAKER_COOLDOWN_MS = 300;

let cluster: Cluster;
let client: MintClient;
let proxy: ChannelProxy;

beforeAll(async () => {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-e2e-hostile-channel-')), { threshold: 2, signers: 3 });
  cluster = await startCluster(env, {
    coordinatorSignerUrls: async (urls) => {
      proxy = await startChannelProxy(env, env.signers[0]!, urls['signer-1']!);
      return { ...urls, 'signer-1': proxy.url };
    },
    coordinatorExtraEnv: {
      COORDINATOR_SIGN_DEADLINE_MS: String(SIGN_DEADLINE_MS),
      COORDINATOR_SIGNER_TIMEOUT_MS: String(SIGNER_TIMEOUT_MS),
      COORDINATOR_MAX_BATCH_ITEMS: String(MAX_BATCH_ITEMS),
      // A convicted signer stays out until its breaker's cooldown and a trial: short, so that the next case has it back.
      COORDINATOR_BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
    },
  });
  client = new MintClient(env, cluster.url);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await cluster?.stop();
  await proxy?.close();
});

/** Signer 1 honest again and usable: a pinned signing through it succeeds (closing its breaker), and a health check passes. */
async function restore(): Promise<void> {
  proxy.tamper = undefined;
  proxy.onRequest = undefined;
  for (let i = 0; ; i++) {
    const r = await client.sign(randomBytes(8), { participants: [1, 2] });
    if (r.status === 200) break;
    if (i === 20) throw new Error(`signer 1 does not sign again: ${JSON.stringify(r.json)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  await new Promise((res) => setTimeout(res, 1200));
}

beforeEach(restore, 30_000);

const metrics = async () => (await fetch(`${cluster.opsUrl}/metrics`)).text();
const culpritsOf1 = async () => metricValue(await metrics(), 'frost_coordinator_culprits_total', { signer: 'signer-1' });

interface AuditRecord {
  requestId: string;
  batchIndex?: number;
  outcome: string;
  culprits: (number | string)[];
  participants: number[];
}

/** The audit records of request `requestId`, once written (they are logged after the answer). */
async function auditOf(requestId: string, count: number): Promise<AuditRecord[]> {
  for (let i = 0; i < 40; i++) {
    const records = cluster.coordinator.logs
      .map((l) => (JSON.parse(l) as { audit?: AuditRecord }).audit)
      .filter((a): a is AuditRecord => a !== undefined && a.requestId === requestId);
    if (records.length >= count) return records.sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit records for ${requestId}`);
}

let requests = 0;

/** POST /v1/sign/batch of `messages`; every item must come back signed, its signature verified by node:crypto. */
async function batchSigned(messages: Uint8Array[]): Promise<{ requestId: string; results: { participants: number[] }[] }> {
  const requestId = `hostile-${++requests}`;
  const r = await client.post('/v1/sign/batch', { items: messages.map((m) => ({ msg_b64: Buffer.from(m).toString('base64') })) }, { 'x-request-id': requestId });
  expect(r.status).toBe(200);
  const results = r.json.results as { signature_b64?: string; participants: number[]; error?: unknown }[];
  expect(results).toHaveLength(messages.length);
  results.forEach((x, i) => {
    expect(x.error).toBeUndefined();
    expect(ed25519Verifies(r.json.group_public_b64 as string, messages[i]!, x.signature_b64!)).toBe(true);
  });
  return { requestId, results };
}

/**
 * Batches of `n` messages until one's joint quorum included signer 1 (the quorum is chosen at random)
 * and `tamper` rewrote its round-2 batch answer; every batch must be wholly signed.
 */
async function batchThroughTamper(n: number, rewrite: (results: unknown[]) => unknown[]): Promise<{ requestId: string; messages: Uint8Array[]; results: { participants: number[] }[] }> {
  let tampered = 0;
  proxy.tamper = (answer, request, raw) => {
    if (request?.path !== RPC_PATHS.round2Batch || answer.status !== 200) return [raw];
    tampered++;
    const body = decodeCbor(answer.body) as { results: unknown[] };
    return [Buffer.from(encodeAnswerFrame(answer.id, 200, encodeCbor({ results: rewrite(body.results) })))];
  };
  for (let attempt = 0; attempt < 12; attempt++) {
    const messages = Array.from({ length: n }, () => randomBytes(24));
    const out = await batchSigned(messages);
    if (tampered > 0) return { ...out, messages };
    await new Promise((r) => setTimeout(r, BREAKER_COOLDOWN_MS)); // signer 1 may still be out after an earlier case
  }
  throw new Error('signer 1 was never in a joint quorum');
}

/** A share that is no canonical scalar (every byte 0xff: far above the group order). */
const NON_CANONICAL = new Uint8Array(32).fill(0xff);
const withShare = (r: unknown, share: Uint8Array) => ({ ...(r as Record<string, unknown>), share });
const flipped = (r: unknown) => {
  const share = Uint8Array.from((r as { share: Uint8Array }).share);
  share[0]! ^= 1;
  return withShare(r, share);
};

describe('a coalesced round-2 answer that lies', () => {
  it('one invalid share among valid ones: that message is signed by another quorum and names signer 1; the others are signed with it', async () => {
    const before = await culpritsOf1();
    const { requestId, results } = await batchThroughTamper(4, (rs) => rs.map((r, i) => (i === 2 ? flipped(r) : r)));
    const audit = await auditOf(requestId, 4);
    expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(audit.map((a) => a.culprits)).toEqual([[], [], [1], []]);
    expect(results[2]!.participants).toEqual([2, 3]);
    for (const i of [0, 1, 3]) expect(results[i]!.participants).toContain(1);
    expect(await culpritsOf1()).toBe(before + 1);
  }, 60_000);

  it('items reordered (each share answers another message): every message is signed without signer 1, which is named in each', async () => {
    const before = await culpritsOf1();
    const { requestId, results } = await batchThroughTamper(4, (rs) => [...rs].reverse());
    const audit = await auditOf(requestId, 4);
    expect(audit.map((a) => a.culprits)).toEqual([[1], [1], [1], [1]]);
    for (const r of results) expect(r.participants).toEqual([2, 3]);
    expect(await culpritsOf1()).toBe(before + 4);
  }, 60_000);

  it("an item answering another item's message: only that message is re-signed without signer 1", async () => {
    const { requestId, results } = await batchThroughTamper(3, (rs) => [rs[0], rs[0], rs[2]]);
    const audit = await auditOf(requestId, 3);
    expect(audit.map((a) => a.culprits)).toEqual([[], [1], []]);
    expect(results[1]!.participants).toEqual([2, 3]);
  }, 60_000);

  it('a share that is not a canonical scalar: the message is signed by the others, and signer 1 is named and counted', async () => {
    const before = await culpritsOf1();
    const { requestId, results } = await batchThroughTamper(3, (rs) => rs.map((r, i) => (i === 0 ? withShare(r, NON_CANONICAL) : r)));
    const audit = await auditOf(requestId, 3);
    expect(audit[0]!.culprits).toEqual([1]);
    expect(results[0]!.participants).toEqual([2, 3]);
    const after = await metrics();
    expect(metricValue(after, 'frost_coordinator_culprits_total', { signer: 'signer-1' })).toBe(before + 1);
    // Open (2): the valid shares of its other items do not close what its proven cheat opened.
    expect(metricValue(after, 'frost_coordinator_signer_breaker_state', { signer: 'signer-1' })).toBe(2);
  }, 60_000);

  it('the wrong number of items: the whole answer is refused as malformed, and every message is signed by the others', async () => {
    const m = await metrics();
    const bad = metricValue(m, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round2', outcome: 'SIGNER_BAD_RESPONSE' });
    const before = metricValue(m, 'frost_coordinator_culprits_total', { signer: 'signer-1' });
    const { requestId, results } = await batchThroughTamper(4, (rs) => rs.slice(0, -1));
    for (const r of results) expect(r.participants).toEqual([2, 3]);
    const audit = await auditOf(requestId, 4);
    expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const after = await metrics();
    expect(metricValue(after, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round2', outcome: 'SIGNER_BAD_RESPONSE' })).toBe(bad + 4);
    // Malformed, not proven invalid: excluded, not named.
    expect(metricValue(after, 'frost_coordinator_culprits_total', { signer: 'signer-1' })).toBe(before);
  }, 60_000);

  it('a channel that stalls mid-batch: every message is signed by the others within the deadline', async () => {
    let withheld = 0;
    proxy.tamper = (answer, request, raw) => {
      if (request?.path !== RPC_PATHS.round2Batch) return [raw];
      withheld++;
      return [];
    };
    for (let attempt = 0; attempt < 12 && withheld === 0; attempt++) {
      const started = Date.now();
      const out = await batchSigned(Array.from({ length: 4 }, () => randomBytes(16)));
      expect(Date.now() - started).toBeLessThan(SIGN_DEADLINE_MS + 500);
      if (withheld > 0) for (const r of out.results) expect(r.participants).toEqual([2, 3]);
    }
    expect(withheld).toBeGreaterThan(0);
  }, 60_000);
});

/** POST /sign pinned to participants 1 and 2 (signer 1 must take part). */
const pinned = (message: Uint8Array = randomBytes(16)) => client.sign(message, { participants: [1, 2] });

function expectSigned(r: ApiResponse, message: Uint8Array): void {
  expect(r.status).toBe(200);
  expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
}

describe('answer frames with the wrong ids', () => {
  it('cross-talk (each answer carries the id of the other request in flight): nothing is returned unverified, and signer 1 is named', async () => {
    const held: { answer: AnswerFrame; raw: Buffer; release: (f: Buffer[]) => void }[] = [];
    proxy.tamper = (answer, request, raw) => {
      if (request?.path !== RPC_PATHS.round2) return [raw];
      return new Promise<Buffer[]>((release) => {
        held.push({ answer, raw, release });
        if (held.length === 2) {
          const [a, b] = held;
          a!.release([Buffer.from(encodeAnswerFrame(b!.answer.id, a!.answer.status, a!.answer.body))]);
          b!.release([Buffer.from(encodeAnswerFrame(a!.answer.id, b!.answer.status, b!.answer.body))]);
        }
      });
    };
    const [r1, r2] = await Promise.all([pinned(), pinned()]);
    expect(held).toHaveLength(2);
    for (const r of [r1, r2]) {
      expect(r.status).toBe(503);
      expect(r.json.error!.code).toBe('QUORUM_UNAVAILABLE');
      expect(r.json.error!.culprits).toEqual([1]);
      expect(r.json.signature_b64).toBeUndefined();
    }
    // Unpinned, the others sign.
    const message = randomBytes(16);
    const free = await client.sign(message);
    expectSigned(free, message);
    expect(free.json.participants).toEqual([2, 3]);
  }, 60_000);

  it('an answer for an id not issued yet, one for an id never used, and a duplicated answer are dropped: signing goes on', async () => {
    const share = (id: number) => Buffer.from(encodeAnswerFrame(id, 200, encodeCbor({ identifier: new Uint8Array(32), share: NON_CANONICAL })));
    proxy.onRequest = (request, link) => {
      // An answer for an id the channel will only issue much later (the next one may already be in
      // flight: a pool refill), and one for an id never used.
      link.toCoordinator(share(request.id + 64));
      link.toCoordinator(share(0xfffffff0));
    };
    proxy.tamper = (_answer, request, raw) => (request?.path === RPC_PATHS.round2 ? [raw, raw] : [raw]);
    for (let i = 0; i < 3; i++) {
      const message = randomBytes(16);
      const r = await pinned(message);
      expectSigned(r, message);
      expect(r.json.participants).toEqual([1, 2]);
    }
  }, 60_000);
});

describe('malformed and oversize frames', () => {
  const cases: [string, (answer: AnswerFrame) => Buffer][] = [
    ['garbage bytes', () => Buffer.concat([Buffer.of(0x7f), randomBytes(63)])],
    ['a truncated envelope', (a) => Buffer.from(encodeAnswerFrame(a.id, 200, new Uint8Array(0))).subarray(0, 4)],
    ['a request frame', () => Buffer.from([0x01, 0, 0, 0, 1, 1, 0x2f, 0, 0])],
    ['garbage CBOR in a 200 answer', (a) => Buffer.from(encodeAnswerFrame(a.id, 200, Uint8Array.of(0xff, 0x1f, 0xbf, 0x00)))],
    ['an answer over the size limit', (a) => Buffer.from(encodeAnswerFrame(a.id, 200, new Uint8Array(512 * 1024)))],
  ];
  it.each(cases)('%s: the call fails as SIGNER_BAD_RESPONSE at once; a pinned request gets 503 without a culprit, a free one is signed by the others', async (_name, frame) => {
    const bad = async () => metricValue(await metrics(), 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round2', outcome: 'SIGNER_BAD_RESPONSE' });
    const before = await bad();
    proxy.tamper = (answer, request, raw) => (request?.path === RPC_PATHS.round2 ? [frame(answer)] : [raw]);
    const started = Date.now();
    const r = await pinned();
    expect(Date.now() - started).toBeLessThan(SIGNER_TIMEOUT_MS);
    expect(r.status).toBe(503);
    expect(r.json.error!.code).toBe('QUORUM_UNAVAILABLE');
    expect(r.json.error!.culprits).toBeUndefined();
    expect(await bad()).toBe(before + 1);
    const message = randomBytes(16);
    const free = await client.sign(message);
    expectSigned(free, message);
  }, 60_000);

  it('a stalled channel: a pinned request ends within its deadline with 503', async () => {
    proxy.tamper = (_answer, request, raw) => (request?.path === RPC_PATHS.round2 ? [] : [raw]);
    const started = Date.now();
    const r = await pinned();
    expect(Date.now() - started).toBeLessThan(SIGN_DEADLINE_MS + 500);
    expect(r.status).toBe(503);
    expect(['QUORUM_UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain(r.json.error!.code);
  }, 60_000);
});

describe('POST /v1/sign/batch: hostile caller input', () => {
  const item = (m: Uint8Array, extra: object = {}) => ({ msg_b64: Buffer.from(m).toString('base64'), ...extra });

  it('items not an array, no items, an unknown field: 400 with a stable code', async () => {
    for (const [body, code] of [
      [{ items: 'abc' }, 'INVALID_REQUEST'],
      [{ items: { 0: item(randomBytes(4)) } }, 'INVALID_REQUEST'],
      [{ items: [] }, 'INVALID_REQUEST'],
      [{}, 'INVALID_REQUEST'],
      [[item(randomBytes(4))], 'INVALID_REQUEST'],
      [{ items: [item(randomBytes(4))], extra: 1 }, 'UNKNOWN_FIELD'],
    ] as const) {
      const r = await client.post('/v1/sign/batch', body);
      expect(r.status).toBe(400);
      expect(r.json.error!.code).toBe(code);
    }
    const r = await client.post('/v1/sign/batch', '{"items": [');
    expect(r.status).toBe(400);
    expect(r.json.error!.code).toBe('INVALID_JSON');
  });

  it('more items than allowed: 413 BATCH_TOO_LARGE, nothing signed', async () => {
    const round2 = async () => metricValue(await metrics(), 'frost_coordinator_signer_requests_total', { signer: 'signer-2', rpc: 'round2', outcome: 'ok' });
    const before = await round2();
    const r = await client.post('/v1/sign/batch', { items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => item(randomBytes(4))) });
    expect(r.status).toBe(413);
    expect(r.json.error!.code).toBe('BATCH_TOO_LARGE');
    expect(await round2()).toBe(before);
  });

  it('bad items fail alone with their own codes, nothing signed for them; the good items (duplicates included) are signed', async () => {
    const good = randomBytes(20);
    const items = [item(good), { msg_b64: 'not base64!' }, item(randomBytes(4), { key_id: 'no-such-key' }), item(good), 7, item(randomBytes(4), { key_id: '../etc' }), item(randomBytes(4), { participants: [1, 2] })];
    const r = await client.post('/v1/sign/batch', { items });
    expect(r.status).toBe(200);
    const results = r.json.results as { signature_b64?: string; error?: { code: string } }[];
    expect(results.map((x) => x.error?.code ?? 'ok')).toEqual(['ok', 'INVALID_BASE64', 'UNKNOWN_KEY', 'ok', 'INVALID_REQUEST', 'INVALID_REQUEST', 'UNKNOWN_FIELD']);
    for (const i of [1, 2, 4, 5, 6]) expect(results[i]!.signature_b64).toBeUndefined();
    for (const i of [0, 3]) expect(ed25519Verifies(r.json.group_public_b64 as string, good, results[i]!.signature_b64!)).toBe(true);
  });

  it('every item bad: 200 with an error per item, and no round 2 anywhere', async () => {
    const round2 = async () => {
      const m = await metrics();
      return ['signer-1', 'signer-2', 'signer-3'].reduce((n, signer) => n + metricValue(m, 'frost_coordinator_signer_requests_total', { signer, rpc: 'round2', outcome: 'ok' }), 0);
    };
    const before = await round2();
    const r = await client.post('/v1/sign/batch', { items: [{ msg_b64: '%%%' }, { key_id: 'default' }, null] });
    expect(r.status).toBe(200);
    expect((r.json.results as { error: { code: string } }[]).map((x) => x.error.code)).toEqual(['INVALID_BASE64', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(await round2()).toBe(before);
  });
});
