/**
 * Signing load: `concurrency` callers in closed loops (each sends its next request when the previous
 * one is answered), optionally paced to a total rate, until a request count or a duration is
 * reached or the load is stopped. Every outcome is kept, with its start time on the
 * performance.now() clock the scenarios use for their events.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sign, type ParticipantId, type SignOutcome, type SignTarget } from './client.js';
import { pct, tally } from './stats.js';

export interface LoadOptions {
  concurrency: number;
  /** Total requests per second across the callers (default: as fast as answers come). */
  rate?: number;
  /** Stop after this many requests were sent. */
  requests?: number;
  /** Stop after this long. */
  durationMs?: number;
  /** Extra fields of request `i` (e.g. pinned participants). */
  extra?: (i: number) => object;
  /** Client-side bound on one request (default 30 s: the service's own deadline is what is measured). */
  timeoutMs?: number;
}

export interface SignRecord extends SignOutcome {
  i: number;
  /** Sent with `extra` fields (not a plain request). */
  pinned: boolean;
}

export interface Load {
  readonly records: SignRecord[];
  /** Requests answered or failed so far. */
  readonly completed: number;
  /** No new requests; resolves when those in flight are done. */
  stop(): Promise<SignRecord[]>;
  /** Resolves when the load ends by itself (count or duration) or is stopped. */
  readonly done: Promise<SignRecord[]>;
}

export function startLoad(target: SignTarget, options: LoadOptions): Load {
  const records: SignRecord[] = [];
  let sent = 0;
  let stopped = false;
  let next = performance.now();
  const interval = options.rate ? 1000 / options.rate : 0;
  const timer = options.durationMs ? setTimeout(() => (stopped = true), options.durationMs) : undefined;
  const more = () => !stopped && (options.requests === undefined || sent < options.requests);

  const worker = async () => {
    while (more()) {
      if (interval > 0) {
        const now = performance.now();
        const wait = next - now;
        next = Math.max(now, next) + interval;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!more()) break;
      }
      const i = sent++;
      const extra = options.extra?.(i);
      const message = randomBytes(24 + (i % 64));
      const r = await sign(target, message, extra ?? {}, options.timeoutMs);
      records.push({ ...r, i, pinned: extra !== undefined && Object.keys(extra).length > 0 });
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => {
    clearTimeout(timer);
    return records;
  });
  return {
    records,
    get completed() {
      return records.length;
    },
    stop() {
      stopped = true;
      return done;
    },
    done,
  };
}

export interface SignSummary {
  total: number;
  ok: number;
  /** 200s whose signature did not verify (target: 0 everywhere). */
  invalid: number;
  /** Outcome → count: `200`, `503 QUORUM_UNAVAILABLE`, `reset`, ... */
  outcomes: Record<string, number>;
  successRatio: number;
}

export const outcomeKey = (r: SignOutcome): string => (r.status !== undefined ? `${r.status}${r.code ? ` ${r.code}` : ''}` : (r.failure ?? 'other'));

export function summarize(records: readonly SignOutcome[]): SignSummary {
  const ok = records.filter((r) => r.status === 200 && r.valid === true).length;
  const invalid = records.filter((r) => r.status === 200 && r.valid !== true).length;
  return { total: records.length, ok, invalid, outcomes: tally(records.map(outcomeKey)), successRatio: records.length ? ok / records.length : 0 };
}

/** "1998/2000 ok (99.90%)". */
export const okFigure = (s: SignSummary): string => `${s.ok}/${s.total} ok (${pct(s.ok, s.total)})`;

/** Whether `r` was signed by a quorum including `id`. */
export const usedParticipant = (r: SignOutcome, id: ParticipantId): boolean => r.participants?.includes(id) ?? false;
