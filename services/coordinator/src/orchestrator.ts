/**
 * Drives one signing, as a sequence of attempts until one yields a verified signature or the request
 * can no longer succeed. A request signs with one key, known and active (the registry's
 * `signingKey`), among the signers usable for that key, each as its participant for that key. Each
 * attempt takes four named steps:
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
 * from later attempts. A signer that answers that it holds another version of the key (a refresh this
 * coordinator has not seen) is only set aside: before the next attempt every holder of the key is read
 * again, and the request goes on with the key as the registry then knows it. A request that pins its
 * participants gets no substitution: the first failure of a pinned signer ends it. Never returns a
 * signature that did not verify.
 *
 * A batch of messages ({@link Orchestrator.signBatch}) takes its first attempt jointly: one quorum,
 * a commitment per message from each of its signers, and one round 2 per signer for the whole batch;
 * each message that this does not sign continues alone, with what the joint attempt learnt.
 *
 * Commitments reach the package unvalidated (commitment-pool.ts): when a signer refuses a package as
 * holding an invalid point, or a signature does not verify, the package's commitments are validated
 * then, and whoever issued an invalid one is convicted — or, when none is, the signer that claimed so.
 * @module
 */
import {
  FrostError,
  InvalidSignatureShareError,
  SigningPackage,
  aggregate,
  type Identifier,
  type SignatureShare,
  type SigningCommitments,
} from '@hoarfrost/frost';
import { SignerCallError, encodeRound2Request, type Round2Request, type SignerErrorCode } from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import { validCommitments, type CommitmentPool, type KeyCommitmentPool } from './commitment-pool.js';
import type { CoordinatorConfig } from './config.js';
import { ApiError, type ParticipantId } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { KnownKey, SignerRegistry } from './registry.js';
import { participantId } from './request.js';
import { DeadlineCut, asCallError, failureKind, type SignerHandle } from './signer-handle.js';

export interface SignRequest {
  /** The key to sign with (default: the configured one); it must be known and active. */
  keyId?: string;
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
  keyId: string;
  /** The group public key the signature verifies under. */
  groupPublicKey: Uint8Array;
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

/** A signer of a joint attempt and its commitment for each request of the batch. */
interface BatchCommitted {
  handle: SignerHandle;
  identifier: Identifier;
  list: SigningCommitments[];
  /** Per request: came from the preprocessing pool. */
  pooled: boolean[];
}

/** Why a signer is left out of a request's later attempts (see {@link SigningState.excluded}). */
export type Exclusion = 'failed' | 'version';

/** A signer of an attempt and its identifier for the attempt's key. */
type Member = Pick<Committed, 'handle' | 'identifier'>;

/** Everything one request learns across its attempts. */
export interface SigningState {
  readonly request: SignRequest;
  /**
   * The key, as known when the request began (or when a signer said its version changed): its
   * package and the signers usable for it.
   */
  key: KnownKey;
  /** The preprocessed commitments of that key. */
  readonly pool: KeyCommitmentPool;
  readonly deadline: number;
  /** The caller pinned the participants: no substitution, no breaker gating. */
  readonly pinned: boolean;
  /** The signers this request may use. */
  eligible: readonly SignerHandle[];
  /**
   * Signers that answered, since the key was last read again, that they hold another version of it,
   * each with the version it was sent (undefined: the request named none).
   */
  readonly versionChanged: Map<SignerHandle, number | undefined>;
  /**
   * Left out of later attempts, and why: `failed` (failed, refused, cheated, or claimed a version
   * change it had not made) for the whole request; `version` only until the key is read again.
   */
  readonly excluded: Map<SignerHandle, Exclusion>;
  /** Proven to have sent invalid commitments or shares, each with its identifier when convicted. */
  readonly culprits: Map<SignerHandle, Identifier>;
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
  readonly #registry: Pick<SignerRegistry, 'handles' | 'signingKey' | 'checkMany'>;
  readonly #metrics: Pick<CoordinatorMetrics, 'retries' | 'culprits'>;
  readonly #pool: CommitmentPool;

  constructor(args: {
    config: Pick<CoordinatorConfig, 'keyId' | 'signDeadlineMs' | 'signerTimeoutMs'>;
    registry: Pick<SignerRegistry, 'handles' | 'signingKey' | 'checkMany'>;
    metrics: Pick<CoordinatorMetrics, 'retries' | 'culprits'>;
    pool: CommitmentPool;
  }) {
    this.#config = args.config;
    this.#registry = args.registry;
    this.#metrics = args.metrics;
    this.#pool = args.pool;
  }

