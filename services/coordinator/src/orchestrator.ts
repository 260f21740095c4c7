/**
 * Drives one signing: choose a quorum, round 1, round 2, aggregate (which verifies the result and, on
 * failure, names every cheating signer), and retry with another quorum that excludes failed or
 * cheating signers until the deadline. Never returns a signature that did not verify.
 * @module
 */
import {
  FrostError,
  Identifier,
  InvalidSignatureShareError,
  SignatureShare,
  SigningCommitments,
  SigningPackage,
  aggregate,
  type PublicKeyPackage,
} from '@frostd/frost';
import { SignerRpcError, type Logger } from '@frostd/transport';
import type { CoordinatorConfig } from './config.js';
import { ApiError } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { SignerHandle, SignerRegistry } from './registry.js';
import type { CommitmentPool } from './commitment-pool.js';

export interface SignRequest {
  message: Uint8Array;
  /** Exactly these participants (no substitution on failure). */
  participants?: Identifier[];
  /** Restrict the quorum to these registered signers. */
  signers?: SignerHandle[];
  log: Logger;
}

export interface SignResult {
  signature: Uint8Array;
  participants: number[];
  /** Signers whose shares or commitments were shown invalid during this request. */
  culprits: number[];
  attempts: number;
}

interface Committed {
  handle: SignerHandle;
  identifier: Identifier;
  commitments: SigningCommitments;
  /** Came from the preprocessing pool (not from a round-1 call in this request). */
  pooled?: boolean;
}

const STALE_COMMITMENT = new Set(['UNKNOWN_COMMITMENT', 'COMMITMENT_EXPIRED']);


