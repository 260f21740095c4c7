/**
 * One deployment per scenario: a fresh 2-of-3 dev environment (its own CA, keys and certificates) in a
 * temporary directory, the cluster as real processes on 127.0.0.1, a caller of the coordinator, and
 * what the scenarios read from the services: circuit-breaker changes and /sign durations from the
 * coordinator's log, samples from its /metrics, and which participant each signer is.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Agent } from 'undici';
import { KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { createDevEnvironment, startCluster, type Cluster, type ClusterOptions, type DevEnvironment } from '@hoarfrost/testkit';
import { metricValue } from '@hoarfrost/testkit/support';
import { callerAgent, type ParticipantId, type SignTarget } from './client.js';
import type { ScenarioContext } from './scenario.js';

/** A circuit breaker of the coordinator changed state (from its log). */
export interface BreakerEvent {
  at: number;
  signer: string;
  state: string;
}

export interface Deployment {
  env: DevEnvironment;
  cluster: Cluster;
  /** The group's Ed25519 public key, read from the environment (not from the service's answers). */
  groupKey: Uint8Array;
  /** The normal caller: the environment's caller certificate. */
  caller: Agent;
  target: SignTarget;
  breakerEvents: BreakerEvent[];
  /** Duration of every /sign as the coordinator's audit line reports it (ms). */
  serverSignMs: number[];
  /** Breaker openings seen so far (log). */
  breakerOpenings(): number;
  /** How the public API names the participant signer `id` holds. */
  participantOf(id: string): ParticipantId;
  /** The coordinator's /metrics text. */
  metrics(): Promise<string>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/** A participant identifier (32 bytes little-endian, hex) as the API names it: its number up to 65535. */
function participantFromHex(hex: string): ParticipantId {
  const n = BigInt('0x' + (Buffer.from(hex, 'hex').reverse().toString('hex') || '0'));
  return n <= 65535n ? Number(n) : hex;
}

/**
 * Creates the environment and starts the cluster; `setup` may add cluster options once the
 * environment exists (a proxy in front of a signer, another caller's certificate, service settings).
 */
export async function deploy(
  name: string,
  ctx: Pick<ScenarioContext, 'services'>,
  setup: (env: DevEnvironment) => ClusterOptions | Promise<ClusterOptions> = () => ({}),
): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), `frost-chaos-${name}-`));
  try {
    const env = await createDevEnvironment(dir, { threshold: 2, signers: 3 });
    const options = await setup(env);
    const breakerEvents: BreakerEvent[] = [];
    const serverSignMs: number[] = [];
    const onLine = (service: string, line: string) => {
      options.onLine?.(service, line);
      if (service !== 'coordinator' || !(line.includes('"breaker"') || line.includes('"audit"'))) return;
      try {
        const rec = JSON.parse(line) as { signer?: unknown; breaker?: unknown; audit?: { durationMs?: unknown } };
        if (typeof rec.signer === 'string' && typeof rec.breaker === 'string') breakerEvents.push({ at: performance.now(), signer: rec.signer, state: rec.breaker });
        if (typeof rec.audit?.durationMs === 'number') serverSignMs.push(rec.audit.durationMs);
      } catch {
        /* not a log record */
      }
    };
    const cluster = await startCluster(env, { ...ctx.services, ...options, onLine });
    const groupKey = Buffer.from((JSON.parse(readFileSync(env.publicKeyPackageFile, 'utf8')) as { verifying_key: string }).verifying_key, 'hex');
    const caller = callerAgent(env);
    const participants = new Map(
      env.signers.map((s) => {
        const kp = JSON.parse(readFileSync(join(s.keyDir, env.keyId, KEY_PACKAGE_FILE), 'utf8')) as { identifier: string };
        return [s.id, participantFromHex(kp.identifier)] as const;
      }),
    );
    const metrics = async () => (await fetch(`${cluster.opsUrl}/metrics`)).text();
    return {
      env,
      cluster,
      groupKey,
      caller,
      target: { agent: caller, url: cluster.url, groupKey },
      breakerEvents,
      serverSignMs,
      breakerOpenings: () => breakerEvents.filter((e) => e.state === 'open').length,
      participantOf(id) {
        const p = participants.get(id);
        if (p === undefined) throw new Error(`no signer ${id}`);
        return p;
      },
      metrics,
      metric: async (name, labels = {}) => metricValue(await metrics(), name, labels),
      async close() {
        await caller.destroy();
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