  async sign(request: SignRequest): Promise<SignResult> {
    return this.#attempts(this.#begin(request));
  }

  /** Attempts until one yields a verified signature or the request can no longer succeed. */
  async #attempts(state: SigningState): Promise<SignResult> {
    for (;;) {
      state.attempts++;
      if (state.attempts > 1) this.#metrics.retries.inc();
      this.#checkDeadline(state);
      if (state.versionChanged.size > 0) await this.#reloadKey(state);
      try {
        const quorum = this.chooseQuorum(state);
        const committed = await this.collectCommitments(state, quorum);
        const pkg = new SigningPackage(committed.map((c) => ({ identifier: c.identifier, commitments: c.commitments })), state.request.message);
        const shares = await this.collectShares(state, committed, pkg);
        if (!shares) continue;
        const signature = this.aggregateOrBlame(state, committed, pkg, shares);
        if (!signature) continue;
        return this.#result(state, committed, signature);
      } finally {
        for (const h of state.trials) h.breaker.abandon();
        state.trials.clear();
      }
    }
  }

  #result(state: SigningState, committed: Committed[], signature: Uint8Array): SignResult {
    return {
      keyId: state.key.keyId,
      groupPublicKey: state.key.pkp.verifyingKeyBytes,
      signature,
      participants: sortIds(committed.map((c) => c.identifier)),
      culprits: this.#culpritIds(state),
      attempts: state.attempts,
    };
  }

  /**
   * Signs each request of a batch (all for one key; no pinned participants; one deadline for all). The first attempt
   * is joint: one quorum, commitments for every message from each of its signers (pooled, then one
   * round 1 per signer for the rest), and one round 2 per signer carrying every package. Each request
   * this does not sign continues alone ({@link sign}'s attempts), knowing who failed it. One outcome
   * per request, in order: its result, or the error that ended it.
   */
  async signBatch(requests: SignRequest[]): Promise<(SignResult | Error)[]> {
    const keyId = requests[0]?.keyId ?? this.#config.keyId;
    if (requests.some((r) => (r.keyId ?? this.#config.keyId) !== keyId)) throw new RangeError('the requests of one batch must name one key');
    const states = requests.map((r) => this.#begin(r));
    const done: (SignResult | undefined)[] = new Array(requests.length).fill(undefined);
    const lead = states[0]!;
    try {
      for (const s of states) s.attempts++;
      this.#checkDeadline(lead);
      const committed = await this.#collectBatchCommitments(states, this.chooseQuorum(lead));
      const pkgs = states.map((s, i) => new SigningPackage(committed.map((c) => ({ identifier: c.identifier, commitments: c.list[i]! })), s.request.message));
      const wires = pkgs.map((pkg) => encodeRound2Request(lead.key.keyId, pkg));
      const signal = this.#signal(lead);
      const answers = await Promise.all(committed.map((c) => c.handle.signMany(wires.map((w) => forSigner(w, lead.key, c.handle)), signal).finally(() => lead.trials.delete(c.handle))));
      states.forEach((state, i) => {
        const mine = committed.map((c) => ({ handle: c.handle, identifier: c.identifier, commitments: c.list[i]!, pooled: c.pooled[i]! }));
        const shares = new Map<string, SignatureShare>();
        const failures: [Committed, SignerCallError][] = [];
        mine.forEach((c, k) => {
          const a = answers[k]![i]!;
          if (a instanceof SignerCallError) failures.push([c, a]);
          else shares.set(c.identifier.toHex(), a);
        });
        if (failures.length > 0) return this.#recordShareFailures(state, mine, failures);
        const signature = this.aggregateOrBlame(state, mine, pkgs[i]!, shares);
        if (signature) done[i] = this.#result(state, mine, signature);
      });
    } catch (e) {
      // Nothing signed jointly (no quorum, the deadline): each request finds out alone.
      if (!(e instanceof ApiError)) throw e;
    } finally {
      for (const h of lead.trials) h.breaker.abandon();
      lead.trials.clear();
    }
    const outcomes = await Promise.allSettled(states.map((state, i) => done[i] ?? this.#attempts(state)));
    return outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason instanceof Error ? o.reason : new Error(String(o.reason))));
  }

  /**
   * Step 2 of a joint attempt: `states.length` commitments from each of t signers (pooled first,
   * then fetched in as few round-1 requests as the signer allows). A signer that fails is recorded
   * in every state, excluded, and replaced by the next admissible candidate.
   */
  async #collectBatchCommitments(states: SigningState[], candidates: SignerHandle[]): Promise<BatchCommitted[]> {
    const lead = states[0]!;
    const t = lead.key.pkp.minSigners;
    const n = states.length;
    const committed: BatchCommitted[] = [];
    const queue = [...candidates];
    while (committed.length < t) {
      const batch = this.#admit(lead, queue, t - committed.length);
      if (batch.length < t - committed.length) throw this.#cannotSign(lead, committed.length);
      const results = await Promise.allSettled(
        batch.map(async (h): Promise<BatchCommitted> => {
          const pooled = lead.pool.takeMany(h, n);
          const fetched = pooled.length < n ? await lead.pool.fetchMany(h, n - pooled.length, this.#signal(lead)) : [];
          return { handle: h, identifier: lead.key.holders.get(h)!, list: [...pooled, ...fetched], pooled: Array.from({ length: n }, (_, i) => i < pooled.length) };
        }),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') committed.push(r.value);
        else for (const s of states) this.#recordFailure(s, { handle: batch[i]!, identifier: s.key.holders.get(batch[i]!)! }, r.reason, false);
      });
      this.#checkDeadline(lead);
    }
    return committed;
  }

  /** The signers `request` may use for `key`. */
  #eligible(request: SignRequest, key: KnownKey): readonly SignerHandle[] {
    if (request.participants) {
      return request.participants.map((id) => {
        const h = [...key.holders].find(([, mine]) => mine.equals(id))?.[0];
        if (!h) throw new ApiError('QUORUM_UNAVAILABLE', `no reachable signer holds participant ${id}`);
        return h;
      });
    }
    // Only holders that sign with the key now (one that retired it, or has not activated it, would refuse).
    return (request.signers ?? this.#registry.handles).filter((h) => key.holders.has(h) && (h.reported.get(key.keyId)?.state ?? 'active') === 'active');
  }

  /**
   * Some signers answered that they hold another version of the key (a refresh activated since it was
   * read). Every holder of the key as this request knows it is read again, with the signers that
   * answered so (a refresh changes every holder: reading only those that answered could leave the
   * registry agreeing on the old version from the others' old reports), and the request goes on with
   * the key as the registry now knows it. A signer that still reports the version it was sent claimed
   * a change it had not made: that counts against it, and it stays out of this request. Every other
   * signer set aside for a version change is usable again when it holds the key as now known.
   */
  async #reloadKey(state: SigningState): Promise<void> {
    const claims = [...state.versionChanged];
    state.versionChanged.clear();
    // Every holder and every complainer, at most half the time left (and a signer call's timeout) so an
    // attempt can follow: a signer whose info RPC does not answer in that time is left as last read. The
    // registry's reads are single-flight, so the messages of a batch share one info RPC per signer.
    const wait = Math.max(0, Math.min(this.#config.signerTimeoutMs, (state.deadline - Date.now() - MIN_ATTEMPT_MS) / 2));
    const answered = await this.#registry.checkMany([...state.key.holders.keys(), ...claims.map(([h]) => h)], wait);
    for (const [h, sent] of claims) {
      if (!answered.has(h) || !h.healthy || (sent !== undefined && h.reported.get(state.key.keyId)?.version !== sent)) continue;
      state.request.log.warn({ signer: h.id, keyId: state.key.keyId, version: sent }, 'signer refused a version of the key it holds: signer excluded');
      state.excluded.set(h, 'failed');
      h.breaker.failure();
    }
    state.key = this.#registry.signingKey(state.key.keyId);
    state.eligible = this.#eligible(state.request, state.key);
    for (const [h, why] of state.excluded) if (why === 'version') state.excluded.delete(h);
  }

  #begin(request: SignRequest): SigningState {
    const key = this.#registry.signingKey(request.keyId ?? this.#config.keyId);
    const eligible = this.#eligible(request, key);
    return {
      request,
      key,
      versionChanged: new Map(),
      pool: this.#pool.key(key.keyId),
      deadline: request.deadline ?? Date.now() + this.#config.signDeadlineMs,
      pinned: request.participants !== undefined,
      eligible,
      excluded: new Map(),
      culprits: new Map(),
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
    const size = state.request.message.length;
    const usable = state.eligible.filter((h) => !state.excluded.has(h) && (h.maxMessageBytes === undefined || h.maxMessageBytes >= size));
    const rank = (h: SignerHandle) => (h.healthy ? 0 : 2) + (h.breaker.state === 'closed' ? 0 : 1);
    return shuffle(usable).sort((a, b) => rank(a) - rank(b));
  }

  /**
   * Step 2: one commitment from each of t signers: a pooled one when there is one, else round 1 now.
   * A signer that fails is excluded and replaced by the next admissible candidate.
   */
  async collectCommitments(state: SigningState, candidates: SignerHandle[]): Promise<Committed[]> {
    const t = state.key.pkp.minSigners;
    const committed: Committed[] = [];
    const queue = [...candidates];
    while (committed.length < t) {
      const batch = this.#admit(state, queue, t - committed.length);
      if (batch.length < t - committed.length) throw this.#cannotSign(state, committed.length);
      const results = await Promise.allSettled(batch.map((h) => this.#commitmentOf(state, h)));
      results.forEach((r, i) => {
        const h = batch[i]!;
        if (r.status === 'fulfilled') committed.push(r.value);
        else this.#recordFailure(state, { handle: h, identifier: state.key.holders.get(h)! }, r.reason, false);
      });
      this.#checkDeadline(state);
      if (state.pinned && committed.length < t) throw this.#cannotSign(state, committed.length);
    }
    return committed;
  }

  /** Step 3: round 2 with every signer of the package; undefined when a share is missing. */
  async collectShares(state: SigningState, committed: Committed[], pkg: SigningPackage): Promise<Map<string, SignatureShare> | undefined> {
    const wire = encodeRound2Request(state.key.keyId, pkg);
    const results = await Promise.allSettled(
      committed.map((c) => c.handle.sign(forSigner(wire, state.key, c.handle), this.#signal(state)).finally(() => state.trials.delete(c.handle))),
    );
    const shares = new Map<string, SignatureShare>();
    const failures: [Committed, SignerCallError][] = [];
    results.forEach((r, i) => {
      const c = committed[i]!;
      if (r.status === 'fulfilled') shares.set(c.identifier.toHex(), r.value);
      else failures.push([c, asCallError(c.handle.id, r.reason)]);
    });
    if (failures.length === 0) return shares;
    this.#recordShareFailures(state, committed, failures);
    return undefined;
  }

  /**
   * What the failed round-2 calls of one package mean: a claim of an invalid commitment is settled
   * by validating the package ({@link #settleBlame}), anything else is recorded as it is. A pinned
   * request fails on any real failure; a stale pooled commitment only costs a new attempt.
   */
  #recordShareFailures(state: SigningState, committed: Committed[], failures: [Committed, SignerCallError][]): void {
    const claims = failures.filter(([, e]) => failureKind(e) === 'blame').map(([c]) => c);
    for (const [c, e] of failures) if (failureKind(e) !== 'blame') this.#recordFailure(state, c, e, c.pooled);
    if (claims.length > 0) this.#settleBlame(state, committed, claims);
    if (state.pinned && state.eligible.some((h) => state.excluded.get(h) === 'failed')) {
      this.#checkDeadline(state); // a call cut by the deadline is the deadline's doing, not the signer's
      throw this.#cannotSign(state, 0);
    }
  }

  /**
   * `claimants` refused the package as holding an invalid point. Its commitments are validated now:
   * the issuer of each invalid one is convicted (and the claimants were right); when every one is
   * valid, the claimants lied about a package they could sign, and are convicted instead.
   */
  #settleBlame(state: SigningState, committed: Committed[], claimants: Member[]): void {
    const invalid = committed.flatMap((c) => {
      const v = validCommitments(c.commitments);
      return v instanceof FrostError ? [[c, v] as const] : [];
    });
    for (const [c, err] of invalid) {
      state.pool.flush(c.handle);
      this.#recordFailure(state, c, c.handle.convict('round1', err), c.pooled);
    }
    for (const claimant of claimants) {
      const h = claimant.handle;
      if (invalid.length > 0) {
        h.breaker.success(); // a well-formed refusal of a package it had to refuse; a new attempt may use it again
        continue;
      }
      state.request.log.warn({ signer: h.id }, 'signer refused a valid package as holding an invalid point: signer excluded');
      this.#recordFailure(state, claimant, new SignerCallError(h.id, 'SIGNER_INVALID_RESPONSE', 'refused a valid signing package as holding an invalid point'), false);
    }
  }

  /**
   * Step 4: the signature, verified (aggregate verifies it with node:crypto, independent of this
   * library's arithmetic, and only when that fails checks the shares one by one to name the
   * culprits). Undefined when shares were invalid: their signers are excluded and named.
   */
  aggregateOrBlame(state: SigningState, committed: Committed[], pkg: SigningPackage, shares: Map<string, SignatureShare>): Uint8Array | undefined {
    try {
      return aggregate(pkg, shares, state.key.pkp).toBytes();
    } catch (e) {
      // Recomputing R (the slow path) needs valid commitments: an invalid one convicts its issuer.
      if (e instanceof FrostError && !(e instanceof InvalidSignatureShareError)) {
        const before = state.culprits.size;
        this.#settleBlame(state, committed, []);
        if (state.culprits.size === before) throw e;
        if (state.pinned) throw this.#cannotSign(state, 0);
        return undefined;
      }
      if (!(e instanceof InvalidSignatureShareError)) throw e;
      for (const hex of e.culprits) {
        const c = committed.find((x) => x.identifier.toHex() === hex)!;
        this.#convict(state, c);
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
    const fromPool = state.stale.has(h) ? undefined : state.pool.take(h);
    const commitments = fromPool ?? (await state.pool.fetch(h, this.#signal(state)));
    // A commitment from round 1 settled the trial; a pooled one leaves it to round 2.
    if (!fromPool) state.trials.delete(h);
    return { handle: h, identifier: state.key.holders.get(h)!, commitments, pooled: fromPool !== undefined };
  }

  /** What a failed call of `who` means for this request (see FailureKind). */
  #recordFailure(state: SigningState, who: Member, reason: unknown, pooled: boolean): void {
    const h = who.handle;
    state.trials.delete(h);
    const e = asCallError(h.id, reason);
    const kind = failureKind(e);
    if (e.code === 'KEY_VERSION_CHANGED') {
      // The key was refreshed since this coordinator last read the signer: its shares are of another
      // version. Not a fault (unless the signer made it up): the next attempt reads the key again first
      // (#reloadKey). The key is the one the call was sent for: it changes only between attempts.
      if (!state.excluded.has(h)) state.excluded.set(h, 'version');
      state.versionChanged.set(h, sentVersion(state.key, h));
      return;
    }
    if (kind === 'stale' && pooled && !state.stale.has(h)) {
      // The signer no longer knows a preprocessed commitment (it restarted, or it expired): not a
      // fault. Drop its pool; the next attempt asks it for a fresh commitment by round 1.
      state.stale.add(h);
      state.pool.flush(h);
      return;
    }
    state.excluded.set(h, 'failed');
    if (kind === 'policy') state.refusals.set(h, e.code as SignerErrorCode);
    if (kind === 'request') state.refusedRequest.set(h, e.code);
    if (kind === 'culprit') this.#convict(state, who);
  }

  /**
   * Names `who` a culprit of this request (it proved to have sent invalid values: a share that does
   * not verify or does not decode, an invalid commitment, a false claim of one): left out of the
   * request's later attempts, counted, whichever way it was caught, so the alert on
   * `frost_coordinator_culprits_total` sees every conviction, and its breaker opened (an open breaker
   * stays open through the successes of calls admitted before, e.g. the valid items of the same batch).
   */
  #convict(state: SigningState, who: Member): void {
    state.culprits.set(who.handle, who.identifier);
    state.excluded.set(who.handle, 'failed');
    who.handle.breaker.failure(true);
    this.#metrics.culprits.inc({ signer: who.handle.id });
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
    if (state.refusals.size > 0 && (state.pinned || state.refusals.size + committed >= state.key.pkp.minSigners)) {
      return new ApiError('POLICY_REFUSED', `signers refused the message: ${[...new Set(state.refusals.values())].sort().join(', ')}`, { culprits });
    }
    return new ApiError('QUORUM_UNAVAILABLE', state.pinned ? 'a requested participant failed' : `fewer than ${state.key.pkp.minSigners} signers available`, { culprits });
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

  /** The culprits as convicted (a key read again since may no longer list them). */
  #culpritIds(state: SigningState): ParticipantId[] {
    return sortIds([...state.culprits.values()]);
  }
}

/**
 * The version a round-2 request to `h` names: the key's, to every signer that reports versions (an
 * older one, which does not, would refuse the field). Per signer, so one holder without versions does
 * not switch the check off for the others.
 */
function sentVersion(key: KnownKey, h: SignerHandle): number | undefined {
  return h.reported.get(key.keyId)?.versioned ? key.version : undefined;
}

/** The round-2 request `wire` as sent to `h`: naming the key version when `h` knows versions. */
function forSigner(wire: Round2Request, key: KnownKey, h: SignerHandle): Round2Request {
  const version = sentVersion(key, h);
  return version === undefined ? wire : { ...wire, key_version: version };
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
