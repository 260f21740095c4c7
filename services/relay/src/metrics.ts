/**
 * Relay metrics (Prometheus). Labels carry endpoints, outcomes, delivery channels and refusal codes
 * only: never keys, session ids, tokens or message contents. The session and queue gauges come from the
 * store at scrape time; with the Redis store they describe the whole relay (every replica reports the
 * same figures: aggregate them with max, not sum).
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { STATUS } from './errors.js';
import type { StoreStats } from './store.js';

/** How a message left its queue. */
export const DELIVERY_CHANNELS = ['poll', 'long_poll', 'push'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

export function createRelayMetrics(stats: () => Promise<StoreStats>, isReady: () => boolean) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One store read per scrape serves the three gauges.
  let pending: Promise<StoreStats> | undefined;
  const read = () => {
    pending ??= stats().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const storeGauge = (name: string, help: string, pick: (s: StoreStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(pick(await read()));
        } catch {
          // The store is unreachable: readiness says so; the gauge keeps its last value.
        }
      },
    });
  const metrics = {
    registry,
    sessions: storeGauge('frost_relay_sessions', 'Open sessions', (s) => s.sessions),
    queuedMessages: storeGauge('frost_relay_queued_messages', 'Messages waiting in queues of open sessions', (s) => s.queuedMessages),
    queuedBytes: storeGauge('frost_relay_queued_bytes', 'Bytes waiting in queues of open sessions', (s) => s.queuedBytes),
    logins: new Counter({ name: 'frost_relay_logins_total', help: '/login attempts by outcome (ok or refusal code)', labelNames: ['outcome'], registers: [registry] }),
    sessionsCreated: new Counter({ name: 'frost_relay_sessions_created_total', help: 'Sessions created', registers: [registry] }),
    messagesSent: new Counter({ name: 'frost_relay_messages_sent_total', help: 'Messages queued by /send, one per recipient queue', registers: [registry] }),
    deliveries: new Counter({ name: 'frost_relay_deliveries_total', help: 'Messages delivered, by channel: poll (/receive), long_poll (/receive with wait_ms), push (WebSocket)', labelNames: ['channel'], registers: [registry] }),
    refusals: new Counter({ name: 'frost_relay_refusals_total', help: 'Requests and push connections refused, by code', labelNames: ['code'], registers: [registry] }),
    requestDuration: new Histogram({
      name: 'frost_relay_request_duration_seconds',
      help: 'Time to answer an API request (long polls included), by endpoint and HTTP status',
      labelNames: ['endpoint', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    pushConnections: new Gauge({ name: 'frost_relay_push_connections', help: 'Open WebSocket push connections on this replica', registers: [registry] }),
    longPolls: new Gauge({ name: 'frost_relay_long_polls', help: '/receive requests waiting for a message on this replica', registers: [registry] }),
    ready: new Gauge({
      name: 'frost_relay_ready',
      help: '1 when the relay serves (store reachable, not shutting down)',
      registers: [registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    }),
  };
  // Every series an alert may watch exists from the start at 0.
  for (const code of Object.keys(STATUS)) metrics.refusals.inc({ code }, 0);
  for (const channel of DELIVERY_CHANNELS) metrics.deliveries.inc({ channel }, 0);
  for (const outcome of ['ok', 'UNAUTHORIZED', 'INVALID_ARGUMENT']) metrics.logins.inc({ outcome }, 0);
  return metrics;
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
