/**
 * Signer metrics (Prometheus). Labels never carry secrets, messages or commitments.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SIGNER_ERROR_CODES } from '@hoarfrost/rpc';
import { KEY_LOAD_REASONS } from './sealed-store.js';

/** Why a nonce left the store unused: its age (`expired`) or the store's bound (`evicted`). */
export const NONCE_DROP_REASONS = ['expired', 'evicted'] as const;

/** The policy's refusal codes: the values of frost_signer_policy_refusals_total's `reason`. */
const POLICY_CODES = Object.entries(SIGNER_ERROR_CODES)
  .filter(([, kind]) => kind === 'policy')
  .map(([code]) => code);

/** `keysHeld`, when given, is read at each scrape (the keys change as keys are made and retired). */
export function createSignerMetrics(outstandingNonces: () => number, isReady: () => boolean, keysHeld?: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    round1: new Counter({ name: 'frost_signer_round1_total', help: 'Round-1 (commitment) requests by outcome', labelNames: ['outcome'], registers: [registry] }),
    commitmentsIssued: new Counter({ name: 'frost_signer_commitments_issued_total', help: 'Nonce commitments handed out', registers: [registry] }),
    round2: new Counter({ name: 'frost_signer_round2_total', help: 'Round-2 (signature share) requests by outcome', labelNames: ['outcome'], registers: [registry] }),
    outstandingNonces: new Gauge({
      name: 'frost_signer_outstanding_nonces',
      help: 'Nonces held in memory awaiting round 2',
      registers: [registry],
      collect() {
        this.set(outstandingNonces());
      },
    }),
    noncesDropped: new Counter({
      name: 'frost_signer_nonces_dropped_total',
      help: 'Nonces dropped unused from the store, by reason: expired (past their ttl) or evicted (store full)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    policyRefusals: new Counter({ name: 'frost_signer_policy_refusals_total', help: 'Messages refused by the validation policy, by refusal code', labelNames: ['reason'], registers: [registry] }),
    authFailures: new Counter({ name: 'frost_signer_auth_failures_total', help: 'RPCs refused by mTLS or JWT checks, by code', labelNames: ['code'], registers: [registry] }),
    rpcDuration: new Histogram({
      name: 'frost_signer_rpc_duration_seconds',
      help: 'RPC handling time by rpc and HTTP status',
      labelNames: ['rpc', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'frost_signer_ready',
      help: '1 when keys are loaded and the RPC port serves',
      registers: [registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    }),
    keysLoaded: new Gauge({
      name: 'frost_signer_keys_loaded',
      help: 'Key packages held (any state)',
      registers: [registry],
      collect() {
        if (keysHeld) this.set(keysHeld());
      },
    }),
    keyLoadFailed: new Gauge({
      name: 'frost_signer_key_load_failed',
      help: '1 while the keys could not be loaded at start (the signer stays up, not ready), by reason: kek, wrong_kek, corrupted, mismatch, io, import_conflict, dealer_keys',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  // Every series an alert watches exists from the start at 0, so that its first increase is seen
  // (a series that appears at 1 has no increase to show).
  for (const reason of NONCE_DROP_REASONS) metrics.noncesDropped.inc({ reason }, 0);
  for (const reason of POLICY_CODES) metrics.policyRefusals.inc({ reason }, 0);
  for (const reason of KEY_LOAD_REASONS) metrics.keyLoadFailed.set({ reason }, 0);
  return metrics;
}

export type SignerMetrics = ReturnType<typeof createSignerMetrics>;