const idNumber = (i: Identifier): number => i.toNumber() ?? -1;

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export class Orchestrator {
  readonly #config: Readonly<CoordinatorConfig>;
  readonly #pkp: PublicKeyPackage;
  readonly #registry: SignerRegistry;
  readonly #metrics: CoordinatorMetrics;

  readonly #pool: CommitmentPool | undefined;

  constructor(args: { config: Readonly<CoordinatorConfig>; pkp: PublicKeyPackage; registry: SignerRegistry; metrics: CoordinatorMetrics; pool?: CommitmentPool }) {
    this.#config = args.config;
    this.#pkp = args.pkp;
    this.#registry = args.registry;
    this.#metrics = args.metrics;
    this.#pool = args.pool;
  }

  async sign(req: SignRequest): Promise<SignResult> {
    const t = this.#pkp.minSigners;
    const deadline = Date.now() + this.#config.signDeadlineMs;
    const fixed = req.participants !== undefined;
    const excluded = new Set<SignerHandle>();
    const culprits = new Set<number>();
    const refusals: string[] = [];
    const stale = new Set<SignerHandle>();
    let pool: SignerHandle[];
    if (req.participants) {
      pool = req.participants.map((id) => {
        const h = this.#registry.byIdentifier(id);
        if (!h) throw new ApiError('QUORUM_UNAVAILABLE', `no reachable signer holds participant ${id}`);
        return h;
      });
    } else {
      pool = req.signers ?? this.#registry.handles;
    }

    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.#metrics.retries.inc();
      if (Date.now() >= deadline) throw this.#fail('DEADLINE_EXCEEDED', 'signing deadline exceeded', culprits);
      const candidates = this.#order(pool.filter((h) => !excluded.has(h) && h.identifier !== undefined && (fixed || h.breaker.state !== 'open')));

      // Round 1: t commitments, replacing signers that fail with the next candidates.
      const committed: Committed[] = [];
      while (committed.length < t) {
        const batch = candidates.splice(0, t - committed.length);
        if (batch.length < t - committed.length) {
          if (refusals.length > 0 && refusals.length + committed.length >= t) {
            throw new ApiError('POLICY_REFUSED', `signers refused the message: ${[...new Set(refusals)].join(', ')}`, { culprits: [...culprits] });
          }
          throw this.#fail('QUORUM_UNAVAILABLE', `fewer than ${t} signers available`, culprits);
        }
        const results = await Promise.allSettled(batch.map((h) => this.#round1(h, deadline, req.log, stale.has(h))));
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') committed.push(r.value);
          else {
            excluded.add(batch[i]!);
            if (r.reason instanceof FrostError) culprits.add(idNumber(batch[i]!.identifier!));
          }
        });
        if (fixed && committed.length < t) throw this.#fail('QUORUM_UNAVAILABLE', 'a requested participant failed', culprits);
        if (Date.now() >= deadline) throw this.#fail('DEADLINE_EXCEEDED', 'signing deadline exceeded', culprits);
      }

      // Round 2.
      const pkg = new SigningPackage(committed.map((c) => ({ identifier: c.identifier, commitments: c.commitments })), req.message);
      const wire = {
        key_id: this.#config.keyId,
        message: req.message,
        commitments: committed.map((c) => ({ identifier: c.identifier.toBytes(), hiding: c.commitments.hidingBytes, binding: c.commitments.bindingBytes })),
      };
      const results = await Promise.allSettled(committed.map((c) => this.#round2(c, wire, deadline, req.log)));
      const shares = new Map<string, SignatureShare>();
      let failed = false;
      let onlyStale = true;
      results.forEach((r, i) => {
        const c = committed[i]!;
        if (r.status === 'fulfilled') {
          shares.set(c.identifier.toHex(), r.value);
        }
        else {
          failed = true; // any missing share means a new attempt (with the failed signer excluded, unless stale)
          const code = (r.reason as { code?: string }).code ?? '';
          if (STALE_COMMITMENT.has(code) && c.pooled && !stale.has(c.handle)) {
            // The signer no longer knows a preprocessed commitment (it restarted, or it expired):
            // not a fault. Drop its pool; the retry asks it for a fresh commitment by round 1.
            stale.add(c.handle);
            this.#pool?.flush(c.handle);
            return;
          }
          onlyStale = false;
          excluded.add(c.handle);
          if (code.startsWith('POLICY_')) refusals.push(code);
          if (r.reason instanceof FrostError) culprits.add(idNumber(c.identifier));
        }
      });
      if (failed) {
        if (fixed && !onlyStale) {
          if (refusals.length > 0) throw new ApiError('POLICY_REFUSED', `signers refused the message: ${[...new Set(refusals)].join(', ')}`, { culprits: [...culprits] });
          throw this.#fail('QUORUM_UNAVAILABLE', 'a requested participant failed in round 2', culprits);
        }
        continue;
      }

      // Aggregate: verifies the result with node:crypto (OpenSSL, independent of this library's
      // arithmetic) and only when that fails checks the shares one by one to name the culprits. The
      // returned signature has therefore always been verified.
      let signature: Uint8Array;
      try {
        signature = aggregate(pkg, shares, this.#pkp).toBytes();
      } catch (e) {
        if (!(e instanceof InvalidSignatureShareError)) throw e;
        for (const hex of e.culprits) {
          const c = committed.find((x) => x.identifier.toHex() === hex)!;
          culprits.add(idNumber(c.identifier));
          excluded.add(c.handle);
          c.handle.breaker.failure(true);
          this.#metrics.culprits.inc({ signer: c.handle.id });
          req.log.warn({ signer: c.handle.id, identifier: c.identifier.toString() }, 'invalid signature share: signer excluded');
        }
        if (fixed) throw this.#fail('QUORUM_UNAVAILABLE', 'a requested participant returned an invalid share', culprits);
        continue;
      }
      return {
        signature,
        participants: committed.map((c) => idNumber(c.identifier)).sort((a, b) => a - b),
        culprits: [...culprits].sort((a, b) => a - b),
        attempts: attempt,
      };
    }
  }

  #fail(code: 'QUORUM_UNAVAILABLE' | 'DEADLINE_EXCEEDED', message: string, culprits: Set<number>): ApiError {
    return new ApiError(code, message, { culprits: [...culprits].sort((a, b) => a - b) });
  }

  /** Healthy signers with closed breakers first; random order within a class spreads load. */
  #order(handles: SignerHandle[]): SignerHandle[] {
    const rank = (h: SignerHandle) => (h.healthy ? 0 : 2) + (h.breaker.state === 'closed' ? 0 : 1);
    return shuffle([...handles]).sort((a, b) => rank(a) - rank(b));
  }

  #signal(deadline: number): AbortSignal {
    return AbortSignal.timeout(Math.max(1, Math.min(this.#config.signerTimeoutMs, deadline - Date.now())));
  }

  async #timed<T>(h: SignerHandle, rpc: 'round1' | 'round2', f: () => Promise<T>, log: Logger): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const v = await f();
      this.#metrics.signerLatency.observe({ signer: h.id, rpc }, Number(process.hrtime.bigint() - start) / 1e9);
      this.#metrics.signerRequests.inc({ signer: h.id, rpc, outcome: 'ok' });
      h.breaker.success();
      return v;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ERROR';
      this.#metrics.signerRequests.inc({ signer: h.id, rpc, outcome: code });
      // A policy refusal is the signer doing its job, not a fault.
      if (!code.startsWith('POLICY_') && !STALE_COMMITMENT.has(code)) h.breaker.failure(e instanceof FrostError);
      log.warn({ signer: h.id, rpc, code, status: (e as SignerRpcError).status }, 'signer request failed');
      throw e;
    }
  }

  #round1(h: SignerHandle, deadline: number, log: Logger, skipPool = false): Promise<Committed> {
    let pooled: SigningCommitments | undefined;
    try {
      pooled = skipPool ? undefined : this.#pool?.take(h);
    } catch (e) {
      // An invalid pooled commitment: the signer issued it, so it is the culprit.
      h.breaker.failure(true);
      this.#metrics.signerRequests.inc({ signer: h.id, rpc: 'round1', outcome: (e as { code?: string }).code ?? 'INVALID_POINT' });
      log.warn({ signer: h.id }, 'signer issued an invalid commitment');
      return Promise.reject(e);
    }
    if (pooled) return Promise.resolve({ handle: h, identifier: h.identifier!, commitments: pooled, pooled: true });
    return this.#timed(h, 'round1', async () => {
      const r = await h.client.round1({ key_id: this.#config.keyId, count: 1 }, this.#signal(deadline));
      const identifier = Identifier.fromBytes(r.identifier);
      if (!h.identifier || !identifier.equals(h.identifier)) throw new SignerRpcError(h.url, 'SIGNER_IDENTITY_CHANGED', 502, 'signer answered with another identifier');
      const c = r.commitments[0]!;
      // Invalid points here are the signer's fault (FrostError → culprit).
      return { handle: h, identifier, commitments: SigningCommitments.fromBytes(c.hiding, c.binding) };
    }, log);
  }

  #round2(c: Committed, wire: Parameters<SignerHandle['client']['round2']>[0], deadline: number, log: Logger): Promise<SignatureShare> {
    return this.#timed(c.handle, 'round2', async () => {
      const r = await c.handle.client.round2(wire, this.#signal(deadline));
      if (!Identifier.fromBytes(r.identifier).equals(c.identifier)) throw new SignerRpcError(c.handle.url, 'SIGNER_IDENTITY_CHANGED', 502, 'share from another identifier');
      return SignatureShare.fromBytes(r.share, r.group_commitment);
    }, log);
  }
}
