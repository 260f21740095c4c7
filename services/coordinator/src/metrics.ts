/**
 * Coordinator metrics (Prometheus naming). Labels carry signer ids, outcome codes and key ids (at
 * most {@link MAX_KEY_LABELS} distinct ones, the rest counted as `other`), and small fixed sets
 * (RPC names, channel connection outcomes).
 * @module
 */
import type { ChannelConnectOutcome, ChannelState, SignerClientHooks } from '@hoarfrost/rpc';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Distinct key ids that label metrics; keys past these are counted under `other`. */
export const MAX_KEY_LABELS = 32;

/**
 * `isReady` and `keysByState` are read at every scrape: the ready and keys gauges are derived, never
 * set.
 */
export function createCoordinatorMetrics(isReady: () => boolean, keysByState: () => Record<string, number> = () => ({})) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const keyLabels = new Set<string>();
  return {
    registry,
    /**
     * The `key_id` label of a key: its id while fewer than MAX_KEY_LABELS have been used, else `other`;
     * `none` when the request named no known key.
     */
    keyLabel(keyId: string | undefined): string {
      if (keyId === undefined) return 'none';
      if (keyLabels.has(keyId)) return keyId;
      if (keyLabels.size >= MAX_KEY_LABELS) return 'other';
      keyLabels.add(keyId);
      return keyId;
    },
    signs: new Counter({
      name: 'frost_coordinator_signs_total',
      help: 'Signing requests (/sign, /v1/jws, and each item of /v1/sign/batch) by key and outcome (ok or error code)',
      labelNames: ['outcome', 'key_id'],
      registers: [registry],
    }),
    signDuration: new Histogram({
      name: 'frost_coordinator_sign_duration_seconds',
      help: 'Time to answer /sign, by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'frost_coordinator_batch_duration_seconds',
      help: 'Time to answer POST /v1/sign/batch (its items count in frost_coordinator_signs_total)',
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batchItems: new Histogram({
      name: 'frost_coordinator_batch_items',
      help: 'Messages per POST /v1/sign/batch',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    failures: new Counter({ name: 'frost_coordinator_sign_failures_total', help: 'Failed /sign requests by reason', labelNames: ['reason'], registers: [registry] }),
    signerRequests: new Counter({ name: 'frost_coordinator_signer_requests_total', help: 'RPCs to signers by signer, rpc and outcome', labelNames: ['signer', 'rpc', 'outcome'], registers: [registry] }),
    signerLatency: new Histogram({
      name: 'frost_coordinator_signer_request_duration_seconds',
      help: 'RPC latency to each signer',
      labelNames: ['signer', 'rpc'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    breakerState: new Gauge({ name: 'frost_coordinator_signer_breaker_state', help: 'Circuit breaker per signer: 0 closed, 1 half-open, 2 open', labelNames: ['signer'], registers: [registry] }),
    signerHealthy: new Gauge({ name: 'frost_coordinator_signer_healthy', help: '1 when the last health check of the signer passed', labelNames: ['signer'], registers: [registry] }),
    signerChannelState: new Gauge({
      name: 'frost_coordinator_signer_channel_state',
      help: 'Channel to each signer: 0 no connection, 1 connecting, 2 open, 3 no channel (the signer offers none, or the transport is http1): RPCs go over HTTP/1.1 unless the transport is channel only',
      labelNames: ['signer'],
      registers: [registry],
    }),
    channelConnects: new Counter({
      name: 'frost_coordinator_signer_channel_connects_total',
      help: 'Channel connections to each signer by outcome: opened (dialled or dialled in), failed (a dial), unsupported (a dial found no channel), lost (an open connection ended)',
      labelNames: ['signer', 'outcome'],
      registers: [registry],
    }),
    coalescedRequests: new Histogram({
      name: 'frost_coordinator_coalesced_requests',
      help: 'Calls carried by each round-1 or round-2 RPC to a signer (1: nothing coalesced; more under load)',
      labelNames: ['signer', 'rpc'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    culprits: new Counter({ name: 'frost_coordinator_culprits_total', help: 'Signers convicted of sending invalid values (a signature share, a commitment, or a false claim of an invalid point), once per signing request or batch item', labelNames: ['signer'], registers: [registry] }),
    retries: new Counter({ name: 'frost_coordinator_quorum_retries_total', help: 'Signing attempts repeated with another quorum', registers: [registry] }),
    inFlight: new Gauge({ name: 'frost_coordinator_in_flight', help: '/sign requests being processed', registers: [registry] }),
    keys: new Gauge({
      name: 'frost_coordinator_keys',
      help: 'Keys known from the signers, by state (pending, active, retired); refused keys are not counted',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        for (const [state, n] of Object.entries(keysByState())) this.set({ state }, n);
      },
    }),
    keygenRuns: new Counter({
      name: 'frost_coordinator_keygen_runs_total',
      help: 'Key generations and refreshes relayed, by kind and outcome (ok, or the stable failure code)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    keygenCulprits: new Counter({
      name: 'frost_coordinator_keygen_culprits_total',
      help: 'Signers named at fault by a failed key generation or refresh',
      labelNames: ['signer'],
      registers: [registry],
    }),
    keyConflicts: new Counter({
      name: 'frost_coordinator_key_conflicts_total',
      help: 'Keys refused because the signers holding them reported different public key packages (each new conflict once; the log names the key and signers)',
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'frost_coordinator_ready',
      help: '1 when the group key is loaded and at least t signers are healthy',
      registers: [registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    }),
  };
}

export type CoordinatorMetrics = ReturnType<typeof createCoordinatorMetrics>;

/** The hooks of a signer client that feed the channel and coalescing metrics. */
export type SignerClientMetricHooks = Required<SignerClientHooks>;

/** Every outcome of `frost_coordinator_signer_channel_connects_total` (each signer's series start at 0). */
export const CHANNEL_CONNECT_OUTCOMES: readonly ChannelConnectOutcome[] = ['opened', 'failed', 'unsupported', 'lost'];

/**
 * `frost_coordinator_signer_channel_state` of each channel state; 3 also stands for a client with no
 * channel at all (HTTP/1.1 only).
 */
export const CHANNEL_STATE_VALUE: Readonly<Record<ChannelState, number>> = { idle: 0, closed: 0, connecting: 1, open: 2, unsupported: 3 };

/**
 * The hooks to give the client of signer `signer`: they keep its channel state gauge, connection
 * counter and coalescing histogram. `channel`: the client has a channel (false with the HTTP/1.1-only
 * transport, whose state reads 3 throughout).
 */
export function signerClientMetricHooks(
  metrics: Pick<CoordinatorMetrics, 'signerChannelState' | 'channelConnects' | 'coalescedRequests'>,
  signer: string,
  channel: boolean,
): SignerClientMetricHooks {
  metrics.signerChannelState.set({ signer }, channel ? CHANNEL_STATE_VALUE.idle : CHANNEL_STATE_VALUE.unsupported);
  if (channel) for (const outcome of CHANNEL_CONNECT_OUTCOMES) metrics.channelConnects.inc({ signer, outcome }, 0);
  return {
    onChannelState: (state) => metrics.signerChannelState.set({ signer }, CHANNEL_STATE_VALUE[state]),
    onChannelConnect: (outcome) => metrics.channelConnects.inc({ signer, outcome }),
    onRpcSent: (rpc, calls) => metrics.coalescedRequests.observe({ signer, rpc }, calls),
  };
}
