/**
 * Drives one signing, as a sequence of attempts until one yields a verified signature or the request
 * can no longer succeed. Each attempt takes four named steps:
 *
 * 1. {@link Orchestrator.chooseQuorum}: the eligible signers in order of preference, healthy ones
 *    first; the first t whose breakers admit them form the quorum (a half-open breaker admits one
 *    trial at a time);
 * 2. {@link Orchestrator.collectCommitments}: a preprocessed commitment per signer, or round 1 now,
 *    replacing signers that fail by the next eligible ones;
 * 3. {@link Orchestrator.collectShares}: round 2 with every chosen signer;
 * 4. {@link Orchestrator.aggregateOrBlame}: aggregate and verify; when the result does not verify,
 *    name the signers whose shares are invalid.
 *
 * What the attempts learn (who failed, who refused by policy, who cheated, whose pooled commitments
 * went stale) is kept in one explicit {@link SigningState}; a signer that failed or cheated is excluded
 * from later attempts. A request that pins its participants gets no substitution: the first failure of
 * a pinned signer ends it. Never returns a signature that did not verify.
 * @module
 */
import {
  InvalidSignatureShareError,
  SigningPackage,
  aggregate,
  type Identifier,
  type PublicKeyPackage,
  type SignatureShare,
  type SigningCommitments,
} from '@hoarfrost/frost';
import { encodeRound2Request, type SignerErrorCode } from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import type { CommitmentPool } from './commitment-pool.js';
import type { CoordinatorConfig } from './config.js';
import { ApiError, type ParticipantId } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { SignerRegistry } from './registry.js';
import { participantId } from './request.js';
import { DeadlineCut, asCallError, failureKind, type SignerHandle } from './signer-handle.js';

export interface SignRequest {
  message: Uint8Array;
  /** Exactly these participants (no substitution on failure). */
  participants?: Identifier[];
  /** Restrict the quorum to these registered signers. */
  signers?: SignerHandle[];
  /** When the request must be answered (epoch ms; default: now + the configured deadline). */
  deadline?: number;
  log: Logger;
}

export interface SignResult {
  signature: Uint8Array;
  participants: ParticipantId[];
  /** Signers whose shares or commitments were shown invalid during this request. */
  culprits: ParticipantId[];
  attempts: number;
}

/** A chosen signer and the commitment it contributes to this attempt. */
export interface Committed {
  handle: SignerHandle;
  identifier: Identifier;
  commitments: SigningCommitments;
  /** Came from the preprocessing pool (not from a round-1 call in this request). */
  pooled: boolean;
}

/** Everything one request learns across its attempts. */
export interface SigningState {
  readonly request: SignRequest;
  readonly deadline: number;
  /** The caller pinned the participants: no substitution, no breaker gating. */
  readonly pinned: boolean;
  /** The signers this request may use. */
  readonly eligible: readonly SignerHandle[];
  /** Failed, refused or cheated in an earlier attempt. */
  readonly excluded: Set<SignerHandle>;
  /** Proven to have sent invalid commitments or shares. */
  readonly culprits: Set<SignerHandle>;
  /** Refused the message by policy, with the codes they gave. */
  readonly refusals: Map<SignerHandle, SignerErrorCode>;
  /** Their pooled commitments proved stale once: later attempts run round 1 with them. */
  readonly stale: Set<SignerHandle>;
  /** Refused the request's shape, with the codes they gave (a message over a signer's limit). */
  readonly refusedRequest: Map<SignerHandle, string>;
  /** Half-open breakers whose one trial this request holds and has not settled yet. */
  readonly trials: Set<SignerHandle>;
  attempts: number;
}

export class Orchestrator {
  readonly #config: Pick<CoordinatorConfig, 'keyId' | 'signDeadlineMs' | 'signerTimeoutMs'>;
  readonly #pkp: PublicKeyPackage;
  readonly #registry: Pick<SignerRegistry, 'handles' | 'byIdentifier'>;
  readonly #metrics: Pick<CoordinatorMetrics, 'retries' | 'culprits'>;
  readonly #pool: CommitmentPool;

  constructor(args: {
    config: Pick<CoordinatorConfig, 'keyId' | 'signDeadlineMs' | 'signerTimeoutMs'>;
    pkp: PublicKeyPackage;
    registry: Pick<SignerRegistry, 'handles' | 'byIdentifier'>;
    metrics: Pick<CoordinatorMetrics, 'retries' | 'culprits'>;
    pool: CommitmentPool;
  }) {
    this.#config = args.config;
    this.#pkp = args.pkp;
    this.#registry = args.registry;
    this.#metrics = args.metrics;
    this.#pool = args.pool;
  }

