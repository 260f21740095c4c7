// The signer's Prometheus metrics: gauges read at scrape time, and labels that can never carry a
// secret, a message or a commitment.
import { describe, expect, it } from '@jest/globals';
import { SigningPackage, serializeScalar, toHex, trustedDealerKeygen } from '@hoarfrost/frost';
import { SIGNER_ERROR_CODES, encodeRound2Request } from '@hoarfrost/rpc';
import { metricValue } from '@hoarfrost/testkit/support';
import { createSignerMetrics, type SignerMetrics } from '../src/metrics.js';
import { createPolicy } from '../src/policy.js';
import { KEY_LOAD_REASONS } from '../src/sealed-store.js';
import { KEY_ID, commitOnce, expectSignerError, sampleValue, samplesOf, shareOf, signWith, testSigner } from './helpers.js';

/** Label names each signer metric may have: a fixed vocabulary of outcomes, reasons, codes and rpc names. */
const LABELS: Record<Exclude<keyof SignerMetrics, 'registry'>, string[]> = {
  round1: ['outcome'],
  commitmentsIssued: [],
  round2: ['outcome'],
  outstandingNonces: [],
  noncesDropped: ['reason'],
  policyRefusals: ['reason'],
  authFailures: ['code'],
  rpcDuration: ['rpc', 'status'],
  ready: [],
  keysLoaded: [],
  keyLoadFailed: ['reason'],
};

describe('createSignerMetrics', () => {
  it('reads outstanding nonces and readiness when scraped, not when built', async () => {
    let outstanding = 0;
    let ready = false;
    const m = createSignerMetrics(() => outstanding, () => ready);
    expect(await sampleValue(m.registry, 'frost_signer_outstanding_nonces')).toBe(0);
    expect(await sampleValue(m.registry, 'frost_signer_ready')).toBe(0);
    outstanding = 17;
    ready = true;
    // Nothing was set in between: only the scrape-time collect() can see the change.
    expect(await sampleValue(m.registry, 'frost_signer_outstanding_nonces')).toBe(17);
    expect(await sampleValue(m.registry, 'frost_signer_ready')).toBe(1);
    const text = await m.registry.metrics();
    expect(metricValue(text, 'frost_signer_outstanding_nonces')).toBe(17);
    expect(metricValue(text, 'frost_signer_ready')).toBe(1);
    ready = false;
    expect(metricValue(await m.registry.metrics(), 'frost_signer_ready')).toBe(0);
  });

  it('follows a real nonce store through round 1 and round 2', async () => {
    const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 2 });
    const [s1, s2] = [testSigner(1, { [KEY_ID]: dealt }), testSigner(2, { [KEY_ID]: dealt })];
    const entries = [commitOnce(s1), commitOnce(s1), commitOnce(s2)];
    expect(await sampleValue(s1.metrics.registry, 'frost_signer_outstanding_nonces')).toBe(2);
    await shareOf(s1, encodeRound2Request(KEY_ID, new SigningPackage([entries[0]!, entries[2]!], new Uint8Array([1]))));
    expect(await sampleValue(s1.metrics.registry, 'frost_signer_outstanding_nonces')).toBe(1);
  });

  it('exposes every nonce-drop reason and policy refusal code at 0 from the start, so that the first one shows as an increase', async () => {
    const m = createSignerMetrics(() => 0, () => true);
    const series = async (name: string) => (await samplesOf(m.registry, name)).map((v) => [v.labels.reason, v.value]);
    expect(await series('frost_signer_nonces_dropped_total')).toEqual([['expired', 0], ['evicted', 0]]);
    const policyCodes = Object.entries(SIGNER_ERROR_CODES).filter(([, kind]) => kind === 'policy').map(([code]) => code);
    expect(policyCodes.length).toBeGreaterThan(0);
    expect(await series('frost_signer_policy_refusals_total')).toEqual(policyCodes.map((code) => [code, 0]));
    expect(await m.registry.metrics()).toContain('frost_signer_nonces_dropped_total{reason="evicted"} 0');
    m.noncesDropped.inc({ reason: 'evicted' });
    expect(await sampleValue(m.registry, 'frost_signer_nonces_dropped_total', { reason: 'evicted' })).toBe(1);
  });

  it('keeps every metric in its own registry (two signers in one process do not share counts)', async () => {
    const a = createSignerMetrics(() => 0, () => true);
    const b = createSignerMetrics(() => 0, () => true);
    a.round1.inc({ outcome: 'ok' });
    expect(await sampleValue(a.registry, 'frost_signer_round1_total', { outcome: 'ok' })).toBe(1);
    expect(await sampleValue(b.registry, 'frost_signer_round1_total')).toBe(0);
  });

  it('declares only the label names of a fixed, non-secret vocabulary', () => {
    const m = createSignerMetrics(() => 0, () => true);
    const { registry, ...metrics } = m;
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(LABELS).sort());
    for (const [key, metric] of Object.entries(metrics)) {
      // prom-client keeps the declared label names on the metric object.
      expect([...(metric as unknown as { labelNames: string[] }).labelNames].sort()).toEqual([...LABELS[key as keyof typeof LABELS]].sort());
      expect(registry.getSingleMetric((metric as unknown as { name: string }).name)).toBe(metric);
    }
  });

  it('after signings and refusals, no share, nonce commitment or message appears in the exposition', async () => {
    const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    const policy = createPolicy({ mode: 'jws', maxMessageBytes: 1024, jwsRequiredClaims: [] });
    const signers = [1, 2, 3].map((n) => testSigner(n, { [KEY_ID]: dealt }, { policy }));
    const s1 = signers[0]!;
    const s2 = signers[1]!;
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const message = new TextEncoder().encode(`${b64({ alg: 'EdDSA' })}.${b64({ sub: 'secret-recipient' })}`);
    const { pkg } = await signWith([s1, s2], message);
    const refused = new TextEncoder().encode('refused-message-text');
    const entries = [commitOnce(s1), commitOnce(s2)];
    await expectSignerError(shareOf(s1, encodeRound2Request(KEY_ID, new SigningPackage(entries, refused))), 'POLICY_NOT_JWS');

    const text = await s1.metrics.registry.metrics();
    const secrets = [
      ...signers.map((s) => toHex(serializeScalar(s.deps.keys.get(KEY_ID)!.keyPackage.signingShare))),
      ...[...pkg.signingCommitments.values(), ...entries].flatMap((e) => [toHex(e.commitments.hidingBytes), toHex(e.commitments.bindingBytes)]),
      Buffer.from(message).toString('utf8'),
      'refused-message-text',
    ];
    for (const s of secrets) expect(text).not.toContain(s);

    const allowed = new Set([...Object.keys(SIGNER_ERROR_CODES), ...KEY_LOAD_REASONS, 'ok', 'expired', 'evicted', 'round1', 'round2', 'info', 'unknown']);
    for (const metric of await s1.metrics.registry.getMetricsAsJSON()) {
      if (!metric.name.startsWith('frost_signer_')) continue;
      for (const { labels } of metric.values) {
        for (const [name, value] of Object.entries(labels)) {
          if (name === 'le' || name === 'status') expect(String(value)).toMatch(/^(\d+(\.\d+)?(e-?\d+)?|\+Inf)$/);
          else expect(allowed).toContain(String(value));
        }
      }
    }
    expect(await sampleValue(s1.metrics.registry, 'frost_signer_policy_refusals_total', { reason: 'POLICY_NOT_JWS' })).toBe(1);
  });
});
