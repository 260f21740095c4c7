/**
 * Coordinator metrics (Prometheus naming). Labels carry signer ids and outcome codes only.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `isReady` is read at every scrape: the ready gauge is derived, never set. */
export function createCoordinatorMetrics(isReady: () => boolean) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    signs: new Counter({ name: 'frost_coordinator_signs_total', help: 'Signing requests (/sign, and each item of /v1/sign/batch) by outcome (ok or error code)', labelNames: ['outcome'], registers: [registry] }),
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
    culprits: new Counter({ name: 'frost_coordinator_culprits_total', help: 'Invalid signature shares attributed to each signer', labelNames: ['signer'], registers: [registry] }),
    retries: new Counter({ name: 'frost_coordinator_quorum_retries_total', help: 'Signing attempts repeated with another quorum', registers: [registry] }),
    inFlight: new Gauge({ name: 'frost_coordinator_in_flight', help: '/sign requests being processed', registers: [registry] }),
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