  async sign(request: SignRequest): Promise<SignResult> {
    const state = this.#begin(request);
    for (;;) {
      state.attempts++;
      if (state.attempts > 1) this.#metrics.retries.inc();
      this.#checkDeadline(state);
      try {
        const quorum = this.chooseQuorum(state);
        const committed = await this.collectCommitments(state, quorum);
        const pkg = new SigningPackage(committed.map((c) => ({ identifier: c.identifier, commitments: c.commitments })), request.message);
        const shares = await this.collectShares(state, committed, pkg);
        if (!shares) continue;
        const signature = this.aggregateOrBlame(state, committed, pkg, shares);
        if (!signature) continue;
        return {
          signature,
          participants: sortIds(committed.map((c) => c.identifier)),
          culprits: this.#culpritIds(state),
          attempts: state.attempts,
        };
      } finally {
        for (const h of state.trials) h.breaker.abandon();
        state.trials.clear();
      }
    }
  }

  #begin(request: SignRequest): SigningState {
    let eligible: readonly SignerHandle[];
    if (request.participants) {
      eligible = request.participants.map((id) => {
        const h = this.#registry.byIdentifier(id);
        if (!h) throw new ApiError('QUORUM_UNAVAILABLE', `no reachable signer holds participant ${id}`);
        return h;
      });
    } else {
      eligible = request.signers ?? this.#registry.handles;
    }
    return {
      request,
      deadline: request.deadline ?? Date.now() + this.#config.signDeadlineMs,
      pinned: request.participants !== undefined,
      eligible,
      excluded: new Set(),
      culprits: new Set(),
      refusals: new Map(),
      stale: new Set(),
      refusedRequest: new Map(),
      trials: new Set(),
      attempts: 0,
    };
  }

  /**
   * Step 1: the candidates of this attempt in order of preference: the eligible signers not excluded,
   * in random order (spreading load) with healthy and closed-breaker signers first. The first t that
   * their breakers admit form the quorum; the rest are replacements ({@link collectCommitments}).
   */
  chooseQuorum(state: SigningState): SignerHandle[] {
    const usable = state.eligible.filter((h) => !state.excluded.has(h) && h.identifier !== undefined);
    const rank = (h: SignerHandle) => (h.healthy ? 0 : 2) + (h.breaker.state === 'closed' ? 0 : 1);
    return shuffle(usable).sort((a, b) => rank(a) - rank(b));
  }

  /**
   * Step 2: one commitment from each of t signers: a pooled one when there is one, else round 1 now.
   * A signer that fails is excluded and replaced by the next admissible candidate.
   */
  async collectCommitments(state: SigningState, candidates: SignerHandle[]): Promise<Committed[]> {
    const t = this.#pkp.minSigners;
    const committed: Committed[] = [];
    const queue = [...candidates];
    while (committed.length < t) {
      const batch = this.#admit(state, queue, t - committed.length);
      if (batch.length < t - committed.length) throw this.#cannotSign(state, committed.length);
      const results = await Promise.allSettled(batch.map((h) => this.#commitmentOf(state, h)));
      results.forEach((r, i) => {
        const h = batch[i]!;
        if (r.status === 'fulfilled') committed.push(r.value);
        else this.#recordFailure(state, h, r.reason, false);
      });
      this.#checkDeadline(state);
      if (state.pinned && committed.length < t) throw this.#cannotSign(state, committed.length);
    }
    return committed;
  }

  /** Step 3: round 2 with every signer of the package; undefined when a share is missing. */
  async collectShares(state: SigningState, committed: Committed[], pkg: SigningPackage): Promise<Map<string, SignatureShare> | undefined> {
    const wire = encodeRound2Request(this.#config.keyId, pkg);
    const results = await Promise.allSettled(
      committed.map((c) => c.handle.sign(wire, this.#signal(state)).finally(() => state.trials.delete(c.handle))),
    );
    const shares = new Map<string, SignatureShare>();
    let complete = true;
    results.forEach((r, i) => {
      const c = committed[i]!;
      if (r.status === 'fulfilled') shares.set(c.identifier.toHex(), r.value);
      else {
        complete = false;
        this.#recordFailure(state, c.handle, r.reason, c.pooled);
      }
    });
    if (complete) return shares;
    // A pinned request fails on any real failure; a stale pooled commitment only costs a new attempt.
    if (state.pinned && state.eligible.some((h) => state.excluded.has(h))) {
      this.#checkDeadline(state); // a call cut by the deadline is the deadline's doing, not the signer's
      throw this.#cannotSign(state, 0);
    }
    return undefined;
  }

  /**
   * Step 4: the signature, verified (aggregate verifies it with node:crypto, independent of this
   * library's arithmetic, and only when that fails checks the shares one by one to name the
   * culprits). Undefined when shares were invalid: their signers are excluded and named.
   */
  aggregateOrBlame(state: SigningState, committed: Committed[], pkg: SigningPackage, shares: Map<string, SignatureShare>): Uint8Array | undefined {
    try {
      return aggregate(pkg, shares, this.#pkp).toBytes();
    } catch (e) {
      if (!(e instanceof InvalidSignatureShareError)) throw e;
      for (const hex of e.culprits) {
        const c = committed.find((x) => x.identifier.toHex() === hex)!;
        state.culprits.add(c.handle);
        state.excluded.add(c.handle);
        c.handle.breaker.failure(true);
        this.#metrics.culprits.inc({ signer: c.handle.id });
        state.request.log.warn({ signer: c.handle.id, identifier: c.identifier.toString() }, 'invalid signature share: signer excluded');
      }
      if (state.pinned) throw this.#cannotSign(state, 0);
      return undefined;
    }
  }

  /** Up to `n` candidates from the front of `queue` whose breakers admit a request (pinned: all). */
  #admit(state: SigningState, queue: SignerHandle[], n: number): SignerHandle[] {
    const batch: SignerHandle[] = [];
    while (batch.length < n && queue.length > 0) {
      const h = queue.shift()!;
      if (state.pinned) batch.push(h);
      else if (h.breaker.admit()) {
        if (h.breaker.state === 'half-open') state.trials.add(h);
        batch.push(h);
      }
    }
    return batch;
  }

  async #commitmentOf(state: SigningState, h: SignerHandle): Promise<Committed> {
    const fromPool = state.stale.has(h) ? undefined : this.#pool.take(h);
    const commitments = fromPool ?? (await this.#pool.fetch(h, this.#signal(state)));
    // A commitment from round 1 settled the trial; a pooled one leaves it to round 2.
    if (!fromPool) state.trials.delete(h);
    return { handle: h, identifier: h.identifier!, commitments, pooled: fromPool !== undefined };
  }

  /** What a failed call means for this request (see FailureKind). */
  #recordFailure(state: SigningState, h: SignerHandle, reason: unknown, pooled: boolean): void {
    state.trials.delete(h);
    const e = asCallError(h.id, reason);
    const kind = failureKind(e);
    if (kind === 'stale' && pooled && !state.stale.has(h)) {
      // The signer no longer knows a preprocessed commitment (it restarted, or it expired): not a
      // fault. Drop its pool; the next attempt asks it for a fresh commitment by round 1.
      state.stale.add(h);
      this.#pool.flush(h);
      return;
    }
    state.excluded.add(h);
    if (kind === 'policy') state.refusals.set(h, e.code as SignerErrorCode);
    if (kind === 'request') state.refusedRequest.set(h, e.code);
    if (kind === 'culprit') state.culprits.add(h);
  }

  /**
   * The request cannot be signed: POLICY_REFUSED when policy refusals are why (the refusing signers
   * and those still committed would have made a quorum), else QUORUM_UNAVAILABLE.
   */
  #cannotSign(state: SigningState, committed: number): ApiError {
    const culprits = this.#culpritIds(state);
    if ([...state.refusedRequest.values()].includes('PAYLOAD_TOO_LARGE')) {
      return new ApiError('MESSAGE_TOO_LARGE', 'the message is larger than the signers accept', { culprits });
    }
    if (state.refusals.size > 0 && (state.pinned || state.refusals.size + committed >= this.#pkp.minSigners)) {
      return new ApiError('POLICY_REFUSED', `signers refused the message: ${[...new Set(state.refusals.values())].sort().join(', ')}`, { culprits });
    }
    return new ApiError('QUORUM_UNAVAILABLE', state.pinned ? 'a requested participant failed' : `fewer than ${this.#pkp.minSigners} signers available`, { culprits });
  }

  /**
   * DEADLINE_EXCEEDED once less than {@link MIN_ATTEMPT_MS} remain: no attempt fits in that, and a
   * call cut by the deadline may see its timer fire a little early (libuv computes timers from the
   * loop's cached time), which must still read as the deadline, not as a signer failure.
   */
  #checkDeadline(state: SigningState): void {
    if (Date.now() >= state.deadline - MIN_ATTEMPT_MS) throw new ApiError('DEADLINE_EXCEEDED', 'signing deadline exceeded', { culprits: this.#culpritIds(state) });
  }

  /**
   * Each call ends by the signer timeout or by the request's deadline, whichever comes first; a call
   * the deadline ends is aborted with {@link DeadlineCut}, which does not count against the signer.
   */
  #signal(state: SigningState): AbortSignal {
    const remaining = state.deadline - Date.now();
    if (remaining > this.#config.signerTimeoutMs) return AbortSignal.timeout(this.#config.signerTimeoutMs);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DeadlineCut()), Math.max(1, remaining)).unref();
    return controller.signal;
  }

  #culpritIds(state: SigningState): ParticipantId[] {
    return sortIds([...state.culprits].map((h) => h.identifier!));
  }
}

/** Time below which no new attempt starts (see #checkDeadline). */
const MIN_ATTEMPT_MS = 25;

function sortIds(ids: Identifier[]): ParticipantId[] {
  return [...ids].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)).map(participantId);
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
